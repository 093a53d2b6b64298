import chainer
import chainer.functions as F
from chainer import testing
import numpy
import pytest

from chainclust.functions.max_pooling import max_pooling_2x2, MaxPooling2x2

SHAPES = [(2, 3, 4, 6), (3, 2, 7, 5), (1, 1, 2, 3), (2, 4, 9, 8)]  # odd sides drop a row/column


@testing.parameterize(*testing.product({
    'dtype': [numpy.float32, numpy.float64],
    'shape': SHAPES,
}))
@testing.inject_backend_tests(None, [{}])
class TestMaxPooling2x2(testing.FunctionTestCase):

    def setUp(self):
        self.check_backward_options = {'atol': 1e-3, 'rtol': 1e-3, 'eps': 1e-3}
        self.check_double_backward_options = {'atol': 1e-3, 'rtol': 1e-3, 'eps': 1e-3}

    def generate_inputs(self):
        # distinct values 0.01 apart, so a numerical step never changes a window's argmax
        size = int(numpy.prod(self.shape))
        x = numpy.random.permutation(size).reshape(self.shape) * 0.01 - size * 0.005
        return x.astype(self.dtype),

    def forward(self, inputs, device):
        return MaxPooling2x2().apply(inputs)

    def forward_expected(self, inputs):
        return F.max_pooling_2d(inputs[0], 2, cover_all=False).array,


@pytest.mark.parametrize('shape', SHAPES + [(20, 16, 28, 28)])
def test_values_and_gradients_equal_chainers_with_ties(shape):
    rng = numpy.random.RandomState(0)
    x = rng.randint(-2, 3, shape).astype(numpy.float32)  # many windows with equal maxima
    ours, theirs = chainer.Variable(x), chainer.Variable(x.copy())
    y_ours, y_theirs = max_pooling_2x2(ours), F.max_pooling_2d(theirs, 2, cover_all=False)
    gy = rng.standard_normal(y_ours.shape).astype(numpy.float32)
    y_ours.grad, y_theirs.grad = gy, gy.copy()
    y_ours.backward()
    y_theirs.backward()
    numpy.testing.assert_array_equal(y_ours.array, y_theirs.array)
    numpy.testing.assert_array_equal(ours.grad, theirs.grad)  # the first maximum takes it


def test_too_small_input_is_a_clear_type_error():
    with pytest.raises(chainer.utils.type_check.InvalidType):
        max_pooling_2x2(numpy.zeros((1, 1, 1, 4), numpy.float32))
