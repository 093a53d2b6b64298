"""2x2 max pooling with stride 2 from four strided views: no patch matrix, no argmax array.

Chainer's CPU max pooling builds the ``(N, C, kh, kw, oh, ow)`` patch matrix
(im2col), takes its argmax, and in backward scatters the gradient back with
``col2im``, a Python loop over kernel positions with full-size temporaries.
For the common 2x2 window with stride 2 and no padding, the four positions of
every window are four strided views of the input; :class:`MaxPooling2x2` takes
their elementwise maximum in forward and, in backward, sends each output
gradient to the first position (row-major, as Chainer's argmax) that holds the
maximum. Same values and gradients as ``F.max_pooling_2d(x, 2, cover_all=False)``
(an odd last row or column is dropped). On a GPU, :func:`max_pooling_2x2` uses
Chainer's (cuDNN) pooling; the node itself runs on NumPy or CuPy alike.
"""
from chainer import backend
from chainer import function_node
import chainer.functions as F
from chainer.utils import type_check
import numpy


def _views(x):
    """``(N, C, H, W)`` array or Variable -> its four ``(N, C, H // 2, W // 2)`` views.

    In the window's row-major order: (0, 0), (0, 1), (1, 0), (1, 1).
    """
    h, w = x.shape[2] // 2 * 2, x.shape[3] // 2 * 2
    return (x[:, :, 0:h:2, 0:w:2], x[:, :, 0:h:2, 1:w:2],
            x[:, :, 1:h:2, 0:w:2], x[:, :, 1:h:2, 1:w:2])


class MaxPooling2x2(function_node.FunctionNode):
    """``x (N, C, H, W)`` -> ``y (N, C, H // 2, W // 2)``, the maximum of each 2x2 window.

    The attribute names (``kh, kw, sy, sx, ph, pw, cover_all``) are those of
    Chainer's ``MaxPooling2D``, so the ONNX exporter converts it the same way.
    """

    kh = kw = sy = sx = 2
    ph = pw = 0
    cover_all = False

    def check_type_forward(self, in_types):
        type_check._argname(in_types, ('x',))
        x_type, = in_types
        type_check.expect(x_type.dtype.kind == 'f', x_type.ndim == 4,
                          x_type.shape[2] >= 2, x_type.shape[3] >= 2)

    def forward(self, inputs):
        x, = inputs
        xp = backend.get_array_module(x)
        a, b, c, d = _views(x)
        y = xp.maximum(a, b)
        xp.maximum(y, c, out=y)
        xp.maximum(y, d, out=y)
        self.retain_inputs((0,))
        self.retain_outputs((0,))
        return y,

    def backward(self, indexes, grad_outputs):
        x, = self.get_retained_inputs()
        y, = self.get_retained_outputs()
        return MaxPooling2x2Grad(x.array, y.array).apply(grad_outputs)


class MaxPooling2x2Grad(function_node.FunctionNode):
    """``gy (N, C, H // 2, W // 2)`` -> ``gx (N, C, H, W)``: each ``gy`` to its window's argmax."""

    def __init__(self, x, y):
        xp = backend.get_array_module(x)
        self.in_shape, self.dtype = x.shape, x.dtype
        taken = xp.zeros(y.shape, bool)
        self.masks = []
        for view in _views(x):
            first = view == y
            first &= ~taken
            taken |= first
            self.masks.append(first)

    def forward(self, inputs):
        gy, = inputs
        xp = backend.get_array_module(gy)
        gx = xp.zeros(self.in_shape, self.dtype)
        for view, mask in zip(_views(gx), self.masks):
            xp.multiply(gy, mask, out=view)
        return gx,

    def backward(self, indexes, grad_outputs):
        ggx, = grad_outputs
        a, b, c, d = (view * mask.astype(ggx.dtype)
                      for mask, view in zip(self.masks, _views(ggx)))
        return a + b + c + d,


def max_pooling_2x2(x):
    """``F.max_pooling_2d(x, 2, cover_all=False)`` from four strided views.

    Args:
        x (chainer.Variable or array): ``(N, C, H, W)``, ``H, W >= 2``.

    Returns:
        chainer.Variable: ``(N, C, H // 2, W // 2)``.
    """
    if backend.get_array_module(x) is not numpy:
        return F.max_pooling_2d(x, 2, cover_all=False)
    return MaxPooling2x2().apply((x,))[0]
