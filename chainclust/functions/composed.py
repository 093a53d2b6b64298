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
