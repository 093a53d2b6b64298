"""The autoencoder family's penalties: sparsity KL and the scalar VQ bottleneck."""
import unittest

import chainer
from chainer import testing
from chainer.utils import type_check
import numpy

from chainclust.functions import scalar_quantize, sparsity_kl, straight_through
from chainclust.functions.sparsity_kl import composed_sparsity_kl

GPU_BACKENDS = testing.product({'use_cuda': [True], 'cuda_device': [0]})


def _tolerances(case):
    if case.dtype == numpy.float16:
        case.check_forward_options = {'atol': 5e-3, 'rtol': 5e-3}
        options = {'atol': 5e-2, 'rtol': 5e-2, 'eps': 2.0 ** -8}
    else:
        options = {'atol': 1e-4, 'rtol': 1e-3, 'eps': 1e-4}
    case.check_backward_options = options
    case.check_double_backward_options = options


def _bernoulli_kl(p, rho):
    return p * numpy.log(p / rho) + (1 - p) * numpy.log((1 - p) / (1 - rho))


@testing.parameterize(*testing.product({
    'dtype': [numpy.float16, numpy.float32, numpy.float64],
    'target': [0.05, 0.25, 0.9],
    'shape': [(7, 3), (1, 1), (32, 20)],
}))
@testing.inject_backend_tests(None, [{}] + GPU_BACKENDS)
class TestSparsityKL(testing.FunctionTestCase):

    def setUp(self):
        _tolerances(self)

    def generate_inputs(self):
        return numpy.random.uniform(0.1, 0.9, self.shape).astype(self.dtype),

    def forward(self, inputs, device):
        h, = inputs
        return sparsity_kl(h, self.target),

    def forward_expected(self, inputs):
        h, = inputs
        rho = h.astype(numpy.float64).mean(axis=0)
        return numpy.asarray(_bernoulli_kl(self.target, rho).sum(), dtype=self.dtype),


class TestSparsityKLValues(unittest.TestCase):

    def test_zero_at_the_target_and_positive_elsewhere(self):
        self.assertEqual(float(sparsity_kl(numpy.full((4, 2), 0.25), 0.25).array), 0.0)
        self.assertGreater(float(sparsity_kl(numpy.full((4, 2), 0.3), 0.25).array), 0.0)

    def test_saturated_units_are_finite(self):
        for dtype in (numpy.float16, numpy.float32, numpy.float64):
            for value in (0.0, 1.0):
                h = chainer.Variable(numpy.full((3, 2), value, dtype))
                loss = sparsity_kl(h, 0.25)
                loss.backward()
                assert numpy.isfinite(loss.array), (dtype, value)
                assert numpy.isfinite(h.grad).all(), (dtype, value)
                # clipped mean activation: the penalty is flat there
                numpy.testing.assert_array_equal(h.grad, 0)

    def test_matches_composed_twin(self):
        h = numpy.random.RandomState(0).uniform(0, 1, (10, 4))
        a, b = chainer.Variable(h), chainer.Variable(h.copy())
        sparsity_kl(a, 0.25).backward()
        composed_sparsity_kl(b, 0.25).backward()
        numpy.testing.assert_allclose(a.grad, b.grad, rtol=1e-12)

    def test_invalid(self):
        for target in (0, 1, -0.5, float('nan')):
            with self.assertRaisesRegex(ValueError, 'target'):
                sparsity_kl(numpy.ones((2, 2), 'f'), target)
        with self.assertRaises(type_check.InvalidType):
            sparsity_kl(numpy.ones((2, 2, 2), 'f'))
        with self.assertRaises(type_check.InvalidType):
            sparsity_kl(numpy.ones((2, 2), 'i'))


@testing.parameterize(*testing.product({
    'dtype': [numpy.float32, numpy.float64],
    'shape': [(8, 3, 5), (1, 1, 2), (16, 20, 64)],  # N, d, K
}))
@testing.inject_backend_tests(None, [{}] + GPU_BACKENDS)
class TestScalarQuantize(testing.FunctionTestCase):
    """Gradient to the codebook, checked away from ties: every element sits
    close to one code of its dimension, so small perturbations keep the choice."""

    def setUp(self):
        _tolerances(self)
        n, d, k = self.shape
        rng = numpy.random.RandomState(3)
        self.codes = numpy.stack([numpy.linspace(-1, 1, k) + j for j in range(d)])
        self.index = rng.randint(0, k, (n, d))
        spacing = 2.0 / max(k - 1, 1)
        picked = numpy.take_along_axis(self.codes[None], self.index[:, :, None], 2)[:, :, 0]
        self.z = (picked + rng.uniform(-0.2, 0.2, (n, d)) * spacing).astype(self.dtype)

    def generate_inputs(self):
        noise = numpy.random.uniform(-0.01, 0.01, self.codes.shape) / self.codes.shape[1]
        return (self.codes + noise).astype(self.dtype),

    def forward(self, inputs, device):
        codebook, = inputs
        q, index = scalar_quantize(device.send(self.z), codebook)
        numpy.testing.assert_array_equal(chainer.backend.CpuDevice().send(index), self.index)
        return q,

    def forward_expected(self, inputs):
        codebook, = inputs
        return numpy.take_along_axis(codebook[None], self.index[:, :, None], 2)[:, :, 0],


class TestScalarQuantizeValues(unittest.TestCase):

    def test_each_dimension_has_its_own_codes(self):
        codebook = numpy.array([[0., 1., 2.], [10., 20., 30.]])
        q, index = scalar_quantize(numpy.array([[1.4, 26.], [-5., 11.]]), codebook)
        numpy.testing.assert_array_equal(q.array, [[1., 30.], [0., 10.]])
        numpy.testing.assert_array_equal(index, [[1, 2], [0, 0]])

    def test_codebook_gradient_sums_over_samples_and_z_gets_none(self):
        codebook = chainer.Variable(numpy.array([[0., 1.], [0., 1.]]))
        z = chainer.Variable(numpy.array([[0.1, 0.9], [0.2, 0.8], [0.7, 0.3]]))
        q, _ = scalar_quantize(z, codebook)
        q.grad = numpy.array([[1., 2.], [3., 4.], [5., 6.]])
        q.backward()
        numpy.testing.assert_array_equal(codebook.grad, [[4., 5.], [6., 6.]])
        self.assertIsNone(z.grad)

    def test_straight_through_passes_the_gradient_to_z(self):
        codebook = numpy.array([[0., 1.]])
        z = chainer.Variable(numpy.array([[0.3], [0.8]]))
        q, _ = scalar_quantize(z.array, codebook)
        y = straight_through(z, q)
        numpy.testing.assert_array_equal(y.array, [[0.], [1.]])
        y.grad = numpy.array([[2.], [3.]])
        y.backward()
        numpy.testing.assert_array_equal(z.grad, [[2.], [3.]])

    def test_invalid(self):
        with self.assertRaises(type_check.InvalidType):
            scalar_quantize(numpy.ones((2, 3), 'f'), numpy.ones((2, 4), 'f'))
        with self.assertRaises(type_check.InvalidType):
            scalar_quantize(numpy.ones((2, 3), 'f'), numpy.ones((3, 4), 'd'))


testing.run_module(__name__, __file__)
