"""Distances from vectors to every code of a codebook (Euclidean or cosine)."""
import chainer
from chainer import backend
from chainer import function_node
from chainer.utils import type_check
import numpy

from chainclust.functions.student_t_assignment import column_sums, row_sums
from chainclust.functions.student_t_assignment import squared_distances

METRICS = ('euclidean', 'cosine')
COSINE_EPS = 1e-8


def cosine_eps(dtype):
    """The floor of ``|e||w|`` in ``dtype``: 1e-8, or the smallest normal number where
    1e-8 would underflow (float16: 6.1e-5)."""
    dtype = numpy.dtype(dtype)
    return dtype.type(max(COSINE_EPS, float(numpy.finfo(dtype).tiny)))


def check_metric(metric):
    if metric not in METRICS:
        raise ValueError('metric must be one of %s, got %r' % (METRICS, metric))
    return metric


def check_codebook_types(in_types):
    """Type check of ``(e (N, d), w (K, d))``: one float dtype, matching d."""
    type_check._argname(in_types, ('e', 'w'))
    e_type, w_type = in_types
    type_check.expect(
        e_type.dtype.kind == 'f',
        e_type.dtype == w_type.dtype,
        e_type.ndim == 2,
        w_type.ndim == 2,
        e_type.shape[1] == w_type.shape[1],
    )


def pairwise(xp, e, w, metric):
    """``(N, K)`` distances between rows of ``e`` ``(N, d)`` and ``w`` ``(K, d)``.

    Euclidean: ``|e_i - w_j|``. Cosine: ``1 - e_i.w_j / max(|e_i||w_j|, 1e-8)``.
    Also returns what backward needs.
    """
    if metric == 'euclidean':
        dist = xp.sqrt(squared_distances(xp, e, w))
        return dist, None
    e_norm = xp.sqrt(xp.einsum('ij,ij->i', e, e))
    w_norm = xp.sqrt(xp.einsum('ij,ij->i', w, w))
    denominator = xp.maximum(e_norm[:, None] * w_norm[None, :], cosine_eps(e.dtype))
    cosine = e.dot(w.T) / denominator
    return 1 - cosine, (cosine, denominator, e_norm, w_norm)


class CodebookDistance(function_node.FunctionNode):
    """Distances ``D`` ``(N, K)`` from embeddings ``e`` to codes ``w``."""

    def __init__(self, metric='euclidean'):
        self.metric = check_metric(metric)

    def check_type_forward(self, in_types):
        check_codebook_types(in_types)

    def forward(self, inputs):
        self.retain_inputs((0, 1))
        e, w = inputs
        xp = backend.get_array_module(e)
        dist, self._cache = pairwise(xp, e, w, self.metric)
        self._dist = dist
        return dist.astype(e.dtype, copy=False),

    def backward(self, indexes, grad_outputs):
        e_var, w_var = self.get_retained_inputs()
        gd, = grad_outputs
        if chainer.config.enable_backprop:
            # Double backprop through the same formula composed from chainer.functions.
            d = composed_distance(e_var, w_var, self.metric)
            return chainer.grad([d], [e_var, w_var], [gd], enable_double_backprop=True)
        xp = backend.get_array_module(gd.array)
        e, w, gd = e_var.array, w_var.array, gd.array
        if self.metric == 'euclidean':
            # d|e_i - w_j| / de_i = (e_i - w_j) / |e_i - w_j| (0 where they coincide)
            dist = self._dist
            g = gd / xp.where(dist > 0, dist, 1) * (dist > 0)
            ge = row_sums(g)[:, None] * e - g.dot(w)
            gw = column_sums(g)[:, None] * w - g.T.dot(e)
        else:
            cosine, denominator, e_norm, w_norm = self._cache
            # D = 1 - (e.w) / m with m = max(|e||w|, eps); where m > eps,
            # dD/de_i = -w_j / m + cos * |w_j| e_i / (|e_i| m), and symmetrically.
            active = denominator > cosine_eps(e.dtype)
            a = -gd / denominator
            b = xp.where(active, gd * cosine / denominator, 0)
            safe_e = xp.where(e_norm > 0, e_norm, 1)
            safe_w = xp.where(w_norm > 0, w_norm, 1)
            ge = a.dot(w) + row_sums(b * w_norm[None, :])[:, None] * e / safe_e[:, None]
            gw = a.T.dot(e) + column_sums(b * e_norm[:, None])[:, None] * w / safe_w[:, None]
        return (chainer.Variable(ge.astype(e.dtype, copy=False)),
                chainer.Variable(gw.astype(e.dtype, copy=False)))


def composed_distance(e, w, metric):
    """The same distances composed from ``chainer.functions`` (reference)."""
    F = chainer.functions
    n, k = e.shape[0], w.shape[0]
    if metric == 'euclidean':
        ee = F.broadcast_to(F.expand_dims(F.sum(e * e, axis=1), 1), (n, k))
        ww = F.broadcast_to(F.expand_dims(F.sum(w * w, axis=1), 0), (n, k))
        return F.sqrt(ee + ww - 2 * F.matmul(e, w, transb=True))
    e_norm = F.broadcast_to(F.expand_dims(F.sqrt(F.sum(e * e, axis=1)), 1), (n, k))
    w_norm = F.broadcast_to(F.expand_dims(F.sqrt(F.sum(w * w, axis=1)), 0), (n, k))
    floor = float(cosine_eps(e.dtype))
    return 1 - F.matmul(e, w, transb=True) / F.clip(e_norm * w_norm, floor, numpy.inf)


def codebook_distance(e, w, metric='euclidean'):
    """Distance from every embedding to every code.

    Args:
        e (:class:`~chainer.Variable` or :ref:`ndarray`): embeddings ``(N, d)``.
        w (:class:`~chainer.Variable` or :ref:`ndarray`): codebook ``(K, d)``.
        metric (str): ``'euclidean'`` for ``|e_i - w_j|``, or ``'cosine'`` for
            ``1 - e_i.w_j / max(|e_i||w_j|, 1e-8)``.

    Returns:
        ~chainer.Variable: ``(N, K)``; the nearest code is the row's argmin.

    .. admonition:: Example

        >>> e = np.array([[3., 4.]], np.float32)
        >>> w = np.array([[0., 0.], [3., 0.]], np.float32)
        >>> codebook_distance(e, w).array
        array([[5., 4.]], dtype=float32)
    """
    return CodebookDistance(metric).apply((e, w))[0]
