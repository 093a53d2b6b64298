"""Quantizing errors between embeddings and their codes (Euclidean, cosine)."""
import chainer
from chainer import backend
from chainer import function_node
from chainer.utils import type_check
import numpy

from chainclust.functions.codebook_distance import check_metric, cosine_eps


class QuantizingError(function_node.FunctionNode):
    """Mean over rows of ``|e_i - q_i|`` (``squared``: ``|e_i - q_i|^2``) or of
    ``1 - cos(e_i, q_i)`` with ``cos = e.q / max(|e||q|, 1e-8)``."""

    def __init__(self, metric='euclidean', squared=False):
        self.metric = check_metric(metric)
        if squared and metric != 'euclidean':
            raise ValueError('squared applies to the euclidean metric only')
        self.squared = bool(squared)

    def check_type_forward(self, in_types):
        type_check._argname(in_types, ('e', 'q'))
        e_type, q_type = in_types
        type_check.expect(
            e_type.dtype.kind == 'f',
            e_type.dtype == q_type.dtype,
            e_type.ndim == 2,
            e_type.shape == q_type.shape,
        )

    def forward(self, inputs):
        self.retain_inputs((0, 1))
        e, q = inputs
        xp = backend.get_array_module(e)
        n = len(e)
        if self.metric == 'euclidean':
            diff = e - q
            sq = xp.einsum('ij,ij->i', diff, diff)
            if self.squared:
                self._diff = diff
                return xp.asarray(sq.sum() / n, dtype=e.dtype),
            norm = xp.sqrt(sq)
            self._diff, self._norm = diff, norm
            return xp.asarray(norm.sum() / n, dtype=e.dtype),
        e_norm = xp.sqrt(xp.einsum('ij,ij->i', e, e))
        q_norm = xp.sqrt(xp.einsum('ij,ij->i', q, q))
        denominator = xp.maximum(e_norm * q_norm, cosine_eps(e.dtype))
        cosine = xp.einsum('ij,ij->i', e, q) / denominator
        self._cache = (e_norm, q_norm, denominator, cosine)
        return xp.asarray((1 - cosine).sum() / n, dtype=e.dtype),

    def backward(self, indexes, grad_outputs):
        e_var, q_var = self.get_retained_inputs()
        gy, = grad_outputs
        if chainer.config.enable_backprop:
            loss = composed_quantizing_error(e_var, q_var, self.metric, self.squared)
            return chainer.grad([loss], [e_var, q_var], [gy], enable_double_backprop=True)
        xp = backend.get_array_module(gy.array)
        e, q = e_var.array, q_var.array
        scale = gy.array / len(e)
        if self.metric == 'euclidean':
            if self.squared:
                ge = 2 * scale * self._diff
            else:
                norm = self._norm
                ge = scale * self._diff / xp.where(norm > 0, norm, 1)[:, None]
            return chainer.Variable(ge), chainer.Variable(-ge)
        e_norm, q_norm, denominator, cosine = self._cache
        active = (denominator > cosine_eps(e.dtype))[:, None]
        safe_e = xp.where(e_norm > 0, e_norm, 1)[:, None]
        safe_q = xp.where(q_norm > 0, q_norm, 1)[:, None]
        # d(1 - cos)/de = -q/m + cos e/|e|^2 where m = |e||q| > eps
        ge = -q / denominator[:, None] + active * cosine[:, None] * e / safe_e ** 2
        gq = -e / denominator[:, None] + active * cosine[:, None] * q / safe_q ** 2
        return (chainer.Variable((scale * ge).astype(e.dtype, copy=False)),
                chainer.Variable((scale * gq).astype(e.dtype, copy=False)))


def composed_quantizing_error(e, q, metric, squared=False):
    """The same loss composed from ``chainer.functions`` (reference)."""
    F = chainer.functions
    n = e.shape[0]
    if metric == 'euclidean':
        sq = F.sum((e - q) ** 2, axis=1)
        return F.sum(sq if squared else F.sqrt(sq)) / n
    dot = F.sum(e * q, axis=1)
    norms = F.sqrt(F.sum(e * e, axis=1)) * F.sqrt(F.sum(q * q, axis=1))
    return F.sum(1 - dot / F.clip(norms, float(cosine_eps(e.dtype)), numpy.inf)) / n


def quantizing_error(e, q, metric='euclidean', squared=False):
    """How far embeddings are from their codes, averaged over rows.

    Pass ``e.array`` (a constant) to pull only the codebook, as the VQ-AE
    clustering study does with ``SG(E_out)``; pass ``q.array`` for VQ-VAE's
    commitment term.

    Args:
        e (:class:`~chainer.Variable` or :ref:`ndarray`): embeddings ``(N, d)``.
        q (:class:`~chainer.Variable` or :ref:`ndarray`): codes ``(N, d)``.
        metric (str): ``'euclidean'``: ``|e_i - q_i|``; ``'cosine'``:
            ``1 - e_i.q_i / max(|e_i||q_i|, 1e-8)``.
        squared (bool): Euclidean only; ``|e_i - q_i|^2`` (VQ-VAE's terms).

    Returns:
        ~chainer.Variable: a scalar.

    .. admonition:: Example

        >>> e = np.array([[3., 4.], [1., 0.]], np.float32)
        >>> q = np.zeros((2, 2), np.float32)
        >>> float(quantizing_error(e, q).array)  # (5 + 1) / 2
        3.0
    """
    return QuantizingError(metric, squared).apply((e, q))[0]
