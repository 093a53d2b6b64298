import chainer
import chainer.functions as F
from chainer import testing
import numpy
import pytest

from chainclust.functions import linear_relu
from chainclust.links import MLP

GPU_BACKENDS = testing.product({'use_cuda': [True], 'cuda_device': [0]})


def _inputs(rng, n, i, o, dtype, margin=0.3):
    """x, W, b whose pre-activations are at least ``margin`` from the ReLU's kink."""
    w = numpy.linalg.qr(rng.uniform(-1, 1, (i, o)))[0].T  # orthonormal rows (o <= i)
    b = rng.uniform(-1, 1, o)
    pre = rng.uniform(margin, 1.5, (n, o)) * rng.choice([-1, 1], (n, o))
    x = (pre - b).dot(w)  # x W^T = pre - b exactly, and x stays small (|x| <= |pre - b|)
    return x.astype(dtype), w.astype(dtype), b.astype(dtype)


@testing.parameterize(*testing.product({
    'dtype': [numpy.float16, numpy.float32, numpy.float64],
    'shape': [(5, 4, 3), (1, 3, 3), (7, 6, 2)],  # N, I, O
}))
@testing.inject_backend_tests(None, [{}] + GPU_BACKENDS)
class TestLinearReLU(testing.FunctionTestCase):

    def setUp(self):
        if self.dtype == numpy.float16:
            self.check_forward_options = {'atol': 1e-2, 'rtol': 1e-2}
            self.check_backward_options = {'atol': 5e-2, 'rtol': 5e-2, 'eps': 2.0 ** -6}
            self.check_double_backward_options = {'atol': 5e-2, 'rtol': 5e-2,
                                                  'eps': 2.0 ** -6}
            # float16 numerical gradients are too coarse to check reliably (about 1 in 8
            # random draws fails at any useful tolerance); forward is checked in float16,
            # gradients in float32 and float64.
            self.skip_backward_test = self.skip_double_backward_test = True
        else:
            self.check_backward_options = {'atol': 1e-3, 'rtol': 1e-3, 'eps': 1e-3}
            self.check_double_backward_options = {'atol': 1e-3, 'rtol': 1e-3, 'eps': 1e-3}

    def generate_inputs(self):
        return _inputs(numpy.random, *self.shape, dtype=self.dtype)

    def forward(self, inputs, device):
        return linear_relu(*inputs),

    def forward_expected(self, inputs):
        x, w, b = (a.astype(numpy.float64) for a in inputs)
        return numpy.maximum(x.dot(w.T) + b, 0).astype(self.dtype),


@pytest.mark.parametrize('dtype', [numpy.float32, numpy.float64])
def test_same_numbers_as_the_composition(dtype):
    """Forward and all three gradients equal F.relu(F.linear(...)) bit for bit."""
    rng = numpy.random.RandomState(0)
    x0, w0, b0 = (rng.randn(*s).astype(dtype) for s in ((33, 17), (11, 17), (11,)))
    gy = rng.randn(33, 11).astype(dtype)
    results = []
    for fn in (linear_relu, lambda x, w, b: F.relu(F.linear(x, w, b))):
        x, w, b = (chainer.Variable(a.copy()) for a in (x0, w0, b0))
        y = fn(x, w, b)
        y.grad = gy
        y.backward()
        results.append((y.array, x.grad, w.grad, b.grad))
    for ours, theirs in zip(*results):
        assert ours.dtype == dtype
        numpy.testing.assert_array_equal(ours, theirs)


def test_images_are_flattened_as_a_linear_layer_does():
    rng = numpy.random.RandomState(1)
    x = rng.randn(4, 1, 3, 5).astype(numpy.float32)
    w, b = rng.randn(6, 15).astype(numpy.float32), rng.randn(6).astype(numpy.float32)
    numpy.testing.assert_array_equal(linear_relu(x, w, b).array,
                                     F.relu(F.linear(x.reshape(4, 15), w, b)).array)


def test_shape_and_dtype_mismatches_are_refused():
    x, w, b = numpy.zeros((2, 3), 'f'), numpy.zeros((4, 3), 'f'), numpy.zeros(4, 'f')
    for bad in ((x, numpy.zeros((4, 2), 'f'), b), (x, w, numpy.zeros(3, 'f')),
                (x.astype('d'), w, b)):
        with pytest.raises(chainer.utils.type_check.InvalidType):
            linear_relu(*bad)


def test_mlp_trains_as_with_chainers_layers():
    """An MLP built on the fused node computes what Linear + relu computes."""
    mlp = MLP((8, 6, 4, 3), final_activation=True)
    x = numpy.random.RandomState(2).randn(5, 8).astype(numpy.float32)
    expected = x
    for layer in mlp:
        expected = F.relu(layer(expected)).array
    numpy.testing.assert_array_equal(mlp(x).array, expected)
