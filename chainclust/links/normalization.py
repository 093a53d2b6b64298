"""Input preprocessing as a Link, so it is saved with the model and exported."""
import chainer
import chainer.functions as F
import numpy

from chainclust.errors import DataError

MODES = ('auto', 'scale255', 'minmax', 'standard', 'none')


class Normalization(chainer.Link):
    """Flatten samples and apply ``(x - offset) * scale`` per feature.

    Args:
        n_features (int): features per sample after flattening.

    The persistent arrays ``offset`` and ``scale`` (float32, ``(n_features,)``)
    are set by :meth:`fit` and travel with ``save_npz`` and the ONNX export.
    """

    def __init__(self, n_features):
        super(Normalization, self).__init__()
        self.n_features = int(n_features)
        self.add_persistent('offset', numpy.zeros(self.n_features, numpy.float32))
        self.add_persistent('scale', numpy.ones(self.n_features, numpy.float32))

    def fit(self, x, mode='auto'):
        """Choose ``offset`` and ``scale`` from raw samples ``x`` (NumPy, ``(N, ...)``).

        Modes: ``scale255`` divides by 255; ``minmax`` maps the global range to
        [0, 1]; ``standard`` standardises each feature; ``none`` keeps values;
        ``auto`` is ``scale255`` for uint8 data and ``minmax`` otherwise.
        """
        if mode not in MODES:
            raise ValueError('normalize must be one of %s, got %r' % (MODES, mode))
        flat = numpy.asarray(x).reshape(len(x), -1)
        if flat.shape[1] != self.n_features:
            raise DataError('data has %d features, the model expects %d'
                            % (flat.shape[1], self.n_features))
        if mode == 'auto':
            mode = 'scale255' if flat.dtype == numpy.uint8 else 'minmax'
        offset = numpy.zeros(self.n_features)
        scale = numpy.ones(self.n_features)
        if mode == 'scale255':
            scale[:] = 1.0 / 255
        elif mode == 'minmax':
            low, high = float(flat.min()), float(flat.max())
            offset[:] = low
            scale[:] = 1.0 / (high - low) if high > low else 1.0
        elif mode == 'standard':
            offset = flat.mean(axis=0, dtype=numpy.float64)
            std = flat.std(axis=0, dtype=numpy.float64)
            scale = numpy.where(std > 0, 1.0 / numpy.where(std > 0, std, 1), 1.0)
        xp = self.xp
        self.offset[...] = xp.asarray(offset, dtype=numpy.float32)
        self.scale[...] = xp.asarray(scale, dtype=numpy.float32)
        self.mode = mode
        return self

    def forward(self, x):
        """``x``: float32 ``(N, ...)`` raw samples -> ``(N, n_features)``."""
        x = F.reshape(x, (x.shape[0], -1))
        return (x - self.offset) * self.scale  # broadcasts over the batch

    def inverse(self, h):
        """Normalised ``(N, n_features)`` -> raw samples, flat ``(N, n_features)``."""
        return h / self.scale + self.offset
