"""One converter per Chainer FunctionNode class, emitting standard ONNX ops.

A converter is called as ``convert(builder, function, inputs, outputs, in_data)``
with the ONNX names of the node's inputs and outputs and the arrays it was
called with (for shapes and constants). Register with :func:`converter`.
"""
import numpy

from chainclust_export.errors import UnsupportedNodeError

CONVERTERS = {}


def converter(*class_names):
    def register(fn):
        for name in class_names:
            CONVERTERS[name] = fn
        return fn
    return register


def _unsupported(function, why):
    raise UnsupportedNodeError('cannot export node %s: %s'
                               % (type(function).__name__, why))


def _pair(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


# -- element-wise ------------------------------------------------------------
_UNARY = {'ReLU': 'Relu', 'Sigmoid': 'Sigmoid', 'Tanh': 'Tanh', 'Exp': 'Exp',
          'Log': 'Log', 'Neg': 'Neg', 'Absolute': 'Abs', 'Sqrt': 'Sqrt',
          'Identity': 'Identity', 'Dropout': 'Identity', 'Copy': 'Identity'}


@converter(*_UNARY)
def convert_unary(b, f, inputs, outputs, in_data):
    b.node(_UNARY[type(f).__name__], inputs[:1], outputs)


@converter('LeakyReLU')
def convert_leaky_relu(b, f, inputs, outputs, in_data):
    b.node('LeakyRelu', inputs, outputs, alpha=float(f.slope))


_BINARY = {'Add': 'Add', 'Sub': 'Sub', 'Mul': 'Mul', 'Div': 'Div',
           'Maximum': 'Max', 'Minimum': 'Min', 'PowVarVar': 'Pow'}


@converter(*_BINARY)
def convert_binary(b, f, inputs, outputs, in_data):
    b.node(_BINARY[type(f).__name__], inputs, outputs)


@converter('AddConstant', 'MulConstant', 'SubFromConstant', 'DivFromConstant',
           'PowVarConst', 'PowConstVar')
def convert_constant_arithmetic(b, f, inputs, outputs, in_data):
    kind = type(f).__name__
    value = b.constant(numpy.asarray(f.value, dtype=in_data[0].dtype))
    op, order = {'AddConstant': ('Add', 'xc'), 'MulConstant': ('Mul', 'xc'),
                 'SubFromConstant': ('Sub', 'cx'), 'DivFromConstant': ('Div', 'cx'),
                 'PowVarConst': ('Pow', 'xc'), 'PowConstVar': ('Pow', 'cx')}[kind]
    pair = [inputs[0], value] if order == 'xc' else [value, inputs[0]]
    b.node(op, pair, outputs)


@converter('Clip')
def convert_clip(b, f, inputs, outputs, in_data):
    dtype = in_data[0].dtype
    b.node('Clip', [inputs[0], b.constant(f.x_min, dtype), b.constant(f.x_max, dtype)],
           outputs)


@converter('Softmax', 'LogSoftmax')
def convert_softmax(b, f, inputs, outputs, in_data):
    b.node(type(f).__name__, inputs, outputs, axis=int(getattr(f, 'axis', 1)))


@converter('Cast')
def convert_cast(b, f, inputs, outputs, in_data):
    from chainclust_export.graph import ONNX_DTYPES
    b.node('Cast', inputs, outputs, to=ONNX_DTYPES[numpy.dtype(f.type)])


# -- shapes ------------------------------------------------------------------
@converter('Reshape')
def convert_reshape(b, f, inputs, outputs, in_data):
    shape = list(f.shape)
    batch = in_data[0].shape[0]
    if len(shape) and shape[0] == batch:
        shape[0] = 0  # copy the (dynamic) batch dimension from the input
    elif -1 not in shape:
        _unsupported(f, 'reshape to %s would fix the batch size' % (tuple(f.shape),))
    b.node('Reshape', [inputs[0], b.constant(shape, numpy.int64)], outputs)


@converter('Transpose')
def convert_transpose(b, f, inputs, outputs, in_data):
    axes = f.axes if f.axes is not None else tuple(reversed(range(in_data[0].ndim)))
    if axes[0] != 0:
        _unsupported(f, 'transposing the batch axis')
    b.node('Transpose', inputs, outputs, perm=[int(a) for a in axes])


@converter('Concat')
def convert_concat(b, f, inputs, outputs, in_data):
    b.node('Concat', inputs, outputs, axis=int(f.axis))


@converter('SplitAxis')
def convert_split_axis(b, f, inputs, outputs, in_data):
    ndim = in_data[0].ndim
    axis = int(f.axis) % ndim
    if axis == 0:
        _unsupported(f, 'splitting the batch axis')
    length = in_data[0].shape[axis]
    if f.indices is not None:
        bounds = [0] + [int(i) for i in f.indices] + [length]
        sizes = [b_ - a for a, b_ in zip(bounds, bounds[1:])]
    else:
        sizes = [length // int(f.sections)] * int(f.sections)
    b.node('Split', [inputs[0], b.constant(sizes, numpy.int64)], outputs, axis=axis)


@converter('Sum')
def convert_sum(b, f, inputs, outputs, in_data):
    if f.axis is None:
        _unsupported(f, 'summing over the batch axis')
    axes = [a % in_data[0].ndim for a in f.axis]
    if 0 in axes:
        _unsupported(f, 'summing over the batch axis')
    b.node('ReduceSum', [inputs[0], b.constant(axes, numpy.int64)], outputs,
           keepdims=int(f.keepdims))


# -- layers ------------------------------------------------------------------
@converter('LinearFunction')
def convert_linear(b, f, inputs, outputs, in_data):
    if in_data[0].ndim != 2:
        _unsupported(f, 'linear on a %d-D input' % in_data[0].ndim)
    b.node('Gemm', inputs, outputs, transB=1)


@converter('LinearReLU')
def convert_linear_relu(b, f, inputs, outputs, in_data):
    b.node('Relu', [b.node('Gemm', inputs, transB=1)], outputs)


@converter('MatMul')
def convert_matmul(b, f, inputs, outputs, in_data):
    a, c = inputs
    if getattr(f, 'transa', False):
        _unsupported(f, 'transa')
    if getattr(f, 'transb', False):
        if in_data[1].ndim != 2:
            _unsupported(f, 'transb on a batched right operand')
        c = b.node('Transpose', [c], perm=[1, 0])
    b.node('MatMul', [a, c], outputs)


@converter('Convolution2DFunction', 'GemmConvolution2D')
def convert_convolution(b, f, inputs, outputs, in_data):
    if getattr(f, 'cover_all', False):
        _unsupported(f, 'cover_all=True')
    b.node('Conv', inputs, outputs, strides=[f.sy, f.sx], pads=[f.ph, f.pw, f.ph, f.pw],
           dilations=[f.dy, f.dx], group=int(getattr(f, 'groups', 1)))


@converter('Deconvolution2DFunction')
def convert_deconvolution(b, f, inputs, outputs, in_data):
    x, w = in_data[0], in_data[1]
    natural = (f.sy * (x.shape[2] - 1) + w.shape[2] - 2 * f.ph,
               f.sx * (x.shape[3] - 1) + w.shape[3] - 2 * f.pw)
    outsize = (natural[0] if f.outh is None else f.outh,
               natural[1] if f.outw is None else f.outw)
    extra = [outsize[0] - natural[0], outsize[1] - natural[1]]
    if not all(0 <= e < stride for e, stride in zip(extra, (f.sy, f.sx))):
        _unsupported(f, 'an output size beyond the stride')
    if getattr(f, 'dy', 1) != 1 or getattr(f, 'dx', 1) != 1:
        _unsupported(f, 'dilation')
    attributes = {'output_padding': extra} if any(extra) else {}
    b.node('ConvTranspose', inputs, outputs, strides=[f.sy, f.sx],
           pads=[f.ph, f.pw, f.ph, f.pw], group=int(getattr(f, 'groups', 1)), **attributes)


@converter('FixedBatchNormalization')
def convert_fixed_batch_normalization(b, f, inputs, outputs, in_data):
    if in_data[0].ndim == 2:  # ONNX needs a channel axis followed by spatial ones
        x4 = b.node('Unsqueeze', [inputs[0], b.constant([2], numpy.int64)])
        y4 = b.node('BatchNormalization', [x4] + list(inputs[1:]), epsilon=float(f.eps))
        b.node('Squeeze', [y4, b.constant([2], numpy.int64)], outputs)
    else:
        b.node('BatchNormalization', inputs, outputs, epsilon=float(f.eps))


@converter('MaxPoolingND', 'MaxPooling2D', 'MaxPooling2x2')
def convert_max_pooling(b, f, inputs, outputs, in_data):
    if type(f).__name__ in ('MaxPooling2D', 'MaxPooling2x2'):
        ksize, stride, pad = (f.kh, f.kw), (f.sy, f.sx), (f.ph, f.pw)
    else:
        ksize, stride, pad = f.ksize, f.stride, f.pad
    b.node('MaxPool', inputs, outputs, kernel_shape=list(ksize), strides=list(stride),
           pads=list(pad) * 2, ceil_mode=int(bool(f.cover_all)))


@converter('AveragePooling2D')
def convert_average_pooling(b, f, inputs, outputs, in_data):
    b.node('AveragePool', inputs, outputs, kernel_shape=[f.kh, f.kw],
           strides=[f.sy, f.sx], pads=[f.ph, f.pw, f.ph, f.pw], count_include_pad=1)


@converter('Unpooling2D')
def convert_unpooling(b, f, inputs, outputs, in_data):
    if (f.kh, f.kw) != (f.sy, f.sx) or f.ph or f.pw or f.cover_all:
        _unsupported(f, 'only ksize == stride, pad 0, cover_all=False (nearest upsampling)')
    scales = b.constant([1, 1, f.sy, f.sx], numpy.float32)
    b.node('Resize', [inputs[0], '', scales], outputs, mode='nearest',
           coordinate_transformation_mode='asymmetric', nearest_mode='floor')


@converter('ResizeImages')
def convert_resize_images(b, f, inputs, outputs, in_data):
    if getattr(f, 'mode', 'bilinear') != 'bilinear' or not getattr(f, 'align_corners', True):
        _unsupported(f, 'only bilinear with align_corners=True')
    size = b.constant([in_data[0].shape[1], f.out_H, f.out_W], numpy.int64)
    batch = b.node('Slice', [b.node('Shape', [inputs[0]]), b.constant([0], numpy.int64),
                             b.constant([1], numpy.int64)])
    sizes = b.node('Concat', [batch, size], axis=0)
    b.node('Resize', [inputs[0], '', '', sizes], outputs, mode='linear',
           coordinate_transformation_mode='align_corners')


# -- chainclust's own nodes ----------------------------------------------------
@converter('StudentTAssignment')
def convert_student_t_assignment(b, f, inputs, outputs, in_data):
    """``q`` from ``z`` and the centres, in Gemm/ReduceSum/Reciprocal/Pow/Div."""
    z_name, mu_name = inputs
    mu = numpy.asarray(in_data[1])
    d2 = squared_distances(b, z_name, mu_name, mu)
    alpha = f.alpha
    if alpha != 1:
        d2 = b.node('Div', [d2, b.constant(alpha, mu.dtype)])
    kernel = b.node('Reciprocal', [b.node('Add', [d2, b.constant(1, mu.dtype)])])
    if alpha != 1:
        kernel = b.node('Pow', [kernel, b.constant((alpha + 1) / 2.0, mu.dtype)])
    total = b.node('ReduceSum', [kernel, b.constant([1], numpy.int64)], keepdims=1)
    b.node('Div', [kernel, total], outputs)


def squared_distances(b, z_name, mu_name, mu):
    """``|z|^2 + |mu|^2 - 2 z mu^T`` clipped at 0, ``(N, K)``; ``|mu|^2`` is folded."""
    mu_sq = b.constant((mu.astype(numpy.float64) ** 2).sum(axis=1)[None, :], mu.dtype)
    cross = b.node('Gemm', [z_name, mu_name, mu_sq], alpha=-2.0, beta=1.0, transB=1)
    z_sq = b.node('ReduceSum', [b.node('Mul', [z_name, z_name]),
                                b.constant([1], numpy.int64)], keepdims=1)
    return b.node('Max', [b.node('Add', [cross, z_sq]), b.constant(0, mu.dtype)])


@converter('CodebookDistance')
def convert_codebook_distance(b, f, inputs, outputs, in_data):
    """Euclidean ``sqrt(max(|e|^2 + |w|^2 - 2 e w^T, 0))`` or cosine
    ``1 - e w^T / max(|e||w|, 1e-8)``; the codebook's norms are folded."""
    e_name, w_name = inputs
    w = numpy.asarray(in_data[1])
    if f.metric == 'euclidean':
        b.node('Sqrt', [squared_distances(b, e_name, w_name, w)], outputs)
        return
    from chainclust.functions.codebook_distance import cosine_eps
    w_norm = b.constant(numpy.sqrt((w.astype(numpy.float64) ** 2).sum(axis=1))[None, :],
                        w.dtype)
    e_norm = b.node('Sqrt', [b.node('ReduceSum', [b.node('Mul', [e_name, e_name]),
                                                  b.constant([1], numpy.int64)],
                                    keepdims=1)])
    denominator = b.node('Max', [b.node('Mul', [e_norm, w_norm]),
                                 b.constant(float(cosine_eps(w.dtype)), w.dtype)])
    dot = b.node('Gemm', [e_name, w_name], transB=1)
    b.node('Sub', [b.constant(1, w.dtype), b.node('Div', [dot, denominator])], outputs)



@converter('ScalarQuantize')
def convert_scalar_quantize(b, f, inputs, outputs, in_data):
    """The nearest scalar code of each element: ArgMin of ``|z - codebook|`` over the
    codes, then a Gather from the flattened codebook (ties: the first, as NumPy)."""
    z_name, codebook_name = inputs
    d, k = numpy.asarray(in_data[1]).shape
    z3 = b.node('Unsqueeze', [z_name, b.constant([2], numpy.int64)])
    distance = b.node('Abs', [b.node('Sub', [z3, codebook_name])])
    index = b.node('ArgMin', [distance], axis=2, keepdims=0)
    flat_index = b.node('Add', [index, b.constant(numpy.arange(d)[None, :] * k, numpy.int64)])
    flat_codebook = b.node('Reshape', [codebook_name, b.constant([-1], numpy.int64)])
    b.node('Gather', [flat_codebook, flat_index], outputs, axis=0)


@converter('GaussianMixturePosterior')
def convert_gaussian_mixture_posterior(b, f, inputs, outputs, in_data):
    """``log p(z | x, w)``: LogSoftmax over ``-0.5 sum_d (logvar + (x - mu)^2 / var)``."""
    x_name, mu_name, logvar_name = inputs
    dtype = numpy.asarray(in_data[0]).dtype
    x3 = b.node('Unsqueeze', [x_name, b.constant([1], numpy.int64)])
    diff = b.node('Sub', [x3, mu_name])
    scaled = b.node('Mul', [b.node('Mul', [diff, diff]),
                            b.node('Exp', [b.node('Neg', [logvar_name])])])
    total = b.node('ReduceSum', [b.node('Add', [logvar_name, scaled]),
                                 b.constant([2], numpy.int64)], keepdims=0)
    b.node('LogSoftmax', [b.node('Mul', [total, b.constant(-0.5, dtype)])], outputs, axis=1)
