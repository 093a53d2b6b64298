"""The protocol every clustering network follows.

A :class:`ClusteringNet` owns the input preprocessing (recorded normalisation
and layout), so that the estimator base, the exporter and ``evaluate`` can
treat every method alike through three calls:

* ``preprocess(x)``: raw samples ``(N, *sample_shape)`` -> normalised network
  input, flat ``(N, D)`` or image ``(N, C, H, W)``;
* ``embed(x)``: raw samples -> embeddings ``(N, d)``;
* ``assign(x)``: raw samples -> the named outputs of the assigner, a dict with
  ``score`` (``'proba'`` or ``'distance'``, ``(N, K)``) and ``'embedding'``.
"""
import chainer
import chainer.functions as F
import numpy

from chainclust.links import Normalization

LAYOUTS = ('flat', 'image')
SCORES = ('proba', 'distance')
CHANNELS = (1, 3, 4)


def image_layout(sample_shape):
    """How samples of ``sample_shape`` become ``(C, H, W)`` images.

    Args:
        sample_shape (tuple): ``(H, W)``, ``(H, W, C)`` (channels last, as image
            files and NumPy users store them) or ``(C, H, W)``, with ``C`` in
            1, 3, 4.

    Returns:
        tuple: ``(stored, axes)``: the sample shape as stored and the
        transpose (batch axis included) that gives ``(N, C, H, W)``.

    Raises:
        ValueError: the shape is not an image shape.
    """
    shape = tuple(int(s) for s in sample_shape)
    if len(shape) == 2 and min(shape) > 1:
        return (1,) + shape, (0, 1, 2, 3)
    if len(shape) == 3 and shape[2] in CHANNELS and min(shape[:2]) > 1:
        return shape, (0, 3, 1, 2)
    if len(shape) == 3 and shape[0] in CHANNELS and min(shape[1:]) > 1:
        return shape, (0, 1, 2, 3)
    raise ValueError('samples of shape %s are not images (H, W), (H, W, C) or (C, H, W) '
                     'with C in 1, 3, 4' % (shape,))


class ClusteringNet(chainer.Chain):
    """Base class of the networks of every chainclust method.

    Subclasses set ``score`` (``'proba'``: higher is closer, the label is the
    argmax; ``'distance'``: the label is the argmin), implement
    :meth:`encode` (network input -> embedding) and :meth:`assign_embedded`
    (embedding -> score), and add their links under ``init_scope``.

    Args:
        sample_shape (tuple): the shape of one raw sample.
        layout (str): ``'flat'`` (``(N, D)`` network input) or ``'image'``
            (``(N, C, H, W)``; see :func:`image_layout`).
    """

    score = None

    def __init__(self, sample_shape, layout='flat'):
        super(ClusteringNet, self).__init__()
        if layout not in LAYOUTS:
            raise ValueError('layout must be one of %s, got %r' % (LAYOUTS, layout))
        self.sample_shape = tuple(int(s) for s in sample_shape)
        self.layout = layout
        if layout == 'image':
            self._stored, self._axes = image_layout(self.sample_shape)
        with self.init_scope():
            self.normalize = Normalization(int(numpy.prod(self.sample_shape)))

    @property
    def n_features(self):
        return self.normalize.n_features

    def preprocess(self, x):
        """Raw samples ``(N, *sample_shape)`` float32 -> ``(N, D)`` or ``(N, C, H, W)``."""
        h = self.normalize(x)
        if self.layout == 'flat':
            return h
        h = F.reshape(h, (h.shape[0],) + self._stored)
        if self._axes != (0, 1, 2, 3):
            h = F.transpose(h, self._axes)
        return h

    @property
    def image_shape(self):
        """``(C, H, W)`` of the network input (``'image'`` layout only)."""
        return tuple(self._stored[a - 1] for a in self._axes[1:])

    def postprocess(self, h):
        """The inverse of :meth:`preprocess`: network-space ``h`` -> raw ``(N, *sample_shape)``."""
        if self.layout == 'image' and self._axes != (0, 1, 2, 3):
            h = F.transpose(h, tuple(int(a) for a in numpy.argsort(self._axes)))
        h = self.normalize.inverse(F.reshape(h, (h.shape[0], self.n_features)))
        return F.reshape(h, (h.shape[0],) + self.sample_shape)

    def encode(self, h):
        """Preprocessed input -> embedding ``(N, d)``."""
        raise NotImplementedError

    def assign_embedded(self, z):
        """Embedding ``(N, d)`` -> the score ``(N, K)`` named by ``score``."""
        raise NotImplementedError

    def embed(self, x):
        """Raw samples ``(N, *sample_shape)`` -> embeddings ``(N, d)``."""
        return self.encode(self.preprocess(x))

    def assign(self, x):
        """Raw samples -> ``{score: (N, K), 'embedding': (N, d)}``."""
        z = self.embed(x)
        return {self.score: self.assign_embedded(z), 'embedding': z}

    def forward(self, x):
        """Raw samples -> the score ``(N, K)``."""
        return self.assign_embedded(self.embed(x))

    def labels_from(self, score):
        """Cluster labels ``(N,)`` int64 from a score array ``(N, K)``."""
        pick = numpy.argmax if self.score == 'proba' else numpy.argmin
        return pick(score, axis=1).astype(numpy.int64)

    def normalization_info(self):
        """How raw inputs are normalised (JSON-serialisable), for model metadata."""
        cpu = chainer.backend.CpuDevice()
        info = {'mode': getattr(self.normalize, 'mode', None),
                'formula': '(flatten(x) - offset) * scale',
                'layout': self.layout}
        for name in ('offset', 'scale'):
            values = cpu.send(getattr(self.normalize, name))
            info[name] = (float(values[0]) if (values == values[0]).all()
                          else 'per-feature')
        return info
