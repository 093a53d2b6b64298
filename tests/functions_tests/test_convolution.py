import chainer
import chainer.functions as F
from chainer import testing
import numpy
import pytest

from chainclust.functions import convolution_2d, GemmConvolution2D
from chainclust.functions import convolution
from chainclust.links.conv import Convolution2D

# N, C, H, W, O, k, stride, pad: odd sizes, strides that skip pixels, kernels wider than the pad
CASES = [(3, 2, 7, 6, 4, 3, 1, 1), (2, 3, 9, 9, 5, 4, 2, 0), (2, 1, 5, 8, 3, 6, 2, 1),
         (1, 2, 4, 4, 2, 4, 1, 0), (2, 4, 6, 5, 3, (3, 2), (1, 2), (0, 1))]


@pytest.fixture(autouse=True)
def every_shape_is_ours(monkeypatch):
    """The node itself on every case (the dispatcher sends small ones to Chainer)."""
    monkeypatch.setattr(convolution, '_gains', lambda *args: True)


@testing.parameterize(*testing.product({
    'dtype': [numpy.float16, numpy.float32, numpy.float64],
    'case': CASES,
}))
@testing.inject_backend_tests(None, [{}])
class TestGemmConvolution2D(testing.FunctionTestCase):

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
            self.check_forward_options = {'atol': 1e-5, 'rtol': 1e-5}
            self.check_backward_options = {'atol': 1e-3, 'rtol': 1e-3, 'eps': 1e-3}
            self.check_double_backward_options = {'atol': 1e-3, 'rtol': 1e-3, 'eps': 1e-3}

    def generate_inputs(self):
        n, c, h, w, o, k, _, _ = self.case
        kh, kw = k if isinstance(k, tuple) else (k, k)
        return (numpy.random.uniform(-1, 1, (n, c, h, w)).astype(self.dtype),
                numpy.random.uniform(-1, 1, (o, c, kh, kw)).astype(self.dtype),
                numpy.random.uniform(-1, 1, o).astype(self.dtype))

    def forward(self, inputs, device):
        x, W, b = inputs
        return convolution_2d(x, W, b, self.case[6], self.case[7]),

    def forward_expected(self, inputs):
        x, W, b = inputs
        return F.convolution_2d(x, W, b, self.case[6], self.case[7]).array,


@pytest.mark.parametrize('case', CASES)
def test_gradients_equal_chainers_convolution(case):
    n, c, h, w, o, k, stride, pad = case
    kh, kw = k if isinstance(k, tuple) else (k, k)
    rng = numpy.random.RandomState(0)
    x0, w0, b0 = rng.randn(n, c, h, w), rng.randn(o, c, kh, kw), rng.randn(o)
    results, gy = [], None
    for fn in (convolution_2d, F.convolution_2d):
        x, W, b = (chainer.Variable(a.copy()) for a in (x0, w0, b0))
        y = fn(x, W, b, stride, pad)
        gy = rng.randn(*y.shape) if gy is None else gy
        y.grad = gy.copy()
        y.backward()
        results.append((y.array, x.grad, W.grad, b.grad))
    assert isinstance(y.creator, chainer.function_node.FunctionNode)
    for ours, theirs in zip(*results):
        numpy.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-10)


def test_only_the_cpu_path_with_a_bias_is_ours():
    x, W = numpy.ones((1, 1, 3, 3), 'f'), numpy.ones((1, 1, 2, 2), 'f')
    assert isinstance(convolution_2d(x, W, numpy.zeros(1, 'f')).creator, GemmConvolution2D)
    y = convolution_2d(x, W, None)
    assert not isinstance(y.creator, GemmConvolution2D)
    numpy.testing.assert_array_equal(y.array, numpy.full((1, 1, 2, 2), 4, 'f'))


def test_a_kernel_larger_than_the_padded_image_is_refused():
    with pytest.raises(ValueError, match='does not fit'):
        convolution_2d(numpy.ones((1, 1, 3, 3), 'f'), numpy.ones((1, 1, 4, 4), 'f'),
                       numpy.zeros(1, 'f'))


def test_link_is_chainers_link_with_our_function(tmp_path):
    ours = Convolution2D(3, 4, 3, stride=2, pad=1,
                         initialW=chainer.initializers.Normal(rng=numpy.random.RandomState(0)))
    theirs = chainer.links.Convolution2D(3, 4, 3, stride=2, pad=1)
    path = str(tmp_path / 'conv.npz')
    chainer.serializers.save_npz(path, ours)
    chainer.serializers.load_npz(path, theirs)  # same parameter names and shapes
    x = numpy.random.RandomState(1).randn(2, 3, 8, 7).astype('f')
    assert isinstance(ours(x).creator, GemmConvolution2D)
    numpy.testing.assert_allclose(ours(x).array, theirs(x).array, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('needs', ['x', 'W', 'b', 'xW'])
def test_partial_gradients_and_non_contiguous_inputs(needs):
    """Only the requested gradients, right for transposed, strided and sliced inputs."""
    rng = numpy.random.RandomState(3)
    x0 = rng.randn(6, 3, 9, 2)[::2].transpose(0, 1, 3, 2)  # (3, 3, 2, 9), not contiguous
    w0, b0 = rng.randn(3, 4, 2, 2).transpose(1, 0, 2, 3), rng.randn(8)[::2]
    grads = []
    for fn in (convolution_2d, F.convolution_2d):
        x, W, b = (chainer.Variable(a.copy(order='K'), requires_grad=name in needs)
                   for a, name in ((x0, 'x'), (w0, 'W'), (b0, 'b')))
        y = fn(x, W, b, (2, 1), numpy.array([1, 0]))
        y.grad = numpy.ones_like(y.array)
        y.backward()
        grads.append([v.grad for v in (x, W, b)])
    for ours, theirs in zip(*grads):
        assert (ours is None) == (theirs is None)
        if ours is not None:
            numpy.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-10)


def test_the_patch_matrix_is_kept_only_for_the_weights_gradient():
    x = numpy.ones((2, 3, 8, 8), 'f')
    W = chainer.Variable(numpy.ones((4, 3, 3, 3), 'f'), requires_grad=False)
    y = convolution_2d(x, W, numpy.zeros(4, 'f'), 1, 1)
    assert y.creator._col is None
    W = chainer.Variable(W.array)
    y = convolution_2d(x, W, numpy.zeros(4, 'f'), 1, 1)
    assert y.creator._col is not None
    y.grad = numpy.ones_like(y.array)
    y.backward()
    assert y.creator._col is None


@pytest.mark.parametrize('shape, kernel, ours', [((2, 16, 8, 8), 3, True), ((2, 1, 8, 8), 3, False),
                                                 ((2, 16, 5, 5), 5, False)])
def test_dispatch_by_shape(monkeypatch, shape, kernel, ours):
    monkeypatch.undo()  # the real dispatcher
    x = numpy.ones(shape, 'f')
    W = numpy.ones((3, shape[1], kernel, kernel), 'f')
    y = convolution_2d(x, W, numpy.zeros(3, 'f'))
    assert isinstance(y.creator, GemmConvolution2D) == ours
