"""KL divergence ``KL(P || Q)`` between a fixed target and soft assignments."""
import chainer
from chainer import backend
from chainer.backends import cuda
from chainer import function_node
from chainer.utils import type_check


@cuda.memoize()
def _kernel_forward():
    return cuda.reduce(
        'T p, T q', 'T y',
        'p > (T)0 ? p * (log(p) - log(q)) : (T)0', 'a + b', 'y = a', '0',
        'chainclust_kl_divergence')


class KLDivergence(function_node.FunctionNode):
    """``(1/N) sum_ij p_ij log(p_ij / q_ij)``; ``p`` is a constant target."""

    def check_type_forward(self, in_types):
        type_check._argname(in_types, ('p', 'q'))
        p_type, q_type = in_types
        type_check.expect(
            q_type.dtype.kind == 'f',
            p_type.dtype == q_type.dtype,
            q_type.ndim == 2,
            p_type.shape == q_type.shape,
        )

    def forward_cpu(self, inputs):
        self.retain_inputs((0, 1))
        p, q = inputs
        xp = backend.CpuDevice().xp
        positive = p > 0
        terms = xp.where(positive, p * (xp.log(xp.where(positive, p, 1)) - xp.log(q)), 0)
        return xp.asarray(terms.sum() / len(p), dtype=p.dtype),

    def forward_gpu(self, inputs):
        self.retain_inputs((0, 1))
        p, q = inputs
        return (_kernel_forward()(p, q) / p.dtype.type(len(p))).astype(p.dtype),

    def backward(self, indexes, grad_outputs):
        p, q = self.get_retained_inputs()
        gy, = grad_outputs
        n = len(p)
        if chainer.config.enable_backprop:
            gq = -chainer.functions.broadcast_to(gy, q.shape) * p / (q * n)
        else:
            gq = chainer.Variable(-gy.array * p.array / (q.array * n))
        return None, gq


def kl_divergence(p, q):
    """Mean KL divergence ``KL(P || Q)`` over samples (DEC, eq. 2).

    ``L = (1/N) sum_i sum_j p_ij log(p_ij / q_ij)``, with ``0 log 0 = 0``. ``p`` is
    treated as a constant (no gradient flows into it), as in DEC where the
    target distribution is recomputed outside the graph.

    Args:
        p (:class:`~chainer.Variable` or :ref:`ndarray`): target ``(N, K)``,
            rows summing to 1, entries >= 0.
        q (:class:`~chainer.Variable` or :ref:`ndarray`): soft assignments
            ``(N, K)``, entries > 0, same dtype.

    Returns:
        ~chainer.Variable: a scalar.

    .. admonition:: Example

        >>> p = np.array([[1., 0.]], np.float32)
        >>> q = np.array([[0.5, 0.5]], np.float32)
        >>> float(kl_divergence(p, q).array)  # log 2
        0.6931471...
    """
    return KLDivergence().apply((p, q))[0]
