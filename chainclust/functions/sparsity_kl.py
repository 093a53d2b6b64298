"""The sparse autoencoder's penalty: KL from a target activation to the batch mean."""
import chainer
from chainer import backend
from chainer.backends import cuda
from chainer import function_node
import chainer.functions as F
from chainer.utils import type_check
import numpy


def _check_target(target):
    target = float(target)
    if not 0 < target < 1:
        raise ValueError('target must be in (0, 1), got %r' % (target,))
    return target


def _bounds(dtype):
    """``(low, high)`` that keep ``log rho`` and ``log (1 - rho)`` finite in ``dtype``."""
    info = numpy.finfo(dtype)
    return float(info.tiny), 1.0 - float(info.eps)


@cuda.memoize()
def _kl_kernel():
    """KL term of each unit and its derivative w.r.t. the (clipped) mean activation."""
    return cuda.elementwise(
        'T rho, T p, T low, T high',
        'T kl, T g',
        '''
        T r = min(max(rho, low), high);
        kl = p * log(p / r) + (1 - p) * log((1 - p) / (1 - r));
        g = (rho >= low && rho <= high) ? (1 - p) / (1 - r) - p / r : (T)0;
        ''',
        'chainclust_sparsity_kl')


class SparsityKL(function_node.FunctionNode):
    """``sum_j KL(p || rho_j)`` with ``rho_j = mean_n h_nj``, Bernoulli KL.

    ``KL(p || r) = p log(p / r) + (1 - p) log((1 - p) / (1 - r))``. The mean
    activation is clipped to ``[tiny, 1 - eps]`` of its dtype before the
    logarithms (no log 0), and the gradient is zero where it is clipped;
    inside, ``dL/dh_nj = ((1 - p) / (1 - rho_j) - p / rho_j) / N``.
    """

    def __init__(self, target):
        self.target = _check_target(target)

    def check_type_forward(self, in_types):
        type_check._argname(in_types, ('h',))
        h_type, = in_types
        type_check.expect(h_type.dtype.kind == 'f', h_type.ndim == 2, h_type.shape[0] > 0)

    def forward_cpu(self, inputs):
        self.retain_inputs((0,))  # the composed twin needs h for double backprop
        h, = inputs
        rho = h.mean(axis=0)
        low, high = _bounds(h.dtype)
        r = numpy.clip(rho, low, high)
        p = h.dtype.type(self.target)
        kl = p * numpy.log(p / r) + (1 - p) * numpy.log((1 - p) / (1 - r))
        inside = (rho >= low) & (rho <= high)
        self._g = numpy.where(inside, (1 - p) / (1 - r) - p / r, 0).astype(h.dtype)
        self._n = len(h)
        return numpy.asarray(kl.sum(), dtype=h.dtype),

    def forward_gpu(self, inputs):
        self.retain_inputs((0,))
        h, = inputs
        low, high = _bounds(h.dtype)
        t = h.dtype.type
        kl, self._g = _kl_kernel()(h.mean(axis=0), t(self.target), t(low), t(high))
        self._n = len(h)
        return kl.sum(),

    def backward(self, indexes, grad_outputs):
        gy, = grad_outputs
        if chainer.config.enable_backprop:
            h, = self.get_retained_inputs()
            loss = composed_sparsity_kl(h, self.target)
            return chainer.grad([loss], [h], [gy], enable_double_backprop=True)
        g = self._g * (gy.array / self._n)
        shape = (self._n, len(g))
        return chainer.Variable(backend.get_array_module(g).broadcast_to(g, shape).copy()),


def composed_sparsity_kl(h, target):
    """The same penalty composed from ``chainer.functions`` (reference, double backprop)."""
    low, high = _bounds(h.dtype)
    rho = F.clip(F.mean(h, axis=0), low, high)
    p = target
    return F.sum(p * (numpy.log(p) - F.log(rho))
                 + (1 - p) * (numpy.log(1 - p) - F.log(1 - rho)))


def sparsity_kl(h, target=0.25):
    """Sparsity penalty of a sparse autoencoder (Ng's lecture notes; ae_bakeoff).

    Args:
        h (:class:`~chainer.Variable` or :ref:`ndarray`): latent activations
            ``(N, d)`` in ``[0, 1]`` (a sigmoid's output).
        target (float): the desired mean activation ``p`` of each unit, in (0, 1).

    Returns:
        ~chainer.Variable: ``sum_j KL(p || mean_n h_nj)``, a scalar of ``h``'s dtype.

    .. admonition:: Example

        >>> h = np.full((4, 2), 0.25, np.float32)  # every unit at the target
        >>> float(sparsity_kl(h, 0.25).array)
        0.0
    """
    return SparsityKL(target).apply((h,))[0]
