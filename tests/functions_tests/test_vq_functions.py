import unittest

import chainer
from chainer import testing
from chainer.utils import type_check
import numpy

from chainclust.functions import codebook_distance, quantizing_error, vector_quantize

GPU_BACKENDS = testing.product({'use_cuda': [True], 'cuda_device': [0]})


def _tolerances(case):
    if case.dtype == numpy.float16:
        case.check_forward_options = {'atol': 5e-3, 'rtol': 5e-3}
        options = {'atol': 5e-2, 'rtol': 5e-2, 'eps': 2.0 ** -6}
    else:
        options = {'atol': 1e-3, 'rtol': 1e-3, 'eps': 1e-3}
    case.check_backward_options = options
    case.check_double_backward_options = options


def _naive_distances(e, w, metric):
    e, w = e.astype(numpy.float64), w.astype(numpy.float64)
    if metric == 'euclidean':
        return numpy.sqrt(((e[:, None, :] - w[None, :, :]) ** 2).sum(axis=2))
    norms = numpy.linalg.norm(e, axis=1)[:, None] * numpy.linalg.norm(w, axis=1)[None, :]
    return 1 - e.dot(w.T) / numpy.maximum(norms, 1e-8)


@testing.parameterize(*testing.product({
    'dtype': [numpy.float16, numpy.float32, numpy.float64],
    'metric': ['euclidean', 'cosine'],
    'shape': [(6, 4, 3), (1, 1, 2), (9, 3, 8)],  # N, K, d
}))
@testing.inject_backend_tests(None, [{}] + GPU_BACKENDS)
class TestCodebookDistance(testing.FunctionTestCase):

    def setUp(self):
        _tolerances(self)

    def generate_inputs(self):
        n, k, d = self.shape
        # away from coincident points, where |e - w| is not differentiable
        w = numpy.random.uniform(-1, 1, (k, d))
        e = numpy.random.uniform(-1, 1, (n, d)) + 3
        return e.astype(self.dtype), w.astype(self.dtype)

    def forward(self, inputs, device):
        e, w = inputs
        return codebook_distance(e, w, self.metric),

    def forward_expected(self, inputs):
        e, w = inputs
        return _naive_distances(e, w, self.metric).astype(self.dtype),


@testing.parameterize(*testing.product({
    'dtype': [numpy.float16, numpy.float32, numpy.float64],
    'metric_squared': [('euclidean', False), ('euclidean', True), ('cosine', False)],
    'shape': [(6, 3), (1, 2), (9, 8)],
}))
@testing.inject_backend_tests(None, [{}] + GPU_BACKENDS)
class TestQuantizingError(testing.FunctionTestCase):

    def setUp(self):
        _tolerances(self)
        self.metric, self.squared = self.metric_squared

    def generate_inputs(self):
        e = numpy.random.uniform(-1, 1, self.shape)
        q = e + numpy.random.uniform(0.2, 0.6, self.shape) * numpy.random.choice(
            [-1, 1], self.shape)
        return e.astype(self.dtype), q.astype(self.dtype)

    def forward(self, inputs, device):
        e, q = inputs
        return quantizing_error(e, q, self.metric, self.squared),

    def forward_expected(self, inputs):
        e, q = [a.astype(numpy.float64) for a in inputs]
        if self.metric == 'euclidean':
            sq = ((e - q) ** 2).sum(axis=1)
            value = (sq if self.squared else numpy.sqrt(sq)).mean()
        else:
            norms = numpy.linalg.norm(e, axis=1) * numpy.linalg.norm(q, axis=1)
            value = (1 - (e * q).sum(axis=1) / numpy.maximum(norms, 1e-8)).mean()
        return numpy.asarray(value, dtype=self.dtype),


@testing.parameterize(*testing.product({
    'dtype': [numpy.float32, numpy.float64],
    'metric': ['euclidean', 'cosine'],
}))
@testing.inject_backend_tests(None, [{}] + GPU_BACKENDS)
class TestVectorQuantize(testing.FunctionTestCase):
    """Gradient to the codebook, checked away from ties (each embedding sits
    close to one code, so small perturbations never change the choice)."""

    def setUp(self):
        _tolerances(self)
        rng = numpy.random.RandomState(5)
        self.w0 = numpy.array([[2., 0., 0.], [0., 2., 0.], [0., 0., 2.], [-2., 0., 0.]])
        self.index = rng.randint(0, 4, 8)
        self.e = (self.w0[self.index] + 0.05 * rng.randn(8, 3)).astype(self.dtype)

    def generate_inputs(self):
        return (self.w0 + 0.01 * numpy.random.randn(4, 3)).astype(self.dtype),

    def forward(self, inputs, device):
        w, = inputs
        q, index = vector_quantize(device.send(self.e), w, self.metric)
        return q,

    def forward_expected(self, inputs):
        w, = inputs
        return w[self.index],


