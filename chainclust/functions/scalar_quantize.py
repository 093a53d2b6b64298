"""Element-wise quantisation to a scalar codebook per latent dimension (VQ-VAE bottleneck)."""
import chainer
from chainer import backend
from chainer.backends import cuda
from chainer import function_node
from chainer.utils import type_check
import numpy


@cuda.memoize()
def _nearest_kernel():
    """Index of the nearest code of each element, and that code, on the GPU."""
    return cuda.elementwise(
        'T z, raw T codebook, int32 d, int32 k',
        'int32 index, T q',
        '''
        int j = i % d;
        int best = 0;
        T best_distance = fabs(z - codebook[j * k]);
        for (int c = 1; c < k; ++c) {
            T distance = fabs(z - codebook[j * k + c]);
            if (distance < best_distance) { best_distance = distance; best = c; }
        }
        index = best;
        q = codebook[j * k + best];
        ''',
        'chainclust_scalar_quantize')


class ScalarQuantize(function_node.FunctionNode):
    """``q_nj = codebook[j, argmin_c |z_nj - codebook[j, c]|]``.

    The choice is piecewise constant, so the gradient to ``z`` is zero; the
    gradient of ``q`` flows into the chosen codes (summed over the samples
    that chose each one). VQ-VAE's straight-through estimator is a separate
    step (:func:`straight_through`). Ties go to the lowest index.
    """

    def check_type_forward(self, in_types):
        type_check._argname(in_types, ('z', 'codebook'))
        z_type, c_type = in_types
        type_check.expect(
            z_type.dtype.kind == 'f',
            z_type.dtype == c_type.dtype,
            z_type.ndim == 2,
            c_type.ndim == 2,
            z_type.shape[1] == c_type.shape[0],
            c_type.shape[1] > 0,
        )

    def forward_cpu(self, inputs):
        z, codebook = inputs
        self.index = numpy.abs(z[:, :, None] - codebook[None]).argmin(axis=2)
        self._shape = codebook.shape
        return numpy.take_along_axis(codebook[None], self.index[:, :, None], 2)[:, :, 0],

    def forward_gpu(self, inputs):
        z, codebook = inputs
        d, k = codebook.shape
        index, q = _nearest_kernel()(z, cuda.cupy.ascontiguousarray(codebook), d, k)
        self.index, self._shape = index.astype(numpy.int64), codebook.shape
        return q,

    def backward(self, indexes, grad_outputs):
        gq, = grad_outputs
        return None, ScatterToCodes(self.index, self._shape).apply((gq,))[0]


class ScatterToCodes(function_node.FunctionNode):
    """``out[j, c] = sum_n g[n, j] [index[n, j] == c]``; ``(N, d) -> (d, K)``.

    Its backward is the gather ``g[j, index[n, j]]``, so double backprop works.
    """

    def __init__(self, index, shape):
        self.index, self.shape = index, shape

    def forward(self, inputs):
        g, = inputs
        xp = backend.get_array_module(g)
        d, k = self.shape
        self._flat = (self.index + xp.arange(d)[None, :] * k).ravel()
        out = xp.zeros(d * k, dtype=g.dtype)
        if xp is numpy:
            numpy.add.at(out, self._flat, g.ravel())
        else:
            import cupyx
            cupyx.scatter_add(out, self._flat, g.ravel())
        return out.reshape(d, k),

    def backward(self, indexes, grad_outputs):
        gw, = grad_outputs
        F = chainer.functions
        d, k = self.shape
        gathered = F.embed_id(self._flat, F.reshape(gw, (d * k, 1)))
        return F.reshape(gathered, self.index.shape),


def scalar_quantize(z, codebook):
    """Replace every latent element by the nearest code of its dimension.

    Args:
        z (:class:`~chainer.Variable` or :ref:`ndarray`): encoder outputs ``(N, d)``.
        codebook (:class:`~chainer.Variable` or :ref:`ndarray`): ``(d, K)``,
            K scalar codes for each of the d dimensions (ae_bakeoff's VQ-VAE).

    Returns:
        tuple: ``(q, index)``: the codes ``(N, d)`` (differentiable w.r.t. the
        codebook only) and the chosen indices ``(N, d)`` int64.

    .. admonition:: Example

        >>> codebook = np.array([[0., 1.], [-1., 5.]], np.float32)
        >>> q, index = scalar_quantize(np.array([[0.4, 3.]], np.float32), codebook)
        >>> q.array, index
        (array([[0., 5.]], dtype=float32), array([[0, 1]]))
    """
    node = ScalarQuantize()
    q, = node.apply((z, codebook))
    return q, node.index


def straight_through(z, q):
    """``q`` in the forward pass, the identity to ``z`` in the backward pass.

    ``z + (q - z)`` with the difference held constant: the decoder sees the
    codes and its gradient reaches the encoder unchanged (van den Oord et al. 2017).
    """
    q = q.array if isinstance(q, chainer.Variable) else q
    z_array = z.array if isinstance(z, chainer.Variable) else z
    return z + (q - z_array)
