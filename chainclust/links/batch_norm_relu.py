"""Batch normalisation followed by ReLU, one node in training on the CPU."""
import chainer
from chainer import backend
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
    ``F.relu``, so exported graphs hold BatchNormalization and Relu.
    """

    def forward(self, x, **kwargs):
        fused = (chainer.config.train and not kwargs and self.axis is None
                 and not chainer.config.in_recomputing and self.avg_mean is not None
                 and self.gamma is not None and self.beta is not None
                 and backend.get_array_module(x) is numpy
                 and self.gamma.dtype == x.dtype and self.beta.dtype == x.dtype)
        if not fused:
            return F.relu(super(BatchNormalizationReLU, self).forward(x, **kwargs))
        return batch_norm_relu(x, self.gamma, self.beta, self.eps, self.avg_mean,
                               self.avg_var, self.decay)
