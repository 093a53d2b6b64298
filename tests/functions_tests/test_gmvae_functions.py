"""GMVAE's three FunctionNodes: forward against NumPy in float64, gradients against
numerical ones, double backward, the composed chainer.functions twins, golden values."""
import math
import unittest

import chainer
from chainer import testing
import numpy
import pytest

from chainclust.functions import composed, conditional_prior_kl, gaussian_mixture_posterior
from chainclust.functions import z_prior_kl

GPU_BACKENDS = testing.product({'use_cuda': [True], 'cuda_device': [0]})
SHAPES = [(5, 3, 4), (1, 1, 2), (7, 6, 1)]  # N, K, D


def _log_posterior(x, mu, logvar):
    x, mu, logvar = (a.astype(numpy.float64) for a in (x, mu, logvar))
    log_density = -0.5 * (numpy.log(2 * numpy.pi) + logvar
                          + (x[:, None] - mu) ** 2 / numpy.exp(logvar)).sum(axis=2)
    top = log_density.max(axis=1, keepdims=True)
    return log_density - top - numpy.log(numpy.exp(log_density - top).sum(axis=1,
                                                                          keepdims=True))


def _options(case):
    if case.dtype == numpy.float64:
        options = {'atol': 1e-6, 'rtol': 1e-6}
    else:
        options = {'atol': 5e-3, 'rtol': 5e-3, 'eps': 1e-2}
    case.check_forward_options = {'atol': 1e-5, 'rtol': 1e-5} if case.dtype == \
        numpy.float32 else {'atol': 1e-10, 'rtol': 1e-10}
    case.check_backward_options = dict(options)
    case.check_double_backward_options = dict(options)


def _log_pz(rng, n, k, dtype):
    p = rng.dirichlet(numpy.full(k, 0.5), n) + 1e-3  # some rows peaked, none with log 0
    p /= p.sum(axis=1, keepdims=True)
    return numpy.log(p).astype(dtype)


@testing.parameterize(*testing.product({'dtype': [numpy.float32, numpy.float64],
                                        'shape': SHAPES}))
@testing.inject_backend_tests(None, [{}] + GPU_BACKENDS)
class TestGaussianMixturePosterior(testing.FunctionTestCase):

    def setUp(self):
        _options(self)

    def generate_inputs(self):
        n, k, d = self.shape
        x = numpy.random.uniform(-1, 1, (n, d)).astype(self.dtype)
        mu = numpy.random.uniform(-1, 1, (n, k, d)).astype(self.dtype)
        logvar = numpy.random.uniform(-1, 1, (n, k, d)).astype(self.dtype)
        return x, mu, logvar

    def forward(self, inputs, device):
        return gaussian_mixture_posterior(*inputs),

    def forward_expected(self, inputs):
        return _log_posterior(*inputs).astype(self.dtype),


@testing.parameterize(*testing.product({'dtype': [numpy.float32, numpy.float64],
                                        'shape': SHAPES}))
@testing.inject_backend_tests(None, [{}] + GPU_BACKENDS)
class TestConditionalPriorKL(testing.FunctionTestCase):

    def setUp(self):
        _options(self)

    def generate_inputs(self):
        n, k, d = self.shape
        rng = numpy.random
        return (_log_pz(rng, n, k, self.dtype),
                rng.uniform(-1, 1, (n, d)).astype(self.dtype),
                rng.uniform(-1, 1, (n, d)).astype(self.dtype),
                rng.uniform(-1, 1, (n, k, d)).astype(self.dtype),
                rng.uniform(-1, 1, (n, k, d)).astype(self.dtype))

    def forward(self, inputs, device):
        return conditional_prior_kl(*inputs),

    def forward_expected(self, inputs):
        log_pz, mu_x, logvar_x, mu, logvar = (a.astype(numpy.float64) for a in inputs)
        total = 0.0
        for n in range(len(log_pz)):
            for k in range(log_pz.shape[1]):
                kl = 0.5 * (logvar[n, k] - logvar_x[n] + (numpy.exp(logvar_x[n])
                            + (mu_x[n] - mu[n, k]) ** 2) / numpy.exp(logvar[n, k]) - 1).sum()
                total += numpy.exp(log_pz[n, k]) * kl
        return numpy.asarray(total / len(log_pz), dtype=self.dtype),


@testing.parameterize(*testing.product({'dtype': [numpy.float32, numpy.float64],
                                        'shape': [(5, 3), (8, 10), (1, 2)],
                                        'information_lambda': [0.0, 0.05, 50.0]}))
@testing.inject_backend_tests(None, [{}] + GPU_BACKENDS)
class TestZPriorKL(testing.FunctionTestCase):

    def setUp(self):
        _options(self)

    def generate_inputs(self):
        # Keep the mean KL away from lambda, so that the numerical gradient's
        # steps never cross the constraint's kink.
        n, k = self.shape
        while True:
            log_pz = _log_pz(numpy.random, n, k, self.dtype)
            kl = (numpy.exp(log_pz) * (log_pz + math.log(k))).sum() / n
            if abs(kl - self.information_lambda) > 0.1:
                return log_pz,

    def forward(self, inputs, device):
        return z_prior_kl(inputs[0], self.information_lambda),

    def forward_expected(self, inputs):
        log_pz = inputs[0].astype(numpy.float64)
        kl = (numpy.exp(log_pz) * (log_pz + math.log(log_pz.shape[1]))).sum() / len(log_pz)
        return numpy.asarray(max(self.information_lambda, kl), dtype=self.dtype),


