"""GMVAE's conditional-prior term ``E_{p(z|x,w)}[KL(q(x|y) || p(x|w,z))]``."""
from chainer import backend
from chainer import function_node
import chainer.functions as F
from chainer.utils import type_check


def _gaussian_kl(xp, mu_x, logvar_x, mu, logvar):
    """``(N, K)`` KL(N(mu_x, var_x) || N(mu_k, var_k)), summed over the D dimensions."""
    diff = mu_x[:, None, :] - mu
    ratio = (xp.exp(logvar_x)[:, None, :] + diff * diff) * xp.exp(-logvar)
    return 0.5 * (logvar - logvar_x[:, None, :] + ratio - 1).sum(axis=2)


class ConditionalPriorKL(function_node.FunctionNode):
    """``mean_n sum_k p(z_k | x_n, w_n) KL(q(x | y_n) || N(mu_k(w_n), var_k(w_n)))``."""

    def check_type_forward(self, in_types):
        type_check._argname(in_types, ('log_pz', 'mu_x', 'logvar_x', 'mu', 'logvar'))
        log_pz, mu_x, logvar_x, mu, logvar = in_types
        type_check.expect(
            log_pz.dtype.kind == 'f', mu_x.dtype == log_pz.dtype,
            logvar_x.dtype == log_pz.dtype, mu.dtype == log_pz.dtype,
            logvar.dtype == log_pz.dtype, log_pz.ndim == 2, mu_x.ndim == 2,
            logvar_x.ndim == 2, mu.ndim == 3, logvar.ndim == 3,
            mu_x.shape[0] == log_pz.shape[0], logvar_x.shape[0] == log_pz.shape[0],
            logvar_x.shape[1] == mu_x.shape[1], mu.shape[0] == log_pz.shape[0],
            mu.shape[1] == log_pz.shape[1], mu.shape[2] == mu_x.shape[1],
            logvar.shape[0] == mu.shape[0], logvar.shape[1] == mu.shape[1],
            logvar.shape[2] == mu.shape[2])

    def forward(self, inputs):
        self.retain_inputs((0, 1, 2, 3, 4))
        log_pz, mu_x, logvar_x, mu, logvar = inputs
        xp = backend.get_array_module(log_pz)
        kl = _gaussian_kl(xp, mu_x, logvar_x, mu, logvar)
        value = (xp.exp(log_pz) * kl).sum() / log_pz.shape[0]
        return xp.asarray(value, dtype=log_pz.dtype),

    def backward(self, indexes, grad_outputs):
        log_pz, mu_x, logvar_x, mu, logvar = self.get_retained_inputs()
        g, = grad_outputs
        n, k = log_pz.shape
        shape = mu.shape
        weight = F.exp(log_pz) * F.broadcast_to(g, log_pz.shape) / n  # (N, K)
        wide = F.broadcast_to(F.expand_dims(weight, 2), shape)
        mu_xb = F.broadcast_to(F.expand_dims(mu_x, 1), shape)
        var_xb = F.broadcast_to(F.expand_dims(F.exp(logvar_x), 1), shape)
        inverse = F.exp(-logvar)
        diff = mu_xb - mu
        grads = []
        if 0 in indexes:
            kl = 0.5 * F.sum(logvar - F.broadcast_to(F.expand_dims(logvar_x, 1), shape)
                             + (var_xb + diff * diff) * inverse - 1, axis=2)
            grads.append(weight * kl)
        if 1 in indexes:
            grads.append(F.sum(wide * diff * inverse, axis=1))
        if 2 in indexes:
            grads.append(F.sum(0.5 * wide * (var_xb * inverse - 1), axis=1))
        if 3 in indexes:
            grads.append(-wide * diff * inverse)
        if 4 in indexes:
            grads.append(0.5 * wide * (1 - (var_xb + diff * diff) * inverse))
        return tuple(grads)


def conditional_prior_kl(log_pz, mu_x, logvar_x, mu, logvar):
    """GMVAE's conditional-prior term, averaged over the batch.

    ``E_{p(z|x,w)}[KL(q(x|y) || p(x|w,z))] = sum_k p(z_k|x,w) KL(N(mu_x, var_x) ||
    N(mu_k(w), var_k(w)))`` in closed form for diagonal Gaussians.

    Args:
        log_pz: ``log p(z | x, w)`` ``(N, K)`` (from :func:`gaussian_mixture_posterior`).
        mu_x: the recognition network's mean of x ``(N, D)``.
        logvar_x: its log-variance ``(N, D)``.
        mu: the prior network's means ``(N, K, D)``.
        logvar: its log-variances ``(N, K, D)``.

    Returns:
        ~chainer.Variable: a scalar.

    .. doctest::

        >>> import numpy
        >>> log_pz = numpy.log(numpy.array([[0.5, 0.5]], 'f'))
        >>> mu_x, logvar_x = numpy.zeros((1, 1), 'f'), numpy.zeros((1, 1), 'f')
        >>> mu, logvar = numpy.array([[[0.], [2.]]], 'f'), numpy.zeros((1, 2, 1), 'f')
        >>> float(conditional_prior_kl(log_pz, mu_x, logvar_x, mu, logvar).array)
        1.0
    """
    return ConditionalPriorKL().apply((log_pz, mu_x, logvar_x, mu, logvar))[0]
