import unittest

import chainer
from chainer import testing
from chainer.utils import type_check
import numpy

from chainclust.functions import composed, student_t_assignment

GPU_BACKENDS = testing.product({'use_cuda': [True], 'cuda_device': [0]})


def _naive_q(z, mu, alpha):
    diff = z[:, None, :].astype(numpy.float64) - mu[None, :, :]
    kernel = (1 + (diff ** 2).sum(axis=2) / alpha) ** (-(alpha + 1) / 2)
    return kernel / kernel.sum(axis=1, keepdims=True)


@testing.parameterize(*testing.product({
    'dtype': [numpy.float16, numpy.float32, numpy.float64],
    'alpha': [1.0, 0.5, 3.0],
    'shape': [(6, 4, 3), (1, 1, 2), (9, 2, 10)],  # N, K, d
}))
@testing.inject_backend_tests(None, [{}] + GPU_BACKENDS)
class TestStudentTAssignment(testing.FunctionTestCase):

    def setUp(self):
        if self.dtype == numpy.float16:
            self.check_forward_options = {'atol': 5e-3, 'rtol': 5e-3}
            self.check_backward_options = {'atol': 5e-2, 'rtol': 5e-2, 'eps': 2.0 ** -5}
            self.check_double_backward_options = {'atol': 5e-2, 'rtol': 5e-2, 'eps': 2.0 ** -5}
        else:
            self.check_backward_options = {'atol': 1e-3, 'rtol': 1e-3}
            self.check_double_backward_options = {'atol': 1e-3, 'rtol': 1e-3}

    def generate_inputs(self):
        n, k, d = self.shape
        z = numpy.random.uniform(-1, 1, (n, d)).astype(self.dtype)
        mu = numpy.random.uniform(-1, 1, (k, d)).astype(self.dtype)
        return z, mu

    def forward(self, inputs, device):
        z, mu = inputs
        return student_t_assignment(z, mu, self.alpha),

    def forward_expected(self, inputs):
        z, mu = inputs
        return _naive_q(z, mu, self.alpha).astype(self.dtype),


class TestStudentTAssignmentValues(unittest.TestCase):

    def test_golden_value(self):
        # d2 = 0 and 4 -> kernels 1 and 1/5 -> q = (5/6, 1/6).
        z = numpy.array([[1., 2.]])
        mu = numpy.array([[1., 2.], [1., 0.]])
        q = student_t_assignment(z, mu).array
        numpy.testing.assert_allclose(q, [[5 / 6., 1 / 6.]], rtol=1e-12)

    def test_matches_composed_with_gradients(self):
        rng = numpy.random.RandomState(3)
        z0, mu0 = rng.randn(40, 10), rng.randn(7, 10)
        gq = rng.randn(40, 7)
        results = []
        for fn in (student_t_assignment, composed.student_t_assignment):
            z, mu = chainer.Variable(z0.copy()), chainer.Variable(mu0.copy())
            q = fn(z, mu, 2.0)
            q.grad = gq
            q.backward()
            results.append((q.array, z.grad, mu.grad))
        for ours, ref in zip(*results):
            numpy.testing.assert_allclose(ours, ref, rtol=1e-9, atol=1e-12)

    def test_rows_sum_to_one_far_from_centres(self):
        z = numpy.full((2, 3), 1e3, numpy.float32)
        mu = numpy.zeros((4, 3), numpy.float32)
        q = student_t_assignment(z, mu).array
        assert numpy.isfinite(q).all()
        numpy.testing.assert_allclose(q.sum(axis=1), 1, rtol=1e-5)


class TestStudentTAssignmentInvalid(unittest.TestCase):

    def test_dimension_mismatch(self):
        with self.assertRaises(type_check.InvalidType):
            student_t_assignment(numpy.zeros((2, 3), 'f'), numpy.zeros((4, 2), 'f'))

    def test_integer_input(self):
        with self.assertRaises(type_check.InvalidType):
            student_t_assignment(numpy.zeros((2, 3), 'i'), numpy.zeros((4, 3), 'i'))

    def test_dtype_mismatch(self):
        with self.assertRaises(type_check.InvalidType):
            student_t_assignment(numpy.zeros((2, 3), 'f'), numpy.zeros((4, 3), 'd'))

    def test_rank(self):
        with self.assertRaises(type_check.InvalidType):
            student_t_assignment(numpy.zeros((2, 3, 1), 'f'), numpy.zeros((4, 3), 'f'))

    def test_alpha(self):
        for alpha in (0, -1.0, float('nan')):
            with self.assertRaisesRegex(ValueError, 'alpha'):
                student_t_assignment(numpy.zeros((2, 3), 'f'), numpy.zeros((4, 3), 'f'),
                                     alpha)


testing.run_module(__name__, __file__)