def _random_inputs(seed=0, n=6, k=4, d=3):
    rng = numpy.random.RandomState(seed)
    return (rng.uniform(-1, 1, (n, d)), rng.uniform(-1, 1, (n, k, d)),
            rng.uniform(-1, 1, (n, k, d)), rng.uniform(-1, 1, (n, d)),
            rng.uniform(-1, 1, (n, d)))


def _grads(fn, arrays):
    variables = [chainer.Variable(a.copy()) for a in arrays]
    y = fn(*variables)
    y = chainer.functions.sum(y) if y.ndim else y
    y.backward()
    return y.array, [v.grad for v in variables]


def test_nodes_match_their_chainer_functions_twins():
    x, mu, logvar, mu_x, logvar_x = _random_inputs()
    for node, twin, arrays in (
            (gaussian_mixture_posterior, composed.gaussian_mixture_posterior,
             (x, mu, logvar)),
            (lambda *a: conditional_prior_kl(gaussian_mixture_posterior(*a[:3]), a[3], a[4],
                                             a[1], a[2]),
             lambda *a: composed.conditional_prior_kl(
                 composed.gaussian_mixture_posterior(*a[:3]), a[3], a[4], a[1], a[2]),
             (x, mu, logvar, mu_x, logvar_x)),
            (lambda *a: z_prior_kl(gaussian_mixture_posterior(*a), 0.01),
             lambda *a: composed.z_prior_kl(composed.gaussian_mixture_posterior(*a), 0.01),
             (x, mu, logvar))):
        value, grads = _grads(node, arrays)
        expected_value, expected_grads = _grads(twin, arrays)
        numpy.testing.assert_allclose(value, expected_value, rtol=1e-10, atol=1e-12)
        for g, e in zip(grads, expected_grads):
            numpy.testing.assert_allclose(g, e, rtol=1e-9, atol=1e-12)


def test_golden_values():
    p = numpy.exp(gaussian_mixture_posterior(numpy.zeros((1, 2)), numpy.array([[[0., 0.],
                  [3., 0.]]]), numpy.zeros((1, 2, 2))).array)
    numpy.testing.assert_allclose(p, [[1 / (1 + math.exp(-4.5)), 1 / (1 + math.exp(4.5))]])
    kl = conditional_prior_kl(numpy.log([[0.5, 0.5]]), numpy.zeros((1, 1)),
                              numpy.zeros((1, 1)), numpy.array([[[0.], [2.]]]),
                              numpy.zeros((1, 2, 1)))
    assert float(kl.array) == pytest.approx(0.5 * 0 + 0.5 * 2.0)  # KL = (2-0)^2/2 = 2
    uniform = numpy.log(numpy.full((3, 4), 0.25))
    assert float(z_prior_kl(uniform).array) == pytest.approx(0.0, abs=1e-12)


def test_min_information_switches_the_gradient_off_below_lambda():
    log_pz = chainer.Variable(numpy.log(numpy.array([[0.7, 0.3], [0.2, 0.8]])))
    kl = float(z_prior_kl(log_pz).array)
    below = z_prior_kl(log_pz, information_lambda=kl + 0.01)
    below.backward()
    assert float(below.array) == pytest.approx(kl + 0.01)
    assert (log_pz.grad == 0).all()
    log_pz.cleargrad()
    above = z_prior_kl(log_pz, information_lambda=kl - 0.01)
    above.backward()
    assert float(above.array) == pytest.approx(kl) and (log_pz.grad != 0).all()


def test_degenerate_and_extreme_inputs_stay_finite():
    far = gaussian_mixture_posterior(numpy.full((2, 3), 1e3, 'f'), numpy.zeros((2, 4, 3), 'f'),
                                     numpy.zeros((2, 4, 3), 'f'))  # every density underflows
    assert numpy.isfinite(far.array).all()
    numpy.testing.assert_allclose(numpy.exp(far.array).sum(axis=1), 1, rtol=1e-6)
    one_hot = numpy.log(numpy.array([[1.0, 1e-38], [1e-38, 1.0]], 'f'))
    assert numpy.isfinite(z_prior_kl(one_hot).array)


@pytest.mark.parametrize('call,message', [
    (lambda: gaussian_mixture_posterior(numpy.zeros((2, 3), 'f'), numpy.zeros((2, 4, 2), 'f'),
                                        numpy.zeros((2, 4, 2), 'f')), 'mu.shape'),
    (lambda: gaussian_mixture_posterior(numpy.zeros((2, 3), 'i'), numpy.zeros((2, 4, 3), 'i'),
                                        numpy.zeros((2, 4, 3), 'i')), 'dtype'),
    (lambda: z_prior_kl(numpy.zeros((2, 3), 'f'), -1), 'information_lambda'),
    (lambda: z_prior_kl(numpy.zeros(3, 'f')), 'ndim'),
])
def test_invalid_inputs(call, message):
    with pytest.raises((chainer.utils.type_check.InvalidType, ValueError), match=message):
        call()
