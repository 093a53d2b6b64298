"""A CPU 2-D convolution that multiplies channels-last patches: one GEMM, no transposing copies.

Chainer's CPU convolution builds its patch matrix as ``(N, C, kh, kw, oh, ow)``
and hands it to ``numpy.tensordot``, which copies it again into the
``(N oh ow, C kh kw)`` order a matrix product needs (and once more in each of
the two backward products), then ``col2im`` scatters the patch gradient back
in a Python loop over the output pixels' rows. :class:`GemmConvolution2D`
gathers the patches of the zero-padded channels-last image directly in GEMM
order with one strided copy, so forward is that copy plus one GEMM, and
backward is two GEMMs plus ``kh * kw`` slice additions. Inputs and outputs
stay ``NCHW`` like Chainer's, and the parameters are the same ``W (O, C, kh,
kw)`` and ``b (O,)``, so models, snapshots and the ONNX export do not change.

Stride and padding as Chainer's ``cover_all=False``; no dilation or groups.
On a GPU, :func:`convolution_2d` uses Chainer's (cuDNN) convolution.
"""
import chainer
from chainer import backend
from chainer import function_node
import chainer.functions as F
from chainer.utils import type_check
import numpy
from numpy.lib.stride_tricks import as_strided


MIN_CHANNELS = 8  # measured: 0.64x Chainer's speed at 1 channel, 1.38x at 16


def _gains(x, W, stride, pad):
    """True where the channels-last GEMM beats Chainer's convolution (benchmarks/bench_conv.py)."""
    _, c, h, w = x.shape
    kh, kw = W.shape[2:]
    (sy, sx), (ph, pw) = _pair(stride), _pair(pad)
    single = (h + 2 * ph - kh) // sy + 1 == 1 and (w + 2 * pw - kw) // sx + 1 == 1
    return c >= MIN_CHANNELS and not single


def _pair(value):
    if hasattr(value, '__getitem__'):  # a tuple, list or array, as Chainer accepts
        return int(value[0]), int(value[1])
    return (int(value),) * 2


def _patches(x_padded, kh, kw, sy, sx, oh, ow):
    """``(N, Hp, Wp, C)`` channels-last image -> ``(N oh ow, kh kw C)`` patch matrix (a copy)."""
    n, _, _, c = x_padded.shape
    s_n, s_h, s_w, s_c = x_padded.strides
    view = as_strided(x_padded, (n, oh, ow, kh, kw, c),
                      (s_n, s_h * sy, s_w * sx, s_h, s_w, s_c), writeable=False)
    return numpy.ascontiguousarray(view).reshape(n * oh * ow, kh * kw * c)


