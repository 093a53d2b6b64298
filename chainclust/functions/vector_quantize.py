"""Nearest-code quantisation with a scatter-add backward to the codebook."""
import chainer
from chainer import backend
from chainer import function_node
import numpy

from chainclust.functions.codebook_distance import check_codebook_types, check_metric
from chainclust.functions.codebook_distance import pairwise


def nearest_codes(xp, e, w, metric):
    """Index ``(N,)`` of the nearest code of each row of ``e`` (no graph)."""
    return pairwise(xp, e, w, metric)[0].argmin(axis=1)


class VectorQuantize(function_node.FunctionNode):
    """``q_i = w[argmin_j D(e_i, w_j)]``.

    The gradient of ``q`` flows into the selected codebook rows (summed over
    the samples that chose each code). The true gradient to ``e`` is zero
    (the choice is piecewise constant); with ``straight_through`` it is passed
    unchanged to ``e`` instead, as in VQ-VAE.
    """

    def __init__(self, metric='euclidean', straight_through=False):
        self.metric = check_metric(metric)
        self.straight_through = bool(straight_through)

    def check_type_forward(self, in_types):
        check_codebook_types(in_types)

    def forward(self, inputs):
        e, w = inputs
        xp = backend.get_array_module(e)
        self.index = nearest_codes(xp, e, w, self.metric)
        self._n_codes = len(w)
        return w[self.index],

    def backward(self, indexes, grad_outputs):
        gq, = grad_outputs
        ge = gq if self.straight_through else None
        gw = ScatterAddRows(self.index, self._n_codes).apply((gq,))[0]
        return ge, gw


class ScatterAddRows(function_node.FunctionNode):
    """``out[k] = sum of rows i of x with index[i] == k``; ``(N, d) -> (K, d)``.

    Its backward is the gather ``g[index]``, so double backprop works.
    """

    def __init__(self, index, n_rows):
        self.index, self.n_rows = index, n_rows

    def forward(self, inputs):
        x, = inputs
        xp = backend.get_array_module(x)
        out = xp.zeros((self.n_rows,) + x.shape[1:], dtype=x.dtype)
        if xp is numpy:
            numpy.add.at(out, self.index, x)
        else:
            import cupyx
            cupyx.scatter_add(out, self.index, x)
        return out,

    def backward(self, indexes, grad_outputs):
        g, = grad_outputs
        return chainer.functions.embed_id(self.index, g),


def vector_quantize(e, w, metric='euclidean', straight_through=False):
    """Replace each embedding by its nearest code.

    Args:
        e (:class:`~chainer.Variable` or :ref:`ndarray`): embeddings ``(N, d)``.
        w (:class:`~chainer.Variable` or :ref:`ndarray`): codebook ``(K, d)``.
        metric (str): ``'euclidean'`` (argmin of ``|e - w|``) or ``'cosine'``
            (argmax of cosine similarity).
        straight_through (bool): pass the gradient of ``q`` to ``e`` unchanged.

    Returns:
        tuple: ``(q, index)``: the codes ``(N, d)`` as a Variable and the chosen
        indices ``(N,)`` as an array.

    .. admonition:: Example

        >>> e = np.array([[0.9, 0.1], [-1., 0.2]], np.float32)
        >>> w = np.array([[1., 0.], [-1., 0.]], np.float32)
        >>> q, index = vector_quantize(e, w)
        >>> q.array, index
        (array([[ 1.,  0.],
               [-1.,  0.]], dtype=float32), array([0, 1]))
    """
    node = VectorQuantize(metric, straight_through)
    q, = node.apply((e, w))
    return q, node.index
