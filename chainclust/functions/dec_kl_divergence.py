"""DEC's loss ``KL(P || Q(z, mu))`` as one node, with the closed-form gradient."""
import chainer
from chainer import backend
from chainer.backends import cuda
from chainer import function_node
from chainer.utils import type_check
import numpy

from chainclust.functions import composed
from chainclust.functions.student_t_assignment import _check_alpha, column_sums
from chainclust.functions.student_t_assignment import row_sums, squared_distances


@cuda.memoize()
def _kernel_kernel():
    return cuda.elementwise(
        'T d2, T alpha', 'T k, T log_s',
        'k = (T)1 / ((T)1 + d2 / alpha); log_s = (alpha + (T)1) / (T)2 * log(k)',
        'chainclust_dec_kl_kernel')


@cuda.memoize()
def _kernel_grad():
    return cuda.elementwise(
        'T k, T log_s, T w, T p', 'T g',
        'g = k * (p - exp(log_s) * w)',
        'chainclust_dec_kl_grad')


class DECKLDivergence(function_node.FunctionNode):
    """``(1/N) sum_ij p_ij log(p_ij / q_ij)`` with ``q = student_t(z, mu)``.

    Never materialises ``q`` in backward: with ``s_ij`` the unnormalised
    kernel, ``S_i = sum_j s_ij`` and ``r_i = sum_j p_ij``, the gradient is
    ``dL/dz_i = c sum_j k_ij (p_ij - r_i s_ij / S_i)(z_i - mu_j)`` with
    ``c = (alpha + 1) / (alpha N)`` and ``k_ij = 1 / (1 + |z_i - mu_j|^2/alpha)``
    (Xie et al. 2016, eq. 4-5, for general ``alpha`` and ``r``).
    """

    def __init__(self, alpha=1.0):
        self.alpha = _check_alpha(alpha)

    def check_type_forward(self, in_types):
        type_check._argname(in_types, ('z', 'mu', 'p'))
        z_type, mu_type, p_type = in_types
        type_check.expect(
            z_type.dtype.kind == 'f',
            z_type.dtype == mu_type.dtype,
            z_type.dtype == p_type.dtype,
            z_type.ndim == 2,
            mu_type.ndim == 2,
            p_type.ndim == 2,
            z_type.shape[1] == mu_type.shape[1],
            p_type.shape[0] == z_type.shape[0],
            p_type.shape[1] == mu_type.shape[0],
        )

    def _loss(self, xp, p, log_s, total):
        """The loss from ``log s`` and ``S``; ``0 log 0 = 0`` for ``p``."""
        tiny = numpy.finfo(p.dtype).tiny
        self._row_mass = row_sums(p)
        flat_p = p.ravel()
        plogp = flat_p.dot(xp.log(xp.maximum(flat_p, tiny)))
        loss = plogp - flat_p.dot(log_s.ravel()) + self._row_mass.dot(xp.log(total))
        return xp.asarray(loss / len(p), dtype=p.dtype)

    def forward_cpu(self, inputs):
        self.retain_inputs((0, 1, 2))
        z, mu, p = inputs
        k = squared_distances(numpy, z, mu)
        if self.alpha != 1:
            k /= z.dtype.type(self.alpha)
        k += 1
        numpy.reciprocal(k, out=k)
        log_s = numpy.log(k)
        if self.alpha != 1:
            log_s *= z.dtype.type((self.alpha + 1) / 2)
        s = k if self.alpha == 1 else numpy.exp(log_s)
        self._k, self._s, self._total = k, s, row_sums(s)
        return self._loss(numpy, p, log_s, self._total),

    def forward_gpu(self, inputs):
        self.retain_inputs((0, 1, 2))
        z, mu, p = inputs
        cupy = cuda.cupy
        d2 = squared_distances(cupy, z, mu)
        k, log_s = _kernel_kernel()(d2, z.dtype.type(self.alpha))
        self._k, self._log_s = k, log_s
        self._total = row_sums(cupy.exp(log_s))
        return self._loss(cupy, p, log_s, self._total),

    def backward(self, indexes, grad_outputs):
        z, mu, p = self.get_retained_inputs()
        gy, = grad_outputs
        if chainer.config.enable_backprop:
            # Double backprop: the cross-entropy part of the composed loss has
            # the same gradient (p log p is constant) and is differentiable.
            q = composed.student_t_assignment(z, mu, self.alpha)
            n = z.shape[0]
            loss = -chainer.functions.sum(p * chainer.functions.log(q)) / n
            gz, gmu = chainer.grad([loss], [z, mu], [gy], enable_double_backprop=True)
            return gz, gmu, None
        xp = backend.get_array_module(gy.array)
        z, mu, p = z.array, mu.array, p.array
        w = (self._row_mass / self._total)[:, None]
        if xp is cuda.cupy:
            g = _kernel_grad()(self._k, self._log_s, w, p)
        else:
            g = self._s * w
            numpy.subtract(p, g, out=g)
            g *= self._k
        c = (self.alpha + 1) / (self.alpha * len(p)) * gy.array
        gz = (row_sums(g)[:, None] * z - g.dot(mu)) * c
        gmu = (column_sums(g)[:, None] * mu - g.T.dot(z)) * c
        return (chainer.Variable(gz.astype(z.dtype, copy=False)),
                chainer.Variable(gmu.astype(z.dtype, copy=False)), None)


def dec_kl_divergence(z, mu, p, alpha=1.0):
    """DEC's clustering loss ``KL(P || Q)`` from embeddings and centres.

    ``L = (1/N) sum_i sum_j p_ij log(p_ij / q_ij)`` where ``q_ij`` is the
    Student's t soft assignment of :func:`student_t_assignment` and ``p`` the
    target distribution, a constant (no gradient flows into it); ``0 log 0 = 0``.

    Args:
        z (:class:`~chainer.Variable` or :ref:`ndarray`): embeddings ``(N, d)``.
        mu (:class:`~chainer.Variable` or :ref:`ndarray`): centres ``(K, d)``.
        p (:class:`~chainer.Variable` or :ref:`ndarray`): target ``(N, K)``,
            entries >= 0, rows summing to 1; all three share a float dtype.
        alpha (float): degrees of freedom of the t kernel, > 0.

    Returns:
        ~chainer.Variable: a scalar.

    .. admonition:: Example

        >>> z = np.array([[0., 0.]], np.float32)
        >>> mu = np.array([[0., 0.], [1., 0.]], np.float32)
        >>> p = np.array([[1., 0.]], np.float32)
        >>> float(dec_kl_divergence(z, mu, p).array)  # -log(2/3)
        0.4054651...
    """
    return DECKLDivergence(alpha).apply((z, mu, p))[0]
