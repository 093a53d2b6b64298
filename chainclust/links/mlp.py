"""Fully connected stacks used as encoders and decoders."""
import chainer
import chainer.functions as F
import chainer.links as L

from chainclust.functions.linear_relu import linear_relu
from chainclust.links.batch_norm_relu import BatchNormalizationReLU


class MLP(chainer.ChainList):
    """``Linear -> ReLU -> ... -> Linear`` with an optional final ReLU.

    Args:
        sizes (sequence of int): layer widths ``(in, h1, ..., out)``.
        final_activation (bool): apply ReLU after the last layer too.
        initialW: initializer of the weights (Chainer's default when ``None``).
    """

    def __init__(self, sizes, final_activation=False, initialW=None):
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2 or min(sizes) < 1:
            raise ValueError('sizes must list at least two positive widths, got %r'
                             % (sizes,))
        super(MLP, self).__init__(
            *[L.Linear(a, b, initialW=initialW) for a, b in zip(sizes, sizes[1:])])
        self.sizes = tuple(sizes)
        self.final_activation = final_activation

    def forward(self, x, start=0, stop=None):
        """Apply layers ``start`` to ``stop`` (all by default); ``x``: ``(N, in)``."""
        layers = list(self)
        stop = len(layers) if stop is None else stop
        for i in range(start, stop):
            layer = layers[i]
            if i < len(layers) - 1 or self.final_activation:
                x = linear_relu(x, layer.W, layer.b)  # = F.relu(layer(x)), fewer passes
            else:
                x = layer(x)
        return x


class BatchNormMLP(chainer.Chain):
    """``Linear -> BatchNorm -> ReLU`` for every layer (a recognition trunk).

    Args:
        sizes (sequence of int): layer widths ``(in, h1, ..., out)``.
        initialW: initializer of the weights (Chainer's default when ``None``).

    Input ``(N, in)``; output ``(N, out)``, after the last ReLU. Batch
    statistics in training, the running averages in test mode.
    """

    def __init__(self, sizes, initialW=None):
        super(BatchNormMLP, self).__init__()
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2 or min(sizes) < 1:
            raise ValueError('sizes must list at least two positive widths, got %r'
                             % (sizes,))
        self.sizes = tuple(sizes)
        with self.init_scope():
            self.linears = chainer.ChainList(
                *[L.Linear(a, b, initialW=initialW) for a, b in zip(sizes, sizes[1:])])
            self.norms = chainer.ChainList(*[BatchNormalizationReLU(b) for b in sizes[1:]])

    def forward(self, x):
        for linear, norm in zip(self.linears, self.norms):
            x = norm(linear(x))
        return x
