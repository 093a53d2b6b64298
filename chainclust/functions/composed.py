"""The DEC formulas composed from ``chainer.functions`` alone.

They define the same values as the hand-written nodes and serve three roles:
the higher-order derivatives of those nodes, the reference in their tests,
and a baseline in ``benchmarks/bench_dec_loss.py``.
"""
import chainer.functions as F


def student_t_assignment(z, mu, alpha=1.0):
    """Composed ``q`` of :func:`chainclust.functions.student_t_assignment`."""
    n, k = z.shape[0], mu.shape[0]
    zz = F.broadcast_to(F.expand_dims(F.sum(z * z, axis=1), 1), (n, k))
    mm = F.broadcast_to(F.expand_dims(F.sum(mu * mu, axis=1), 0), (n, k))
    d2 = zz + mm - 2 * F.matmul(z, mu, transb=True)
    kernel = (1 + d2 / alpha) ** (-(alpha + 1) / 2.0)
    return kernel / F.broadcast_to(F.sum(kernel, axis=1, keepdims=True), (n, k))


def kl_divergence(p, q):
    """Composed mean ``KL(P || Q)``; ``p`` must be strictly positive here."""
    return F.sum(p * (F.log(p) - F.log(q))) / p.shape[0]


def dec_loss(z, mu, p, alpha=1.0):
    """Composed DEC loss ``KL(P || Q(z, mu))``."""
    return kl_divergence(p, student_t_assignment(z, mu, alpha))


def gaussian_mixture_posterior(x, mu, logvar):
    """Composed ``log p(z | x, w)`` of :func:`chainclust.functions.gaussian_mixture_posterior`."""
    shape = mu.shape
    diff = F.broadcast_to(F.expand_dims(x, 1), shape) - mu
    return F.log_softmax(-0.5 * F.sum(logvar + diff * diff * F.exp(-logvar), axis=2))


def conditional_prior_kl(log_pz, mu_x, logvar_x, mu, logvar):
    """Composed :func:`chainclust.functions.conditional_prior_kl`."""
    shape = mu.shape
    diff = F.broadcast_to(F.expand_dims(mu_x, 1), shape) - mu
    var_x = F.broadcast_to(F.expand_dims(F.exp(logvar_x), 1), shape)
    kl = 0.5 * F.sum(logvar - F.broadcast_to(F.expand_dims(logvar_x, 1), shape)
                     + (var_x + diff * diff) * F.exp(-logvar) - 1, axis=2)
    return F.sum(F.exp(log_pz) * kl) / log_pz.shape[0]


def z_prior_kl(log_pz, information_lambda=0.0):
    """Composed :func:`chainclust.functions.z_prior_kl` (``F.maximum`` with the threshold)."""
    import math
    import numpy
    n, k = log_pz.shape
    kl = F.sum(F.exp(log_pz) * (log_pz + math.log(k))) / n
    return F.maximum(kl, numpy.asarray(information_lambda, dtype=kl.dtype))


def iic_loss(z, z_prime, alpha=1.0):
    """Composed :func:`chainclust.functions.iic_loss` (float32 at least, as the node)."""
    import numpy
    from chainclust.functions.iic_loss import EPSILON
    work = numpy.promote_types(z.dtype, numpy.float32)
    if z.dtype != work:
        z, z_prime = F.cast(z, work), F.cast(z_prime, work)
    joint = F.matmul(z, z_prime, transa=True)
    symmetric = (joint + F.transpose(joint)) * 0.5
    normalised = symmetric / F.broadcast_to(F.sum(symmetric), symmetric.shape)
    inside = (normalised.array > EPSILON).astype(normalised.dtype)
    floored = normalised * inside + EPSILON * (1 - inside)
    p = floored / F.broadcast_to(F.sum(floored), floored.shape)
    log_marginal = F.log(F.sum(p, axis=1))
    k = p.shape[0]
    log_pi = F.broadcast_to(F.expand_dims(log_marginal, 1), (k, k))
    log_pj = F.broadcast_to(F.expand_dims(log_marginal, 0), (k, k))
    return F.sum(p * (alpha * (log_pi + log_pj) - F.log(p)))
