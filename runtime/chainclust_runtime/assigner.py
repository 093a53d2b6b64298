"""Label new data with an exported chainclust ONNX model (onnxruntime only)."""
import json
import os

import numpy

from chainclust_runtime.errors import ChainclustError, ModelFileError
from chainclust_runtime.validation import check_model_input, check_samples

FORMAT = 'chainclust-assigner'


def import_onnxruntime():
    """onnxruntime, or a one-line error saying which extra installs it."""
    try:
        import onnxruntime
    except ImportError:
        raise ChainclustError("onnxruntime is not installed; install an extra: pip install "
                              "'chainclust[cpu]' (or [gpu]), or 'chainclust-runtime[cpu]'")
    return onnxruntime


def _providers():
    onnxruntime = import_onnxruntime()
    available = onnxruntime.get_available_providers()
    return [p for p in ('CUDAExecutionProvider', 'CPUExecutionProvider') if p in available]


class Assigner(object):
    """Cluster assignments from an exported model.

    Args:
        path (str): an ``.onnx`` file written by ``chainclust export``.
        providers (list or None): onnxruntime execution providers; CUDA when
            available, else CPU.
        threads (int or None): intra-op threads (onnxruntime's default if None).

    Attributes:
        n_clusters (int): K.
        metadata (dict): the model's chainclust metadata (method, input shape and
            dtype, normalisation, training-data fingerprint, metrics).
        input_shape (tuple): shape of one sample.
        input_dtype (numpy.dtype): dtype the model was trained on.
        score (str): ``'proba'`` or ``'distance'``.
    """

    def __init__(self, path, providers=None, threads=None):
        onnxruntime = import_onnxruntime()
        path = os.fspath(path)
        if not os.path.isfile(path):
            raise ModelFileError('no such model file: %s' % path)
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3  # quiet: no CUDA fallback warnings
        if threads:
            options.intra_op_num_threads = int(threads)
        try:
            self.session = onnxruntime.InferenceSession(
                path, options, providers=providers or _providers())
        except Exception as e:  # onnxruntime raises its own Fail/InvalidGraph types
            raise ModelFileError('%s is not a valid ONNX model (%s)'
                                 % (path, str(e).splitlines()[0][:200]))
        props = self.session.get_modelmeta().custom_metadata_map
        if props.get('chainclust.format') != FORMAT:
            raise ModelFileError('%s is an ONNX model but not a chainclust assigner'
                                 % path)
        try:
            self.metadata = {key.split('.', 1)[1]: value for key, value in props.items()}
            for key in ('input_shape', 'normalization', 'data', 'metrics'):
                self.metadata[key] = json.loads(self.metadata[key])
            self.n_clusters = int(self.metadata['n_clusters'])
            self.input_shape = tuple(self.metadata['input_shape'])
            self.input_dtype = numpy.dtype(self.metadata['input_dtype'])
            self.score = self.metadata['score']
        except (KeyError, ValueError, TypeError) as e:
            raise ModelFileError('%s: damaged chainclust metadata (%s)' % (path, e))
        self.path = path
        self._check_graph()

    def _check_graph(self):
        """The graph must be what the metadata says (forged or edited files are refused)."""
        inputs, outputs = self.session.get_inputs(), self.session.get_outputs()
        problems = []
        if len(inputs) != 1 or inputs[0].name != 'input':
            problems.append('one input named "input" expected')
        else:
            shape = tuple(inputs[0].shape[1:])
            if shape != self.input_shape:
                problems.append('input shape %s, metadata says %s' % (shape, self.input_shape))
            onnx_type = 'tensor(%s)' % {'float32': 'float', 'float64': 'double'}.get(
                self.input_dtype.name, self.input_dtype.name)
            if inputs[0].type != onnx_type:
                problems.append('input type %s, metadata says %s' % (inputs[0].type,
                                                                      self.input_dtype))
        names = {o.name: o for o in outputs}
        if self.score not in ('proba', 'distance'):
            problems.append('score %r is neither proba nor distance' % self.score)
        elif not {'label', self.score, 'embedding'} <= set(names):
            problems.append('outputs %s, expected label, %s and embedding'
                            % (sorted(names), self.score))
        elif names[self.score].shape[1:] != [self.n_clusters]:
            problems.append('%s has %s clusters, metadata says %d'
                            % (self.score, names[self.score].shape[1:], self.n_clusters))
        if problems:
            raise ModelFileError('%s: the graph does not match its chainclust metadata (%s)'
                                 % (self.path, '; '.join(problems)))

    def _check(self, X, name='X', first_row=0):
        if getattr(X, 'shape', None) == tuple(self.input_shape):  # one sample, e.g. one image
            X = numpy.asarray(X)[None]
        x = check_samples(X, name=name, sample_shape=self.input_shape, first_row=first_row)
        return numpy.ascontiguousarray(check_model_input(x, self.input_dtype, name=name))

    def run(self, X, outputs=None):
        """All (or the named) outputs for ``X`` ``(N, *input_shape)`` as a dict.

        A single sample (``X`` of shape ``input_shape``, e.g. one image) is a
        batch of one: the outputs have a batch axis of length 1.
        """
        names = outputs or ['label', self.score, 'embedding']
        values = self.session.run(names, {'input': self._check(X)})
        return dict(zip(names, values))

    def _labels(self, chunk, name, first_row):
        """Labels of one chunk of a file; messages give the file and the row in it."""
        return self.session.run(['label'], {'input': self._check(chunk, name, first_row)})[0]

    def predict(self, X):
        """Cluster labels, int64 ``(N,)``."""
        return self.run(X, ['label'])['label']

    def predict_proba(self, X):
        """Soft assignments ``(N, K)`` (methods that define them)."""
        if self.score != 'proba':
            raise ModelFileError('this %s model gives distances, not probabilities; '
                                 'use distances()' % self.metadata['method'])
        return self.run(X, ['proba'])['proba']

    def distances(self, X):
        """Distances to every code ``(N, K)`` (codebook methods)."""
        if self.score != 'distance':
            raise ModelFileError('this %s model gives probabilities, not distances; '
                                 'use predict_proba()' % self.metadata['method'])
        return self.run(X, ['distance'])['distance']

    def transform(self, X):
        """Embeddings ``(N, d)``."""
        return self.run(X, ['embedding'])['embedding']
