import unittest

import chainer
from chainer import testing
from chainer.utils import type_check
import numpy

from chainclust.functions import composed, dec_kl_divergence

GPU_BACKENDS = testing.product({'use_cuda': [True], 'cuda_device': [0]})


def _naive_loss(z, mu, p, alpha):
    diff = z[:, None, :].astype(numpy.float64) - mu[None, :, :]
    kernel = (1 + (diff ** 2).sum(axis=2) / alpha) ** (-(alpha + 1) / 2)
    q = kernel / kernel.sum(axis=1, keepdims=True)
    p = p.astype(numpy.float64)
    terms = numpy.where(p > 0, p * numpy.log(numpy.where(p > 0, p, 1) / q), 0)
    return terms.sum() / len(p)


@testing.parameterize(*testing.product({
    'dtype': [numpy.float16, numpy.float32, numpy.float64],
    'alpha': [1.0, 0.5, 3.0],
    'shape': [(6, 4, 3), (1, 1, 2), (9, 2, 10)],  # N, K, d
    'zeros_in_p': [False, True],
}))
@testing.inject_backend_tests(None, [{}] + GPU_BACKENDS)
class TestDECKLDivergence(testing.FunctionTestCase):

    def setUp(self):
        n, k, _ = self.shape
        rng = numpy.random.RandomState(7)
        p = rng.dirichlet(numpy.ones(k), n)
        if self.zeros_in_p and k > 1:
            p[:, 0] = 0
            p /= p.sum(axis=1, keepdims=True)
        self.p = p.astype(self.dtype)  # the constant target
        if self.dtype == numpy.float16:
            self.check_forward_options = {'atol': 5e-3, 'rtol': 5e-3}
            options = {'atol': 5e-2, 'rtol': 5e-2, 'eps': 2.0 ** -5}
        else:
            options = {'atol': 1e-3, 'rtol': 1e-3}
        self.check_backward_options = options
        self.check_double_backward_options = options

    def generate_inputs(self):
        n, k, d = self.shape
        z = numpy.random.uniform(-1, 1, (n, d)).astype(self.dtype)
        mu = numpy.random.uniform(-1, 1, (k, d)).astype(self.dtype)
        return z, mu

    def forward(self, inputs, device):
        z, mu = inputs
        return dec_kl_divergence(z, mu, device.send(self.p), self.alpha),

    def forward_expected(self, inputs):
        z, mu = inputs
        return numpy.asarray(_naive_loss(z, mu, self.p, self.alpha), dtype=self.dtype),


class TestDECKLDivergenceValues(unittest.TestCase):

    def test_golden_value(self):
        # d2 = (0, 4): kernels (1, 1/5), q = (5/6, 1/6); p = (1/2, 1/2).
        z = numpy.array([[1., 2.]])
        mu = numpy.array([[1., 2.], [1., 0.]])
        p = numpy.array([[0.5, 0.5]])
        expected = 0.5 * numpy.log(0.5 / (5 / 6.)) + 0.5 * numpy.log(0.5 / (1 / 6.))
        self.assertAlmostEqual(float(dec_kl_divergence(z, mu, p).array), expected,
                               places=12)

    def test_golden_gradient(self):
        # The paper's eq. 4: dL/dz_i = (a+1)/a sum_j k_ij (p_ij - q_ij)(z_i - mu_j) / N
        # with N = 1, alpha = 1: 2 * [1 * (0.5 - 5/6) * (0, 0) + 1/5 * (0.5 - 1/6) * (0, 2)]
        z = chainer.Variable(numpy.array([[1., 2.]]))
        mu = chainer.Variable(numpy.array([[1., 2.], [1., 0.]]))
        dec_kl_divergence(z, mu, numpy.array([[0.5, 0.5]])).backward()
        numpy.testing.assert_allclose(z.grad, [[0, 2 * 0.2 * (1 / 3.) * 2]], atol=1e-12)
        numpy.testing.assert_allclose(mu.grad.sum(axis=0), -z.grad[0], atol=1e-12)

    def test_matches_composed_with_gradients(self):
        rng = numpy.random.RandomState(1)
        z0, mu0 = rng.randn(64, 10), rng.randn(10, 10)
        p = rng.dirichlet(numpy.ones(10), 64)
        results = []
        for fn in (dec_kl_divergence, composed.dec_loss):
            z, mu = chainer.Variable(z0.copy()), chainer.Variable(mu0.copy())
            loss = fn(z, mu, p, 2.0)
            loss.backward()
            results.append((loss.array, z.grad, mu.grad))
        for ours, ref in zip(*results):
            numpy.testing.assert_allclose(ours, ref, rtol=1e-9, atol=1e-12)

    def test_zero_when_target_equals_assignment(self):
        rng = numpy.random.RandomState(0)
        z, mu = rng.randn(8, 3), rng.randn(4, 3)
        q = composed.student_t_assignment(chainer.Variable(z), chainer.Variable(mu)).array
        self.assertAlmostEqual(float(dec_kl_divergence(z, mu, q).array), 0.0, places=12)

    def test_no_gradient_into_target(self):
        rng = numpy.random.RandomState(0)
        p = chainer.Variable(rng.dirichlet(numpy.ones(3), 5))
        z, mu = chainer.Variable(rng.randn(5, 2)), chainer.Variable(rng.randn(3, 2))
        dec_kl_divergence(z, mu, p).backward()
        self.assertIsNone(p.grad)
        self.assertIsNotNone(z.grad)


class TestDECKLDivergenceInvalid(unittest.TestCase):

    def _call(self, z_shape, mu_shape, p_shape, dtypes='fff'):
        return dec_kl_divergence(numpy.ones(z_shape, dtypes[0]),
                                 numpy.ones(mu_shape, dtypes[1]),
                                 numpy.ones(p_shape, dtypes[2]) / p_shape[-1])

    def test_shapes(self):
        for shapes in (((2, 3), (4, 2), (2, 4)), ((2, 3), (4, 3), (3, 4)),
                       ((2, 3), (4, 3), (2, 5)), ((2, 3, 1), (4, 3), (2, 4))):
            with self.assertRaises(type_check.InvalidType):
                self._call(*shapes)

    def test_dtypes(self):
        for dtypes in ('ffd', 'fdf', 'iii'):
            with self.assertRaises(type_check.InvalidType):
                self._call((2, 3), (4, 3), (2, 4), dtypes)

    def test_alpha(self):
        with self.assertRaisesRegex(ValueError, 'alpha'):
            dec_kl_divergence(numpy.ones((2, 3), 'f'), numpy.ones((4, 3), 'f'),
                              numpy.ones((2, 4), 'f'), alpha=-1)


testing.run_module(__name__, __file__)