class GemmConvolution2D(function_node.FunctionNode):
    """``y = conv(x, W) + b`` on the CPU: ``x (N, C, H, W)``, ``W (O, C, kh, kw)``,
    ``b (O,)`` -> ``y (N, O, oh, ow)``, ``oh = (H + 2 ph - kh) // sy + 1``.

    The attribute names (``sy, sx, ph, pw, dy, dx, groups, cover_all``) are
    Chainer's, so the ONNX exporter converts it as Chainer's convolution.
    """

    dy = dx = groups = 1
    cover_all = False

    def __init__(self, stride=1, pad=0, keep_patches=True):
        self.sy, self.sx = _pair(stride)
        self.ph, self.pw = _pair(pad)
        self.keep_patches = keep_patches

    def check_type_forward(self, in_types):
        type_check._argname(in_types, ('x', 'W', 'b'))
        x_type, w_type, b_type = in_types
        type_check.expect(
            x_type.dtype.kind == 'f',
            w_type.dtype == x_type.dtype,
            b_type.dtype == x_type.dtype,
            x_type.ndim == 4,
            w_type.ndim == 4,
            b_type.ndim == 1,
            x_type.shape[1] == w_type.shape[1],
            b_type.shape[0] == w_type.shape[0],
        )

    def forward_cpu(self, inputs):
        self.retain_inputs((0, 1, 2))
        x, W, b = inputs
        n, c, h, w = x.shape
        o, _, kh, kw = W.shape
        oh = (h + 2 * self.ph - kh) // self.sy + 1
        ow = (w + 2 * self.pw - kw) // self.sx + 1
        if oh < 1 or ow < 1:
            raise ValueError('a %dx%d kernel does not fit a %dx%d input with padding %s '
                             'and stride %s' % (kh, kw, h, w, (self.ph, self.pw),
                                                (self.sy, self.sx)))
        self._out = (oh, ow)
        col = self._patch_matrix(x, kh, kw)
        # The patch matrix (kh kw times the input) serves W's gradient only: kept for
        # it when wanted, otherwise backward rebuilds it if asked.
        self._col = col if self.keep_patches else None
        w_matrix = W.transpose(2, 3, 1, 0).reshape(kh * kw * c, o)
        y = col.dot(w_matrix).astype(x.dtype, copy=False)
        y += b
        return numpy.ascontiguousarray(y.reshape(n, oh, ow, o).transpose(0, 3, 1, 2)),

    def _patch_matrix(self, x, kh, kw):
        n, c, h, w = x.shape
        padded = numpy.zeros((n, h + 2 * self.ph, w + 2 * self.pw, c), dtype=x.dtype)
        padded[:, self.ph:self.ph + h, self.pw:self.pw + w, :] = x.transpose(0, 2, 3, 1)
        return _patches(padded, kh, kw, self.sy, self.sx, *self._out)

    def backward(self, indexes, grad_outputs):
        x, W, b = self.get_retained_inputs()
        gy, = grad_outputs
        if chainer.config.enable_backprop:
            # Double backprop: differentiate Chainer's own convolution.
            y = F.convolution_2d(x, W, b, (self.sy, self.sx), (self.ph, self.pw))
            grads = chainer.grad([y], [x, W, b], [gy], enable_double_backprop=True)
            return tuple(grads[i] for i in indexes)
        x, W, gy = x.array, W.array, gy.array
        n, c, h, w = x.shape
        o, _, kh, kw = W.shape
        oh, ow = self._out
        g_matrix = numpy.ascontiguousarray(gy.transpose(0, 2, 3, 1)).reshape(n * oh * ow, o)
        grads = []
        if 0 in indexes:
            w_matrix = W.transpose(2, 3, 1, 0).reshape(kh * kw * c, o)
            g_col = g_matrix.dot(w_matrix.T).reshape(n, oh, ow, kh, kw, c)
            g_padded = numpy.zeros((n, h + 2 * self.ph, w + 2 * self.pw, c), dtype=x.dtype)
            for i in range(kh):
                for j in range(kw):
                    g_padded[:, i:i + self.sy * (oh - 1) + 1:self.sy,
                             j:j + self.sx * (ow - 1) + 1:self.sx, :] += g_col[:, :, :, i, j, :]
            gx = g_padded[:, self.ph:self.ph + h, self.pw:self.pw + w, :]
            grads.append(numpy.ascontiguousarray(gx.transpose(0, 3, 1, 2)))
        if 1 in indexes:
            col = self._col if self._col is not None else self._patch_matrix(x, kh, kw)
            self._col = None  # used once: backward runs once per graph
            g_w = col.T.dot(g_matrix).reshape(kh, kw, c, o)
            grads.append(numpy.ascontiguousarray(g_w.transpose(3, 2, 0, 1)).astype(
                W.dtype, copy=False))
        if 2 in indexes:
            grads.append(g_matrix.sum(axis=0))
        return tuple(chainer.Variable(g) for g in grads)


def convolution_2d(x, W, b, stride=1, pad=0):
    """A 2-D convolution of ``NCHW`` images, :class:`GemmConvolution2D` on the CPU.

    Same result as ``F.convolution_2d(x, W, b, stride, pad)`` (within rounding:
    the sums run in another order). Other devices, calls without a bias, and
    the shapes where Chainer's is as fast (fewer than :data:`MIN_CHANNELS`
    input channels, whose patches are too short to copy efficiently, and
    kernels that cover the whole padded image, one output pixel) use
    Chainer's convolution.

    Args:
        x: ``(N, C, H, W)`` images.
        W: ``(O, C, kh, kw)`` filters.
        b: ``(O,)`` bias, or ``None``.
        stride (int or pair): ``(sy, sx)``.
        pad (int or pair): ``(ph, pw)``, zeros.

    Returns:
        chainer.Variable: ``(N, O, oh, ow)``.
    """
    array = x.array if isinstance(x, chainer.Variable) else x
    if b is None or backend.get_array_module(array) is not numpy or not _gains(array, W, stride,
                                                                              pad):
        return F.convolution_2d(x, W, b, stride, pad)
    keep = (chainer.config.enable_backprop and isinstance(W, chainer.Variable)
            and W.requires_grad)
    return GemmConvolution2D(stride, pad, keep).apply((x, W, b))[0]
