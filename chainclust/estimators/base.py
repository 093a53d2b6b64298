"""What every chainclust estimator shares: parameters, validation, model files."""
import hashlib
import inspect
import json
import os
import shutil
import tempfile

import chainer
from chainer import serializers
import numpy

from chainclust import metrics
from chainclust._version import __version__
from chainclust.datasets import check_samples
from chainclust.inference import batched_forward
from chainclust.errors import ModelFileError, NotFittedError
from chainclust.io import atomic_path, load_npz, write_json

MODEL_JSON = 'model.json'
MODEL_NPZ = 'model.npz'
FORMAT = 'chainclust-model'
FORMAT_VERSION = 1


def fingerprint(x):
    """A short SHA-256 of an array's shape, dtype and bytes (identifies data)."""
    h = hashlib.sha256()
    h.update(repr((x.shape, str(x.dtype))).encode())
    h.update(numpy.ascontiguousarray(x).tobytes())
    return h.hexdigest()[:16]


class ClusteringEstimator(object):
    """Base class in scikit-learn's shape.

    ``__init__`` of a subclass only stores its keyword arguments; ``fit`` sets
    ``net_`` (the Chainer network), ``labels_``, ``metrics_`` (when labels are
    given) and ``input_shape_``. A subclass defines ``method``,
    ``_check_params(n)``, ``_build_net()``, ``_train(net, x, y, out, device)``
    and ``predict``; its network has ``normalize`` and ``embed``.
    """

    method = None

    def get_params(self):
        """The constructor's keyword arguments and their current values."""
        names = [p for p in inspect.signature(type(self).__init__).parameters
                 if p != 'self']
        return {name: getattr(self, name) for name in names}

    # -- fitting -----------------------------------------------------------
    def fit(self, X, y=None):
        """Cluster ``X`` ``(N, ...)``; ``y`` (optional) is used only for logged metrics."""
        from chainclust.datasets import check_labels
        x = check_samples(X, name='X')
        if y is not None:
            y = check_labels(y, len(x), name='y')
        self.input_shape_ = tuple(x.shape[1:])
        self.input_dtype_ = str(x.dtype)
        self.data_info_ = {'n_samples': int(len(x)), 'fingerprint': fingerprint(x)}
        self._check_params(len(x))
        device = self._device()
        device.use()
        numpy.random.seed(self.random_state)  # Chainer's initializers and dropout
        if device.xp is not numpy:
            device.xp.random.seed(self.random_state)
        net = self._build_net()
        net.normalize.fit(x, self.normalize)
        self.normalization_ = net.normalize.mode
        net.to_device(device)
        self.net_ = net
        out = self.out or tempfile.mkdtemp(prefix='chainclust-')
        try:
            self._train(net, x, y, out, device)
        finally:
            if self.out is None:
                shutil.rmtree(out, ignore_errors=True)
        self.labels_ = self.predict(x)
        self.metrics_ = None if y is None else metrics.evaluate(y, self.labels_)
        self._after_fit()
        if self.out is not None:
            self.save(self.out)
        return self

    def _after_fit(self):
        """Hook for attributes derived from ``labels_``."""

    def _run_phase(self, loss, data, out, stop_trigger, optimizer, **kwargs):
        """One resumable training phase with this estimator's batch size, device,
        seed and verbosity (see :func:`chainclust.training.run_phase`)."""
        from chainclust.training import run_phase
        return run_phase(loss, data, out, stop_trigger, optimizer, self.batch_size,
                         self._device(), seed=self.random_state, verbose=self.verbose,
                         **kwargs)

    def fit_predict(self, X, y=None):
        """``fit(X, y)`` then the labels of ``X``, ``(N,)`` int64."""
        return self.fit(X, y).labels_

    # -- inference ---------------------------------------------------------
    def _check_fitted(self):
        if getattr(self, 'net_', None) is None:
            raise NotFittedError('this %s is not fitted yet; call fit first'
                                 % type(self).__name__)

    def _check_input(self, X):
        self._check_fitted()
        return check_samples(X, name='X', sample_shape=self.input_shape_)

    def _device(self):
        return chainer.get_device(self.device)

    def _forward(self, X, fn=None):
        """Validate ``X`` and apply ``fn`` (the network by default) in batches."""
        x = self._check_input(X)
        return batched_forward(fn or self.net_, x, device=self._device())

    def transform(self, X):
        """Embeddings (encoder outputs) ``(N, d)`` of samples ``X`` ``(N, ...)``."""
        return self._forward(X, self.net_.embed)

    def assignment_outputs(self, x):
        """The named Variables of the ONNX assigner for a float32 batch ``x``.

        Returns a dict with ``'proba'`` ``(N, K)`` or ``'distance'`` ``(N, K)``,
        and ``'embedding'`` ``(N, d)``; the exporter adds ``label``.
        """
        raise NotImplementedError

    def normalization_info(self):
        """How raw inputs are normalised (JSON-serialisable), for the metadata."""
        net = self.net_
        offset = chainer.backend.CpuDevice().send(net.normalize.offset)
        scale = chainer.backend.CpuDevice().send(net.normalize.scale)
        info = {'mode': getattr(self, 'normalization_', None),
                'formula': '(flatten(x) - offset) * scale'}
        for name, values in (('offset', offset), ('scale', scale)):
            info[name] = (float(values[0]) if (values == values[0]).all()
                          else 'per-feature')
        return info

    # -- persistence -------------------------------------------------------
    def _extra_state(self):
        """JSON-serialisable state beyond the parameters (subclasses extend)."""
        state = {'normalization': {'mode': self.normalization_}}
        if getattr(self, 'metrics_', None) is not None:
            state['metrics'] = self.metrics_
        return state

    def save(self, directory):
        """Write ``model.npz`` and ``model.json`` into ``directory`` atomically."""
        self._check_fitted()
        os.makedirs(directory, exist_ok=True)
        with atomic_path(os.path.join(directory, MODEL_NPZ)) as tmp:
            serializers.save_npz(tmp, self.net_)
        params = self.get_params()
        for key in ('out', 'verbose'):
            params.pop(key, None)
        for key, value in params.items():
            if isinstance(value, tuple):
                params[key] = list(value)
        info = {'format': FORMAT, 'format_version': FORMAT_VERSION,
                'chainclust_version': __version__, 'method': self.method,
                'params': params,
                'input': {'shape': list(self.input_shape_), 'dtype': self.input_dtype_},
                'data': self.data_info_}
        info.update(self._extra_state())
        write_json(os.path.join(directory, MODEL_JSON), info)

    @classmethod
    def load(cls, directory, device=None):
        """Rebuild a fitted estimator from a folder written by :meth:`save`."""
        info = read_model_info(directory)
        if info['method'] != cls.method:
            raise ModelFileError('%s holds a %s model, not %s'
                                 % (directory, info['method'], cls.method))
        params = dict(info['params'])
        if device is not None:
            params['device'] = device
        for key, value in params.items():
            if isinstance(value, list):
                params[key] = tuple(value)
        try:
            self = cls(**params)
        except TypeError as e:
            raise ModelFileError('%s: parameters do not fit %s (%s)'
                                 % (directory, cls.__name__, e))
        self.input_shape_ = tuple(info['input']['shape'])
        self.input_dtype_ = info['input']['dtype']
        self.data_info_ = info.get('data', {})
        self._restore_state(info)
        net = self._build_net()
        load_npz(os.path.join(directory, MODEL_NPZ), net)
        net.to_device(self._device())
        self.net_ = net
        return self

    def _restore_state(self, info):
        self.normalization_ = info.get('normalization', {}).get('mode')
        self.metrics_ = info.get('metrics')


def read_model_info(directory):
    """Read and check ``model.json`` of a result folder; return it as a dict."""
    path = os.path.join(directory, MODEL_JSON)
    if not os.path.isdir(directory):
        raise ModelFileError('no such result folder: %s' % directory)
    if not os.path.exists(path):
        raise ModelFileError('%s is not a chainclust result folder (no %s)'
                             % (directory, MODEL_JSON))
    try:
        with open(path) as f:
            info = json.load(f)
    except (ValueError, UnicodeDecodeError) as e:
        raise ModelFileError('%s is corrupt (%s)' % (path, e))
    if not isinstance(info, dict) or info.get('format') != FORMAT:
        raise ModelFileError('%s is not a chainclust model description' % path)
    if info.get('format_version') != FORMAT_VERSION:
        raise ModelFileError('%s has format version %r; this chainclust reads %d'
                             % (path, info.get('format_version'), FORMAT_VERSION))
    for key in ('method', 'params', 'input'):
        if key not in info:
            raise ModelFileError('%s lacks %r' % (path, key))
    if not os.path.exists(os.path.join(directory, MODEL_NPZ)):
        raise ModelFileError('%s has no %s' % (directory, MODEL_NPZ))
    return info
