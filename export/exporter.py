"""Export a fitted chainclust estimator as one self-contained ONNX assigner.

The graph takes the data as the model was trained on it (e.g. uint8 images of
shape ``(N, 28, 28)``), applies the recorded normalisation, the encoder and the
method's assignment head, and returns

* ``label``: int64 ``(N,)``;
* ``proba`` (methods with soft assignments) or ``distance`` (codebook methods):
  float32 ``(N, K)``;
* ``embedding``: float32 ``(N, d)``.

The batch dimension is dynamic. ``metadata_props`` describe the model for the
runtime (see :data:`chainclust_runtime.metadata.KEYS`).
"""
import copy
import json
import logging
import os

import numpy
import onnx
from onnx import helper, TensorProto

from chainclust._version import __version__
from chainclust.io import atomic_path
from chainclust_export import graph
from chainclust_export.converters import CONVERTERS
from chainclust_export.errors import ExportError

DEFAULT_OPSET = 17
MIN_OPSET = 17
TRACE_BATCH = 13  # an unusual size, so that it is never mistaken for a feature size


def assigner_model(estimator, opset=DEFAULT_OPSET):
    """Build the ONNX ModelProto of a fitted estimator's assigner.

    Args:
        estimator: a fitted chainclust estimator; its network (``net_``, a
            :class:`chainclust.models.ClusteringNet`) gives the graph through
            ``assign(x)``.
        opset (int): ONNX opset, >= 17.

    Returns:
        onnx.ModelProto: checked and shape-inferred.
    """
    newest = onnx.defs.onnx_opset_version()
    if not MIN_OPSET <= int(opset) <= newest:
        raise ExportError('opset must be in %d..%d (the newest this onnx %s knows), got %s'
                          % (MIN_OPSET, newest, onnx.__version__, opset))
    estimator._check_fitted()
    net = copy.deepcopy(estimator.net_)  # the estimator keeps its device
    net.to_cpu()
    input_shape = tuple(estimator.input_shape_)
    input_dtype = numpy.dtype(estimator.input_dtype_)
    if input_dtype not in graph.ONNX_DTYPES or input_dtype == numpy.bool_:
        raise ExportError('cannot export input dtype %s' % input_dtype)
    example = numpy.zeros((TRACE_BATCH,) + input_shape, numpy.float32)
    traced_input = 'input' if input_dtype == numpy.float32 else 'input_float'
    names = []

    def forward(x):
        outputs = net.assign(x)
        names.extend(outputs)
        return tuple(outputs.values())

    builder, output_names, shapes = graph.build(
        forward, example, graph.parameter_names(net), CONVERTERS, traced_input)
    graph.fold_affine_into_gemm(builder)
    if traced_input != 'input':
        builder.nodes.insert(0, helper.make_node(
            'Cast', ['input'], [traced_input], name='n_cast_input', to=TensorProto.FLOAT))
    outputs = dict(zip(names, output_names))
    shapes = dict(zip(names, shapes))
    score = net.score
    if score not in outputs or 'embedding' not in outputs:
        raise ExportError('%s.assign must return %r and embedding'
                          % (type(net).__name__, score))
    pick = 'ArgMax' if score == 'proba' else 'ArgMin'
    builder.node(pick, [outputs[score]], 'label', axis=1, keepdims=0)
    for name in (score, 'embedding'):
        builder.node('Identity', [outputs[name]], name)
    k = estimator.n_clusters
    graph_outputs = [
        helper.make_tensor_value_info('label', TensorProto.INT64, ['batch']),
        helper.make_tensor_value_info(score, TensorProto.FLOAT, ['batch', k]),
        helper.make_tensor_value_info('embedding', TensorProto.FLOAT,
                                      ['batch'] + list(shapes['embedding'][1:])),
    ]
    graph_inputs = [helper.make_tensor_value_info(
        'input', graph.ONNX_DTYPES[input_dtype], ['batch'] + list(input_shape))]
    metadata = {
        'chainclust.format': 'chainclust-assigner',
        'chainclust.version': __version__,
        'chainclust.method': estimator.method,
        'chainclust.n_clusters': str(k),
        'chainclust.input_shape': json.dumps(list(input_shape)),
        'chainclust.input_dtype': str(input_dtype),
        'chainclust.score': score,
        'chainclust.normalization': json.dumps(net.normalization_info()),
        'chainclust.data': json.dumps(getattr(estimator, 'data_info_', {})),
        'chainclust.metrics': json.dumps(getattr(estimator, 'metrics_', None)),
    }
    return graph.make_model(builder, graph_inputs, graph_outputs, int(opset), metadata,
                            __version__)


QUANTIZATIONS = ('int8',)


