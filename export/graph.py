"""Trace a Chainer computation and rebuild it as an ONNX graph.

The model runs once in test mode (``train=False``) with the graph recorded; a
:class:`chainer.FunctionHook` keeps each node's input arrays. The walk starts at
the outputs, follows ``creator_node`` back to the input, and emits the nodes in
topological order through the converter registered for each node's class.
Parameters become initializers (never graph inputs); other leaf arrays (such as
the normalisation's offset and scale) become constant initializers.
"""
import chainer
import numpy
import onnx
from onnx import helper, numpy_helper, TensorProto

from chainclust_export.errors import ExportError, UnsupportedNodeError

ONNX_DTYPES = {numpy.dtype(k): v for k, v in (
    ('float32', TensorProto.FLOAT), ('float64', TensorProto.DOUBLE),
    ('float16', TensorProto.FLOAT16), ('uint8', TensorProto.UINT8),
    ('int8', TensorProto.INT8), ('int16', TensorProto.INT16),
    ('int32', TensorProto.INT32), ('int64', TensorProto.INT64),
    ('uint16', TensorProto.UINT16), ('bool', TensorProto.BOOL))}


class _Recorder(chainer.FunctionHook):
    """Keeps every applied node and the arrays it was called with."""

    name = 'chainclust_export_recorder'

    def __init__(self):
        self.inputs = {}
        self.keep = []  # nodes stay alive so that their ids stay unique

    def forward_preprocess(self, function, in_data):
        self.inputs[id(function)] = tuple(in_data)
        self.keep.append(function)


class GraphBuilder(object):
    """Collects ONNX nodes and initializers under unique names."""

    def __init__(self):
        self.nodes, self.initializers = [], []
        self._names = set()

    def unique(self, base):
        name, i = base, 1
        while name in self._names:
            i += 1
            name = '%s_%d' % (base, i)
        self._names.add(name)
        return name

    def add_initializer(self, base, array):
        """Store ``array`` as an initializer and return its name."""
        name = self.unique(base)
        self.initializers.append(numpy_helper.from_array(numpy.asarray(array), name))
        return name

    def constant(self, array, dtype=numpy.float32, base='const'):
        return self.add_initializer(base, numpy.asarray(array, dtype=dtype))

    def node(self, op_type, inputs, outputs=None, base=None, **attributes):
        """Append a node; ``outputs`` are fresh names when omitted. Returns them."""
        if outputs is None:
            outputs = [self.unique((base or op_type).lower())]
        elif isinstance(outputs, str):
            outputs = [outputs]
        self.nodes.append(helper.make_node(
            op_type, list(inputs), list(outputs), name=self.unique('n_' + op_type),
            **attributes))
        return outputs[0] if len(outputs) == 1 else outputs


def trace(fn, example):
    """Run ``fn`` on ``example`` with the graph recorded, in test mode.

    Args:
        fn: callable taking a Variable ``(B, ...)`` and returning a tuple of
            Variables.
        example (numpy.ndarray): a float32 input batch.

    Returns:
        tuple: ``(x, outputs, recorder)``.
    """
    x = chainer.Variable(example)
    recorder = _Recorder()
    with chainer.using_config('train', False), chainer.using_config(
            'enable_backprop', True), recorder:
        outputs = fn(x)
    return x, tuple(outputs), recorder


def topological_nodes(outputs):
    """The FunctionNodes that produce ``outputs``, inputs first."""
    order, seen = [], set()

    def visit(function):
        stack = [(function, False)]
        while stack:
            f, expanded = stack.pop()
            if expanded:
                order.append(f)
                continue
            if id(f) in seen:
                continue
            seen.add(id(f))
            stack.append((f, True))
            for vnode in f.inputs:
                if vnode.creator_node is not None and id(vnode.creator_node) not in seen:
                    stack.append((vnode.creator_node, False))

    for out in outputs:
        if out.creator_node is None:
            raise ExportError('an output is not computed from the input')
        visit(out.creator_node)
    return order