class TestVQValues(unittest.TestCase):

    def test_distance_golden_values(self):
        e = numpy.array([[3., 4.]])
        w = numpy.array([[0., 0.], [3., 0.], [-3., -4.]])
        numpy.testing.assert_allclose(codebook_distance(e, w).array, [[5., 4., 10.]])
        numpy.testing.assert_allclose(codebook_distance(e, w, 'cosine').array,
                                      [[1., 1 - 0.6, 2.]])

    def test_quantize_picks_nearest_and_scatters_gradient(self):
        w = chainer.Variable(numpy.array([[1., 0.], [0., 1.], [5., 5.]]))
        e = chainer.Variable(numpy.array([[0.9, 0.2], [0.1, 0.8], [1.2, -0.1]]))
        q, index = vector_quantize(e, w)
        numpy.testing.assert_array_equal(index, [0, 1, 0])
        q.grad = numpy.ones((3, 2))
        q.backward()
        numpy.testing.assert_array_equal(w.grad, [[2., 2.], [1., 1.], [0., 0.]])
        self.assertIsNone(e.grad)

    def test_cosine_ignores_length(self):
        w = numpy.array([[10., 0.], [0., 0.1]])
        _, index = vector_quantize(numpy.array([[0.1, 1.0]]), w, 'cosine')
        numpy.testing.assert_array_equal(index, [1])
        _, index = vector_quantize(numpy.array([[0.1, 1.0]]), w, 'euclidean')
        numpy.testing.assert_array_equal(index, [1])
        _, index = vector_quantize(numpy.array([[8., 1.0]]), w, 'cosine')
        numpy.testing.assert_array_equal(index, [0])

    def test_straight_through(self):
        w = chainer.Variable(numpy.array([[1., 0.], [0., 1.]]))
        e = chainer.Variable(numpy.array([[0.9, 0.2]]))
        q, _ = vector_quantize(e, w, straight_through=True)
        q.grad = numpy.array([[3., 4.]])
        q.backward()
        numpy.testing.assert_array_equal(e.grad, [[3., 4.]])

    def test_quantizing_error_golden(self):
        e = numpy.array([[3., 4.], [1., 0.]])
        q = numpy.zeros((2, 2))
        self.assertAlmostEqual(float(quantizing_error(e, q).array), 3.0)
        self.assertAlmostEqual(float(quantizing_error(e, q, squared=True).array), 13.0)
        # q = 0: |e||q| = 0 < 1e-8, so cos = e.q / 1e-8 = 0 and the error is 1
        self.assertAlmostEqual(float(quantizing_error(e, q, 'cosine').array), 1.0)
        q = numpy.array([[-3., -4.], [2., 0.]])
        self.assertAlmostEqual(float(quantizing_error(e, q, 'cosine').array), 1.0)

    def test_cosine_of_a_zero_vector_is_finite_in_float16(self):
        # 1e-8 underflows to 0 in float16; the floor becomes float16's smallest normal
        for dtype in (numpy.float16, numpy.float32):
            e = chainer.Variable(numpy.array([[0., 0.], [1., 2.]], dtype))
            w = chainer.Variable(numpy.array([[1., 0.], [0., 0.]], dtype))
            d = codebook_distance(e, w, 'cosine')
            numpy.testing.assert_allclose(d.array.astype(numpy.float32),
                                          [[1., 1.], [1 - 1 / 5 ** 0.5, 1.]], rtol=1e-3)
            d.grad = numpy.ones((2, 2), dtype)
            d.backward()
            assert numpy.isfinite(e.grad).all() and numpy.isfinite(w.grad).all()
            error = quantizing_error(e.array, w.array, 'cosine')
            assert numpy.isfinite(error.array)


class TestVQInvalid(unittest.TestCase):

    def test_metric(self):
        with self.assertRaisesRegex(ValueError, 'metric'):
            codebook_distance(numpy.ones((2, 3), 'f'), numpy.ones((4, 3), 'f'), 'l1')
        with self.assertRaisesRegex(ValueError, 'squared'):
            quantizing_error(numpy.ones((2, 3), 'f'), numpy.ones((2, 3), 'f'), 'cosine',
                             squared=True)

    def test_shapes(self):
        with self.assertRaises(type_check.InvalidType):
            codebook_distance(numpy.ones((2, 3), 'f'), numpy.ones((4, 2), 'f'))
        with self.assertRaises(type_check.InvalidType):
            vector_quantize(numpy.ones((2, 3), 'f'), numpy.ones((4, 3), 'd'))
        with self.assertRaises(type_check.InvalidType):
            quantizing_error(numpy.ones((2, 3), 'f'), numpy.ones((3, 3), 'f'))


testing.run_module(__name__, __file__)