def export_onnx(estimator, path, opset=DEFAULT_OPSET, quantize=None, calibration=None):
    """Write the assigner of ``estimator`` to ``path`` atomically; return the model.

    Args:
        quantize (str or None): ``'int8'`` writes a statically quantized model
            (int8 weights and activations, QDQ format; onnxruntime's
            ``quantize_static``) with the same inputs, outputs and metadata. Its
            activation scales are calibrated once on ``calibration``, so a row's
            label does not depend on the other rows of its batch (dynamic
            quantization's per-batch scales made about 1% of labels depend on it).
        calibration (numpy.ndarray or None): raw samples ``(N, *input_shape)``
            for the int8 calibration, e.g. the training data (up to
            :data:`CALIBRATION_ROWS` evenly spaced rows are used).
    """
    if quantize not in (None,) + QUANTIZATIONS:
        raise ExportError('quantize must be one of %s, got %r' % (QUANTIZATIONS, quantize))
    if quantize == 'int8':
        if calibration is None:
            raise ExportError('int8 quantization needs calibration data (e.g. the training '
                              'data) to fix its activation scales')
        calibration = estimator._check_input(calibration)
    model = assigner_model(estimator, opset)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise ExportError('no such folder: %s' % directory)
    with atomic_path(path) as tmp:
        onnx.save(model, tmp)
        if quantize == 'int8':
            model = _quantize_int8(tmp, model, calibration)
        _check_loads(tmp, opset)  # before the file takes its place
    return model


def _check_loads(path, opset):
    """Raise ExportError unless onnxruntime (when installed) can load ``path``."""
    try:
        import onnxruntime
    except ImportError:
        return
    try:
        onnxruntime.InferenceSession(path, providers=['CPUExecutionProvider'])
    except Exception as e:  # onnxruntime raises its own exception types
        raise ExportError('onnxruntime %s cannot load the exported model at opset %s (%s); '
                          'choose a lower --opset' % (onnxruntime.__version__, opset,
                                                      str(e).splitlines()[0][:200]))


CALIBRATION_ROWS = 2048


def _encoder_nodes(model):
    """Names of the Gemm/MatMul/Conv nodes that compute the ``embedding`` output."""
    producer = {out: node for node in model.graph.node for out in node.output}
    names, stack, seen = [], ['embedding'], set()
    while stack:
        node = producer.get(stack.pop())
        if node is None or node.name in seen:
            continue
        seen.add(node.name)
        if node.op_type in ('Gemm', 'MatMul', 'Conv'):
            names.append(node.name)
        stack.extend(node.input)
    return names


def _quantize_int8(path, fp32_model, calibration):
    """Replace the fp32 model at ``path`` by its statically quantized version."""
    try:
        from onnxruntime.quantization import (CalibrationDataReader, QuantFormat,
                                              quantize_static, QuantType)
    except ImportError:
        raise ExportError('int8 quantization needs onnxruntime: pip install onnxruntime')
    rows = numpy.linspace(0, len(calibration) - 1,
                          min(len(calibration), CALIBRATION_ROWS)).astype(int)
    batches = [calibration[rows[i:i + 256]] for i in range(0, len(rows), 256)]

    class Batches(CalibrationDataReader):
        def __init__(self):
            self._batches = iter(batches)

        def get_next(self):
            batch = next(self._batches, None)
            return None if batch is None else {'input': batch}

    source = path + '.fp32.onnx'
    os.replace(path, source)
    try:
        # Only the encoder: the assignment head compares embeddings with centres
        # or codes that can lie closer together than an int8 step.
        logging.disable(logging.WARNING)  # its advice to pre-process, on the root logger
        quantize_static(source, path, Batches(), quant_format=QuantFormat.QDQ,
                        activation_type=QuantType.QInt8, weight_type=QuantType.QInt8,
                        nodes_to_quantize=_encoder_nodes(fp32_model))
    finally:
        logging.disable(logging.NOTSET)
        os.remove(source)
    model = onnx.load(path)
    del model.metadata_props[:]
    for prop in fp32_model.metadata_props:
        model.metadata_props.add(key=prop.key, value=prop.value)
    model.metadata_props.add(key='chainclust.quantization', value='int8-static')
    onnx.save(model, path)
    return model


def function_model(fn, example, link=None, opset=DEFAULT_OPSET):
    """ONNX model of an arbitrary traced function (float32 input ``input``,
    outputs ``output0``, ``output1``...; dynamic batch). For tests and tools.

    Args:
        fn: callable, Variable ``(B, ...)`` -> Variable or tuple of Variables.
        example (numpy.ndarray): a float32 example batch of ``TRACE_BATCH`` rows
            or any size that no other axis shares.
        link (chainer.Link or None): whose Parameters become named initializers.
    """
    def forward(x):
        y = fn(x)
        return y if isinstance(y, tuple) else (y,)

    parameters = graph.parameter_names(link) if link is not None else {}
    builder, names, shapes = graph.build(forward, example, parameters, CONVERTERS,
                                         'input')
    outputs = []
    for i, (name, shape) in enumerate(zip(names, shapes)):
        builder.node('Identity', [name], 'output%d' % i)
        outputs.append(helper.make_tensor_value_info(
            'output%d' % i, TensorProto.FLOAT, ['batch'] + list(shape[1:])))
    inputs = [helper.make_tensor_value_info('input', TensorProto.FLOAT,
                                            ['batch'] + list(example.shape[1:]))]
    return graph.make_model(builder, inputs, outputs, int(opset), {}, __version__)
