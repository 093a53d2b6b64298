"""Every converter: the ONNX graph in onnxruntime equals Chainer's forward,
at a batch size other than the traced one (the batch axis is dynamic)."""
import chainer
import chainer.functions as F
import chainer.links as L
import numpy
import onnxruntime
import pytest

from chainclust.functions import codebook_distance, scalar_quantize, student_t_assignment
from chainclust_export import function_model, UnsupportedNodeError
from chainclust_export.exporter import TRACE_BATCH


def _check(fn, sample_shape, link=None, atol=1e-5):
    rng = numpy.random.RandomState(0)
    example = rng.randn(TRACE_BATCH, *sample_shape).astype(numpy.float32)
    model = function_model(fn, example, link)
    session = onnxruntime.InferenceSession(model.SerializeToString(),
                                           providers=['CPUExecutionProvider'])
    x = rng.randn(5, *sample_shape).astype(numpy.float32)
    with chainer.using_config('train', False):
        expected = fn(chainer.Variable(x))
    expected = expected if isinstance(expected, tuple) else (expected,)
    got = session.run(None, {'input': x})
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        numpy.testing.assert_allclose(g, e.array, rtol=1e-5, atol=atol)
    return model


def _link(link):
    numpy.random.seed(1)
    return link


LINEAR = _link(L.Linear(6, 4))
CONV = _link(L.Convolution2D(3, 4, 3, stride=2, pad=1))
DECONV = _link(L.Deconvolution2D(4, 3, 4, stride=2, pad=1))
# an explicit output size one more than the natural 8 (ONNX output_padding)
DECONV_OUTSIZE = _link(L.Deconvolution2D(4, 3, 4, stride=2, pad=1, outsize=(9, 8)))
BN = L.BatchNormalization(3)
BN.avg_mean[...] = numpy.array([0.5, -1.0, 2.0], numpy.float32)
BN.avg_var[...] = numpy.array([0.25, 2.0, 1.5], numpy.float32)
BN.gamma.array[...] = numpy.array([1.5, 0.5, -1.0], numpy.float32)
BN.beta.array[...] = numpy.array([0.1, 0.2, 0.3], numpy.float32)
BN1D = L.BatchNormalization(6)
BN1D.avg_var[...] = 2.0
CENTRES = chainer.Parameter(numpy.random.RandomState(2).randn(4, 6).astype(numpy.float32))
SCALAR_CODES = chainer.Parameter(numpy.random.RandomState(3).randn(6, 9).astype(numpy.float32))

CASES = {
    'linear_relu': (lambda x: F.relu(LINEAR(x)), (6,), LINEAR),
    'leaky_relu': (lambda x: F.leaky_relu(x, 0.3), (6,), None),
    'sigmoid_tanh_exp': (lambda x: (F.sigmoid(x), F.tanh(x), F.exp(x)), (6,), None),
    'softmax': (lambda x: (F.softmax(x, axis=1), F.log_softmax(x)), (6,), None),
    'reshape_transpose': (lambda x: F.transpose(F.reshape(x, (x.shape[0], 2, 3)),
                                                (0, 2, 1)), (6,), None),
    'split_axis': (lambda x: F.split_axis(x, 2, axis=1), (6,), None),
    'split_axis_indices': (lambda x: F.split_axis(x, [1, 4], axis=1), (6,), None),
    'scalar_quantize': (lambda x: scalar_quantize(x, SCALAR_CODES)[0], (6,), None),
    'concat': (lambda x: F.concat((x, x * 2), axis=1), (6,), None),
    'arithmetic': (lambda x: ((x + 1) * 2 - x / (x * x + 3), 1 - x, 2 / (x * x + 1),
                              -x, x ** 2, F.maximum(x, x * 0.5)), (6,), None),
    'sum': (lambda x: F.sum(x, axis=1, keepdims=True), (6,), None),
    'dropout_in_test_mode': (lambda x: F.dropout(x, 0.5) + 0, (6,), None),
    'convolution': (lambda x: CONV(x), (3, 8, 8), CONV),
    'deconvolution': (lambda x: DECONV(x), (4, 4, 4), DECONV),
    'deconvolution_outsize': (lambda x: DECONV_OUTSIZE(x), (4, 4, 4), DECONV_OUTSIZE),
    'batch_normalization': (lambda x: BN(x), (3, 4, 4), BN),
    'batch_normalization_1d': (lambda x: BN1D(x), (6,), BN1D),
    'max_pooling': (lambda x: F.max_pooling_2d(x, 2), (3, 7, 7), None),
    'max_pooling_exact': (lambda x: F.max_pooling_2d(x, 2, cover_all=False), (3, 8, 8),
                          None),
    'average_pooling': (lambda x: F.average_pooling_2d(x, 3, stride=2, pad=1), (3, 8, 8),
                        None),
    'unpooling': (lambda x: F.unpooling_2d(x, 2, cover_all=False), (3, 4, 4), None),
    'resize': (lambda x: F.resize_images(x, (7, 9)), (3, 4, 5), None),
    'student_t': (lambda x: student_t_assignment(x, CENTRES, 1.0), (6,), None),
    'student_t_alpha': (lambda x: student_t_assignment(x, CENTRES, 2.5), (6,), None),
    'codebook_euclidean': (lambda x: codebook_distance(x, CENTRES, 'euclidean'), (6,), None),
    'codebook_cosine': (lambda x: codebook_distance(x, CENTRES, 'cosine'), (6,), None),
}


@pytest.mark.parametrize('name', sorted(CASES))
def test_converter_parity(name):
    fn, shape, link = CASES[name]
    _check(fn, shape, link)


def test_parameters_are_named_initializers_not_inputs():
    model = _check(lambda x: F.relu(LINEAR(x)), (6,), LINEAR)
    assert [i.name for i in model.graph.input] == ['input']
    assert {'W', 'b'} <= {i.name for i in model.graph.initializer}
    assert model.opset_import[0].version >= 17


def test_unsupported_node_is_named():
    with pytest.raises(UnsupportedNodeError, match='Sin'):
        function_model(lambda x: F.sin(x), numpy.zeros((TRACE_BATCH, 3), numpy.float32))


def test_fixed_batch_reshape_is_refused():
    with pytest.raises(UnsupportedNodeError, match='batch'):
        function_model(lambda x: F.reshape(x, (x.shape[0] * 3,)),
                       numpy.zeros((TRACE_BATCH, 3), numpy.float32))
