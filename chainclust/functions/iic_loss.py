"""IIC's mutual-information loss of paired soft assignments, as one node."""
import chainer
from chainer import backend
from chainer.backends import cuda
from chainer import function_node
from chainer.utils import type_check
import numpy

EPSILON = 1e-8  # the joint's floor (normalised units): no log 0 for empty cells


def _check_alpha(alpha):
    alpha = float(alpha)
    if not alpha > 0 or not numpy.isfinite(alpha):
        raise ValueError('alpha must be a finite number > 0, got %r' % (alpha,))
    return alpha


@cuda.memoize()
def _cell_kernel():
    """Loss cell and its gradient w.r.t. the normalised joint, on the GPU."""
    return cuda.elementwise(
        'T p, T log_pi, T log_pj, T alpha',
        'T cell, T g',
        '''
        T log_p = log(p);
        cell = p * (alpha * (log_pi + log_pj) - log_p);
        g = alpha * (log_pi + log_pj + (T)2) - (log_p + (T)1);
        ''',
        'chainclust_iic_cell')


def _joint(xp, z, zp):
    """Symmetrised, floored, normalised joint ``P`` (K, K) and what backward needs."""
    summed = z.T.dot(zp)
    symmetric = (summed + summed.T) * 0.5
    total = symmetric.sum()
    normalised = symmetric / total
    inside = normalised > EPSILON
    floored = xp.where(inside, normalised, normalised.dtype.type(EPSILON))
    floored_total = floored.sum()
    return floored / floored_total, normalised, inside, total, floored_total


class IICLoss(function_node.FunctionNode):
    """``sum_ij P_ij (alpha log P_i + alpha log P_j - log P_ij)`` of paired assignments.

    ``P`` is the joint distribution of the cluster of a sample and of its
    transformed twin: ``J = sum_n z_n z'_n^T`` (K x K), symmetrised
    ``(J + J^T) / 2``, normalised, floored at ``EPSILON`` and normalised again;
    ``P_i`` and ``P_j`` are its marginals. ``alpha = 1`` gives ``-I(z; z')``;
    ``alpha > 1`` weights the marginal entropies more. Computed in float32
    (float64 for float64 inputs), also when the network runs in float16; the
    gradients come back in the inputs' type.

    With ``g_ij = alpha (log P_i + log P_j + 2) - (log P_ij + 1)``, the
    gradient with respect to the floored joint ``F`` is ``(g - <g, P>) / sum F``,
    zero on floored cells, then ``(. - <., Q>) / sum S`` through the first
    normalisation ``Q = S / sum S``, symmetrised, and ``dL/dz = z' G^T``,
    ``dL/dz' = z G``.
    """

    def __init__(self, alpha=1.0):
        self.alpha = _check_alpha(alpha)

    def check_type_forward(self, in_types):
        type_check._argname(in_types, ('z', 'z_prime'))
        z_type, zp_type = in_types
        type_check.expect(
            z_type.dtype.kind == 'f',
            z_type.dtype == zp_type.dtype,
            z_type.ndim == 2,
            zp_type.shape == z_type.shape,
        )

    def _forward(self, xp, z, zp):
        work = numpy.promote_types(z.dtype, numpy.float32)
        z32, zp32 = z.astype(work, copy=False), zp.astype(work, copy=False)
        p, normalised, inside, total, floored_total = _joint(xp, z32, zp32)
        log_marginal = xp.log(p.sum(axis=1))
        self._saved = (z32, zp32, p, normalised, inside, total, floored_total)
        return p, log_marginal

    def forward_cpu(self, inputs):
        self.retain_inputs((0, 1))
        z, zp = inputs
        p, log_marginal = self._forward(numpy, z, zp)
        log_pi, log_pj = log_marginal[:, None], log_marginal[None, :]
        log_p = numpy.log(p)
        loss = (p * (self.alpha * (log_pi + log_pj) - log_p)).sum()
        self._g = self.alpha * (log_pi + log_pj + 2) - (log_p + 1)
        return numpy.asarray(loss, dtype=p.dtype),

    def forward_gpu(self, inputs):
        self.retain_inputs((0, 1))
        z, zp = inputs
        cupy = cuda.cupy
        p, log_marginal = self._forward(cupy, z, zp)
        cell, self._g = _cell_kernel()(p, log_marginal[:, None], log_marginal[None, :],
                                       p.dtype.type(self.alpha))
        return cell.sum(),

    def backward(self, indexes, grad_outputs):
        gy, = grad_outputs
        if chainer.config.enable_backprop:
            # Double backprop: the composed twin has the same gradient and is
            # differentiable (in the inputs' dtype).
            from chainclust.functions import composed
            z, zp = self.get_retained_inputs()
            loss = composed.iic_loss(z, zp, self.alpha)  # float32 at least, as forward
            grads = chainer.grad([loss], [z, zp], [gy], enable_double_backprop=True)
            return tuple(grads[i] for i in indexes)
        xp = backend.get_array_module(gy.array)
        z32, zp32, p, normalised, inside, total, floored_total = self._saved
        g = self._g
        g_floored = (g - (g * p).sum()) / floored_total
        g_normalised = xp.where(inside, g_floored, g_floored.dtype.type(0))
        g_symmetric = (g_normalised - (g_normalised * normalised).sum()) / total
        g_joint = (g_symmetric + g_symmetric.T) * (0.5 * gy.array.astype(p.dtype))
        dtype = self.inputs[0].dtype
        grads = []
        if 0 in indexes:
            grads.append(zp32.dot(g_joint.T).astype(dtype, copy=False))
        if 1 in indexes:
            grads.append(z32.dot(g_joint).astype(dtype, copy=False))
        return tuple(chainer.Variable(g) for g in grads)


def iic_loss(z, z_prime, alpha=1.0):
    """IIC's loss of the soft assignments of samples and of their transformed twins.

    Args:
        z (:class:`~chainer.Variable` or :ref:`ndarray`): ``(N, K)`` cluster
            probabilities of the samples (softmax outputs, rows summing to 1).
        z_prime: ``(N, K)`` the same for their transformed copies, same dtype.
        alpha (float): weight of the marginal entropies (1: minus the mutual
            information ``I(z; z')``, as Ji et al. 2019). Above 1, the uniform
            output for every sample is a stationary point (the gradient
            vanishes where P is uniform).

    Returns:
        ~chainer.Variable: a float32 scalar (float64 for float64 inputs),
        finite for any input: the joint is floored at ``EPSILON`` before its
        logarithm.

    .. admonition:: Example

        >>> z = np.eye(2, dtype=np.float32)  # two samples, each sure of its cluster
        >>> round(float(iic_loss(z, z).array), 4)  # -I = -log 2
        -0.6931
    """
    return IICLoss(alpha).apply((z, z_prime))[0]