def build(fn, example, parameters, converters, input_name):
    """Convert the traced computation of ``fn`` into ONNX nodes.

    Args:
        fn: see :func:`trace`.
        example (numpy.ndarray): float32 example input.
        parameters (dict): ``id(VariableNode) -> name`` of the model's Parameters.
        converters (dict): node class name -> converter.
        input_name (str): the ONNX name the traced input takes.

    Returns:
        tuple: ``(builder, output_names, output_shapes)``; the shapes are those
        of the traced outputs, batch axis included.
    """
    x, outputs, recorder = trace(fn, example)
    builder = GraphBuilder()
    builder._names.add(input_name)
    names = {id(x.node): input_name}
    for function in topological_nodes(outputs):
        kind = type(function).__name__
        converter = converters.get(kind)
        if converter is None:
            raise UnsupportedNodeError(
                'cannot export node %s (%s): no ONNX converter for it'
                % (kind, function.label))
        in_data = recorder.inputs.get(id(function))
        input_names = []
        for i, vnode in enumerate(function.inputs):
            key = id(vnode)
            if key not in names:
                if vnode.creator_node is not None:
                    raise ExportError('graph order broken at %s' % kind)
                if key in parameters:
                    array = vnode.get_variable().array
                    names[key] = builder.add_initializer(parameters[key], array)
                else:
                    names[key] = builder.constant(
                        chainer.backend.CpuDevice().send(in_data[i]),
                        dtype=in_data[i].dtype)
            input_names.append(names[key])
        output_names = []
        for ref in function.outputs:
            vnode = ref()
            name = builder.unique('%s_out' % kind.lower())
            if vnode is not None:
                names[id(vnode)] = name
            output_names.append(name)
        converter(builder, function, input_names, output_names, in_data)
    return (builder, [names[id(out.node)] for out in outputs],
            [out.shape for out in outputs])


def fold_affine_into_gemm(builder):
    """Fold ``Gemm(Mul(Sub(x, c), s), W, b, transB=1)`` into ``Gemm(x, W', b')``.

    With constant ``c`` and ``s`` (the normalisation), ``W' = W * s`` and
    ``b' = b - W' c``: two passes over the input disappear. Exact up to float
    rounding; applied only where each intermediate has a single consumer.
    """
    inits = {t.name: t for t in builder.initializers}
    consumers = {}
    for node in builder.nodes:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    for sub in [n for n in builder.nodes if n.op_type == 'Sub']:
        if sub.input[1] not in inits or len(consumers.get(sub.output[0], [])) != 1:
            continue
        mul = consumers[sub.output[0]][0]
        if mul.op_type != 'Mul' or mul.input[0] != sub.output[0] or \
                mul.input[1] not in inits or len(consumers.get(mul.output[0], [])) != 1:
            continue
        gemm = consumers[mul.output[0]][0]
        attrs = {a.name: helper.get_attribute_value(a) for a in gemm.attribute}
        if gemm.op_type != 'Gemm' or gemm.input[0] != mul.output[0] or \
                attrs.get('transB') != 1 or attrs.get('transA', 0) != 0 or \
                attrs.get('alpha', 1.0) != 1.0 or len(gemm.input) < 3 or \
                gemm.input[1] not in inits or gemm.input[2] not in inits:
            continue
        offset = numpy_helper.to_array(inits[sub.input[1]]).astype(numpy.float64)
        scale = numpy_helper.to_array(inits[mul.input[1]]).astype(numpy.float64)
        w = numpy_helper.to_array(inits[gemm.input[1]]).astype(numpy.float64)
        b = numpy_helper.to_array(inits[gemm.input[2]]).astype(numpy.float64)
        if offset.ndim > 1 or scale.ndim > 1:
            continue
        w_folded = w * numpy.broadcast_to(scale, w.shape[1:])[None, :]
        b_folded = attrs.get('beta', 1.0) * b - w_folded.dot(
            numpy.broadcast_to(offset, w.shape[1:]))
        dtype = numpy_helper.to_array(inits[gemm.input[1]]).dtype
        w_name = builder.add_initializer(gemm.input[1] + '_folded', w_folded.astype(dtype))
        b_name = builder.add_initializer(gemm.input[2] + '_folded', b_folded.astype(dtype))
        gemm.input[0], gemm.input[1], gemm.input[2] = sub.input[0], w_name, b_name
        for attr in list(gemm.attribute):
            if attr.name == 'beta':
                gemm.attribute.remove(attr)
        builder.nodes.remove(sub)
        builder.nodes.remove(mul)
    used = {name for node in builder.nodes for name in node.input}
    builder.initializers[:] = [t for t in builder.initializers if t.name in used]


def parameter_names(link):
    """``id(VariableNode) -> 'path_to_param'`` for every Parameter of ``link``."""
    return {id(param.node): path.strip('/').replace('/', '.')
            for path, param in link.namedparams()}


def make_model(builder, inputs, outputs, opset, metadata, producer_version):
    """Assemble, check and shape-infer an ONNX ModelProto."""
    graph = helper.make_graph(builder.nodes, 'chainclust', inputs, outputs,
                              initializer=builder.initializers)
    model = helper.make_model(
        graph, producer_name='chainclust', producer_version=producer_version,
        opset_imports=[helper.make_opsetid('', opset)])
    model.ir_version = min(model.ir_version, 10)
    for key, value in metadata.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(model, full_check=True)
    return onnx.shape_inference.infer_shapes(model, strict_mode=True)
