"""GMVAE's z posterior ``log p(z | x, w)`` from the prior network's K Gaussians."""
from chainer import backend
from chainer import function_node
import chainer.functions as F
from chainer.utils import type_check


def _log_densities(xp, x, mu, logvar):
    """``(N, K)`` log N(x | mu_k, exp(logvar_k)) up to the constant ``-D/2 log 2 pi``."""
    diff = x[:, None, :] - mu
    return -0.5 * (logvar + diff * diff * xp.exp(-logvar)).sum(axis=2)


def log_softmax_rows(xp, l):
    """``l - logsumexp(l, axis=1)`` without overflow."""
    shifted = l - l.max(axis=1, keepdims=True)  # subtract first: exact where l is large
    return shifted - xp.log(xp.exp(shifted).sum(axis=1, keepdims=True))


class GaussianMixturePosterior(function_node.FunctionNode):
    """``log p(z_k = 1 | x, w)`` for uniform ``pi_k = 1/K`` (GMVAE, eq. 9 of the paper)."""

    def check_type_forward(self, in_types):
        type_check._argname(in_types, ('x', 'mu', 'logvar'))
        x, mu, logvar = in_types
        type_check.expect(
            x.dtype.kind == 'f', mu.dtype == x.dtype, logvar.dtype == x.dtype,
            x.ndim == 2, mu.ndim == 3, logvar.ndim == 3,
            mu.shape[0] == x.shape[0], mu.shape[2] == x.shape[1],
            logvar.shape[0] == mu.shape[0], logvar.shape[1] == mu.shape[1],
            logvar.shape[2] == mu.shape[2])

    def forward(self, inputs):
        self.retain_inputs((0, 1, 2))
        self.retain_outputs((0,))
        x, mu, logvar = inputs
        xp = backend.get_array_module(x)
        logp = log_softmax_rows(xp, _log_densities(xp, x, mu, logvar))
        return logp.astype(x.dtype, copy=False),

    def backward(self, indexes, grad_outputs):
        x, mu, logvar = self.get_retained_inputs()
        logp, = self.get_retained_outputs()
        g, = grad_outputs
        shape = mu.shape
        # Through the log-softmax: dl = g - p * sum_k g_k.
        gl = g - F.exp(logp) * F.broadcast_to(F.sum(g, axis=1, keepdims=True), g.shape)
        gl = F.broadcast_to(F.expand_dims(gl, 2), shape)
        inverse = F.exp(-logvar)
        diff = F.broadcast_to(F.expand_dims(x, 1), shape) - mu
        pull = gl * diff * inverse  # d l_k / d mu_k, weighted
        grads = []
        if 0 in indexes:
            grads.append(-F.sum(pull, axis=1))
        if 1 in indexes:
            grads.append(pull)
        if 2 in indexes:
            grads.append(0.5 * gl * (diff * diff * inverse - 1))
        return tuple(grads)


def gaussian_mixture_posterior(x, mu, logvar):
    """The z posterior of a Gaussian-mixture VAE, in log space.

    ``p(z_k | x, w) = N(x | mu_k, diag exp(logvar_k)) / sum_j N(x | mu_j, diag exp(logvar_j))``
    with the uniform prior ``pi_k = 1/K`` of Dilokthanakul et al. (2016): no separate
    z encoder, a softmax over the K log-densities, kept in log space.

    Args:
        x (:class:`~chainer.Variable` or :ref:`ndarray`): a sample of the latent
            ``x`` ``(N, D)``.
        mu: the prior network's means ``mu_k(w)`` ``(N, K, D)``.
        logvar: its log-variances ``(N, K, D)`` (bound them in the network:
            ``exp(-logvar)`` overflows float32 below about -88).

    Returns:
        ~chainer.Variable: ``log p(z | x, w)`` ``(N, K)``; rows log-sum-exp to 0.

    .. doctest::

        >>> import numpy
        >>> x = numpy.zeros((1, 2), 'f')
        >>> mu = numpy.array([[[0, 0], [3, 0]]], 'f')
        >>> logvar = numpy.zeros((1, 2, 2), 'f')
        >>> p = numpy.exp(gaussian_mixture_posterior(x, mu, logvar).array)
        >>> numpy.round(p, 4)
        array([[0.989, 0.011]], dtype=float32)
    """
    return GaussianMixturePosterior().apply((x, mu, logvar))[0]
