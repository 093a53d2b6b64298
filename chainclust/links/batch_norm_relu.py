"""Batch normalisation followed by ReLU: one node in training, one affine pass in inference, on the CPU."""
import chainer
import chainer.functions as F
import chainer.links as L
import numpy

from chainclust.functions.batch_norm_relu import batch_norm_relu


class BatchNormalizationReLU(L.BatchNormalization):
    """``F.relu(L.BatchNormalization(size)(x))``, same parameters and serialisation.

    In training on NumPy arrays it runs :func:`~chainclust.functions.batch_norm_relu`
    (one node, fewer passes; the running statistics are updated as Chainer's
    link does); in inference, on a GPU (cuDNN) and for the link's less common
    options (``axis``, fine-tuning, recomputation) it is Chainer's link and
    ``F.relu``, so exported graphs hold BatchNormalization and Relu. In
    inference without a graph (``train`` off, ``enable_backprop`` off: labelling,
    monitoring) on NumPy it is ``max(x * s + t, 0)`` with ``s = gamma /
    sqrt(var + eps)`` and ``t = beta - mean * s`` from the running statistics,
    in place: Chainer's fixed batch normalisation makes several passes and
    temporaries (38% of IIC's forward over 10,000 images).
    """

    def forward(self, x, **kwargs):
        array = x.array if isinstance(x, chainer.Variable) else x
        plain = (not kwargs and self.axis is None and not chainer.config.in_recomputing
                 and self.avg_mean is not None and self.gamma is not None
                 and self.beta is not None and isinstance(array, numpy.ndarray)
                 and self.gamma.dtype == array.dtype and self.beta.dtype == array.dtype)
        if plain and chainer.config.train:
            return batch_norm_relu(x, self.gamma, self.beta, self.eps, self.avg_mean,
                                   self.avg_var, self.decay)
        if plain and not chainer.config.enable_backprop and array.ndim >= 2:
            return chainer.Variable(self._affine_relu(array), requires_grad=False)
        return F.relu(super(BatchNormalizationReLU, self).forward(x, **kwargs))

    def _affine_relu(self, x):
        """``x (N, C, ...)`` -> ``max(x * s + t, 0)`` with the running statistics, same shape."""
        scale = self.gamma.array / numpy.sqrt(self.avg_var + self.eps)
        shift = self.beta.array - self.avg_mean * scale
        shape = (1, -1) + (1,) * (x.ndim - 2)
        h = x * scale.astype(x.dtype).reshape(shape)
        h += shift.astype(x.dtype).reshape(shape)
        return numpy.maximum(h, 0, out=h)
