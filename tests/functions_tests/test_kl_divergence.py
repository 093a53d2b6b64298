import unittest

import chainer
from chainer import testing
from chainer.utils import type_check
import numpy

from chainclust.functions import composed, kl_divergence, student_t_assignment

GPU_BACKENDS = testing.product({'use_cuda': [True], 'cuda_device': [0]})


@testing.parameterize(*testing.product({
    'dtype': [numpy.float16, numpy.float32, numpy.float64],
    'shape': [(5, 3), (1, 1), (16, 10)],
    'zeros_in_p': [False, True],
}))
@testing.inject_backend_tests(None, [{}] + GPU_BACKENDS)
class TestKLDivergence(testing.FunctionTestCase):

    def setUp(self):
        rng = numpy.random.RandomState(7)
        p = rng.dirichlet(numpy.ones(self.shape[1]), self.shape[0])
        if self.zeros_in_p and self.shape[1] > 1:
            p[:, 0] = 0
            p /= p.sum(axis=1, keepdims=True)
        self.p = p.astype(self.dtype)  # the constant target
        if self.dtype == numpy.float16:
            self.check_forward_options = {'atol': 5e-3, 'rtol': 5e-3}
            self.check_backward_options = {'atol': 5e-2, 'rtol': 5e-2, 'eps': 2.0 ** -5}
            self.check_double_backward_options = {'atol': 5e-2, 'rtol': 5e-2, 'eps': 2.0 ** -5}
        else:
            self.check_backward_options = {'atol': 1e-3, 'rtol': 1e-3}

    def generate_inputs(self):
        q = numpy.random.uniform(0.2, 1, self.shape)
        return (q / q.sum(axis=1, keepdims=True)).astype(self.dtype),

    def forward(self, inputs, device):
        q, = inputs
        return kl_divergence(device.send(self.p), q),

    def forward_expected(self, inputs):
        q, = inputs
        p = self.p.astype(numpy.float64)
        logp = numpy.log(numpy.where(p > 0, p, 1))
        loss = numpy.where(p > 0, p * (logp - numpy.log(q)), 0).sum() / len(p)
        return numpy.asarray(loss, dtype=self.dtype),


class TestKLDivergenceValues(unittest.TestCase):

    def test_golden_value(self):
        p = numpy.array([[1., 0.], [0.5, 0.5]])
        q = numpy.array([[0.5, 0.5], [0.25, 0.75]])
        expected = (numpy.log(2) + 0.5 * numpy.log(2) + 0.5 * numpy.log(0.5 / 0.75)) / 2
        self.assertAlmostEqual(float(kl_divergence(p, q).array), expected, places=12)

    def test_zero_when_equal(self):
        q = numpy.random.RandomState(0).dirichlet(numpy.ones(4), 8)
        self.assertAlmostEqual(float(kl_divergence(q, q).array), 0.0, places=12)

    def test_no_gradient_into_target(self):
        p = chainer.Variable(numpy.full((2, 2), 0.5))
        q = chainer.Variable(numpy.array([[0.3, 0.7], [0.6, 0.4]]))
        kl_divergence(p, q).backward()
        self.assertIsNone(p.grad)
        self.assertIsNotNone(q.grad)

    def test_dec_loss_matches_composed(self):
        rng = numpy.random.RandomState(1)
        z0, mu0 = rng.randn(64, 10), rng.randn(10, 10)
        p = rng.dirichlet(numpy.ones(10), 64)
        results = []
        for q_fn, kl_fn in ((student_t_assignment, kl_divergence),
                            (composed.student_t_assignment, composed.kl_divergence)):
            z, mu = chainer.Variable(z0.copy()), chainer.Variable(mu0.copy())
            loss = kl_fn(p, q_fn(z, mu, 1.0))
            loss.backward()
            results.append((loss.array, z.grad, mu.grad))
        for ours, ref in zip(*results):
            numpy.testing.assert_allclose(ours, ref, rtol=1e-9, atol=1e-12)


class TestKLDivergenceInvalid(unittest.TestCase):

    def test_shape_mismatch(self):
        with self.assertRaises(type_check.InvalidType):
            kl_divergence(numpy.ones((2, 3), 'f'), numpy.ones((2, 4), 'f'))

    def test_dtype_mismatch(self):
        with self.assertRaises(type_check.InvalidType):
            kl_divergence(numpy.ones((2, 3), 'd'), numpy.ones((2, 3), 'f'))

    def test_rank(self):
        with self.assertRaises(type_check.InvalidType):
            kl_divergence(numpy.ones(3, 'f'), numpy.ones(3, 'f'))


testing.run_module(__name__, __file__)
