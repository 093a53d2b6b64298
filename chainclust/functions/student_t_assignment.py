"""Student's t soft assignment of embeddings to cluster centres (DEC, eq. 1)."""
import chainer
from chainer import backend
from chainer.backends import cuda
from chainer import function_node
from chainer.utils import type_check

from chainclust.functions import composed


def _check_alpha(alpha):
    alpha = float(alpha)
    if not alpha > 0:
        raise ValueError('alpha must be positive, got %r' % (alpha,))
    return alpha


def squared_distances(xp, z, mu):
    """``|z_i - mu_j|^2`` as ``|z|^2 + |mu|^2 - 2 z mu^T``, clipped at 0; ``(N, K)``.

    One GEMM and three in-place passes over the ``(N, K)`` result.
    """
    d2 = (z * z.dtype.type(-2)).dot(mu.T)
    d2 += xp.einsum('ij,ij->i', z, z)[:, None]
    d2 += xp.einsum('ij,ij->i', mu, mu)[None, :]
    return xp.maximum(d2, 0, out=d2)


def row_sums(a):
    """``a.sum(axis=1)`` as a matrix-vector product (BLAS is much faster on
    short rows); ``(N, K) -> (N,)``."""
    return a.dot(backend.get_array_module(a).ones(a.shape[1], a.dtype))


def column_sums(a):
    """``a.sum(axis=0)`` as a vector-matrix product; ``(N, K) -> (K,)``."""
    return backend.get_array_module(a).ones(a.shape[0], a.dtype).dot(a)


@cuda.memoize()
def _kernel_forward():
    return cuda.elementwise(
        'T d2, T alpha', 'T k, T s',
        'k = (T)1 / ((T)1 + d2 / alpha); s = pow(k, (alpha + (T)1) / (T)2)',
        'chainclust_student_t_fwd')


@cuda.memoize()
def _kernel_backward():
    return cuda.elementwise(
        'T q, T k, T gq, T r, T coef', 'T g',
        'g = coef * q * k * (gq - r)',
        'chainclust_student_t_bwd')


class StudentTAssignment(function_node.FunctionNode):
    """Soft assignment ``q_ij`` of embeddings ``z`` to centres ``mu``.

    ``q_ij = (1 + |z_i - mu_j|^2 / alpha)^(-(alpha+1)/2)``, normalised over j.
    """

    def __init__(self, alpha=1.0):
        self.alpha = _check_alpha(alpha)

    def check_type_forward(self, in_types):
        type_check._argname(in_types, ('z', 'mu'))
        z_type, mu_type = in_types
        type_check.expect(
            z_type.dtype.kind == 'f',
            z_type.dtype == mu_type.dtype,
            z_type.ndim == 2,
            mu_type.ndim == 2,
            z_type.shape[1] == mu_type.shape[1],
        )

    def forward_cpu(self, inputs):
        self.retain_inputs((0, 1))
        z, mu = inputs
        alpha = z.dtype.type(self.alpha)
        k = 1 / (1 + squared_distances(backend.CpuDevice().xp, z, mu) / alpha)
        s = k ** ((alpha + 1) / 2) if self.alpha != 1 else k
        self._k = k.astype(z.dtype, copy=False)
        q = (s / s.sum(axis=1, keepdims=True)).astype(z.dtype, copy=False)
        self.retain_outputs((0,))
        return q,

    def forward_gpu(self, inputs):
        self.retain_inputs((0, 1))
        z, mu = inputs
        d2 = squared_distances(cuda.cupy, z, mu)
        k, s = _kernel_forward()(d2, z.dtype.type(self.alpha))
        self._k = k
        q = s / s.sum(axis=1, keepdims=True)
        self.retain_outputs((0,))
        return q,

    def backward(self, indexes, grad_outputs):
        z, mu = self.get_retained_inputs()
        gq, = grad_outputs
        if chainer.config.enable_backprop:
            # Double backprop: differentiate the same formula built from
            # chainer.functions, so higher-order gradients stay exact.
            q = composed.student_t_assignment(z, mu, self.alpha)
            return chainer.grad([q], [z, mu], [gq], enable_double_backprop=True)
        q, = self.get_retained_outputs()
        xp = backend.get_array_module(gq.array)
        z, mu, q, gq = z.array, mu.array, q.array, gq.array
        coef = z.dtype.type(-(self.alpha + 1) / self.alpha)
        r = (gq * q).sum(axis=1, keepdims=True)
        if xp is cuda.cupy:
            g = _kernel_backward()(q, self._k, gq, r, coef)
        else:
            g = coef * q * self._k * (gq - r)
        # g = dL/d(d2) * 2; d(d2_ij)/dz_i = 2 (z_i - mu_j).
        gz = g.sum(axis=1)[:, None] * z - g.dot(mu)
        gmu = g.sum(axis=0)[:, None] * mu - g.T.dot(z)
        return chainer.Variable(gz), chainer.Variable(gmu)


def student_t_assignment(z, mu, alpha=1.0):
    """Soft assignment of embeddings to centres with a Student's t kernel.

    DEC's ``q_ij = (1 + |z_i - mu_j|^2/alpha)^(-(alpha+1)/2) /
    sum_j' (1 + |z_i - mu_j'|^2/alpha)^(-(alpha+1)/2)`` (Xie et al. 2016, eq. 1).

    Args:
        z (:class:`~chainer.Variable` or :ref:`ndarray`): embeddings ``(N, d)``,
            float16/32/64.
        mu (:class:`~chainer.Variable` or :ref:`ndarray`): centres ``(K, d)``,
            same dtype.
        alpha (float): degrees of freedom of the t distribution, > 0.

    Returns:
        ~chainer.Variable: ``q`` of shape ``(N, K)``; each row sums to 1.

    .. admonition:: Example

        >>> z = np.array([[0., 0.]], np.float32)
        >>> mu = np.array([[0., 0.], [1., 0.]], np.float32)
        >>> student_t_assignment(z, mu).array  # kernels 1 and 1/2
        array([[0.6666667, 0.3333333]], dtype=float32)
    """
    return StudentTAssignment(alpha).apply((z, mu))[0]
