import chainer
import chainer.functions as F
import chainer.links as L
from chainer import gradient_check
import numpy
import pytest

from chainclust.functions import batch_norm_relu, BatchNormReLU
from chainclust.links import BatchNormalizationReLU

SHAPES = [(6, 3), (4, 3, 5, 6), (3, 4, 7), (2, 5, 3, 3, 2)]


def _reference(x, gamma, beta, eps=2e-5):
    """float64 ``max(BN(x), 0)`` with batch statistics over every axis but 1."""
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    x = x.astype(numpy.float64)
    mean, var = x.mean(axis=axes), x.var(axis=axes)
    z = (x - mean.reshape(shape)) / numpy.sqrt(var.reshape(shape) + eps)
    return z * gamma.reshape(shape) + beta.reshape(shape)


def _inputs(rng, shape, dtype, margin):
    """x, gamma, beta whose pre-activations are at least ``margin`` from ReLU's kink."""
    for _ in range(1000):
        x = rng.standard_normal(shape) * 2 + 1
        gamma = rng.uniform(0.5, 1.5, shape[1])
        beta = rng.uniform(-0.5, 0.5, shape[1])
        if numpy.abs(_reference(x, gamma, beta)).min() > margin:
            return x.astype(dtype), gamma.astype(dtype), beta.astype(dtype)
    raise AssertionError('no draw kept its margin')


@pytest.mark.parametrize('shape', SHAPES)
@pytest.mark.parametrize('dtype', [numpy.float32, numpy.float64])
def test_forward_equals_the_float64_formula(shape, dtype):
    x, gamma, beta = _inputs(numpy.random.RandomState(0), shape, dtype, 1e-3)
    y = batch_norm_relu(x, gamma, beta)
    assert y.dtype == dtype and y.shape == shape
    tol = 1e-5 if dtype == numpy.float32 else 1e-12
    numpy.testing.assert_allclose(y.array, numpy.maximum(_reference(x, gamma, beta), 0),
                                  rtol=tol, atol=tol)


@pytest.mark.parametrize('shape', SHAPES)
def test_gradients_against_numerical_ones(shape):
    rng = numpy.random.RandomState(1)
    inputs = _inputs(rng, shape, numpy.float64, 1e-3)
    gy = rng.standard_normal(shape)
    gradient_check.check_backward(lambda *a: batch_norm_relu(*a), inputs, gy,
                                  eps=1e-6, atol=1e-6, rtol=1e-5, dtype=numpy.float64)


@pytest.mark.parametrize('shape', SHAPES[:2])
def test_double_backward_against_numerical_ones(shape):
    rng = numpy.random.RandomState(2)
    inputs = _inputs(rng, shape, numpy.float64, 1e-3)
    gy, ggs = rng.standard_normal(shape), [rng.standard_normal(a.shape) for a in inputs]
    gradient_check.check_double_backward(lambda *a: batch_norm_relu(*a), inputs, gy, ggs,
                                         eps=1e-6, atol=1e-5, rtol=1e-4,
                                         dtype=numpy.float64)


@pytest.mark.parametrize('shape', [(20, 8, 9, 9), (64, 16)])
def test_same_numbers_as_chainers_composition(shape):
    """Output and the three gradients match F.relu(F.batch_normalization) in float32."""
    x, gamma, beta = _inputs(numpy.random.RandomState(3), shape, numpy.float32, 1e-5)
    gy = numpy.random.RandomState(4).standard_normal(shape).astype(numpy.float32)
    results = []
    for fn in (batch_norm_relu, lambda *a: F.relu(F.batch_normalization(*a))):
        variables = [chainer.Variable(a.copy()) for a in (x, gamma, beta)]
        y = fn(*variables)
        y.grad = gy.copy()
        y.backward()
        results.append([y.array] + [v.grad for v in variables])
    for ours, chainers in zip(*results):
        numpy.testing.assert_allclose(ours, chainers, rtol=1e-4, atol=1e-4)


def test_large_mean_keeps_the_variance():
    """A channel at 1000 +- 0.01 in float32: the two-pass variance holds.

    (A one-pass ``E[x^2] - mean^2`` would lose it entirely: the ulp of
    ``x^2 = 1e6`` is 600 times the variance. What is left is the float32
    rounding of the mean, half an ulp of 1000, 0.3% of the std.)
    """
    rng = numpy.random.RandomState(5)
    x = (1000 + 0.01 * rng.standard_normal((50, 2, 4, 4))).astype(numpy.float32)
    gamma, beta = numpy.ones(2, numpy.float32), numpy.zeros(2, numpy.float32)
    y = batch_norm_relu(x, gamma, beta, eps=1e-12)
    numpy.testing.assert_allclose(y.array, numpy.maximum(_reference(x, gamma, beta, 1e-12), 0),
                                  atol=5e-3)


def test_link_keeps_chainers_running_statistics_and_inference():
    rng = numpy.random.RandomState(6)
    ours, chainers = BatchNormalizationReLU(3), L.BatchNormalization(3)
    for link in (ours, chainers):
        link.gamma.array[...] = [0.5, 1.0, 2.0]
        link.beta.array[...] = [0.1, -0.2, 0.3]
    for _ in range(3):
        x = (rng.standard_normal((8, 3, 5, 5)) * 3 + 2).astype(numpy.float32)
        with chainer.using_config('train', True):
            y_ours, y_chainers = ours(x), F.relu(chainers(x))
        assert y_ours.creator.__class__ is BatchNormReLU  # the fused node in training
        numpy.testing.assert_allclose(y_ours.array, y_chainers.array, rtol=1e-5, atol=1e-5)
    numpy.testing.assert_allclose(ours.avg_mean, chainers.avg_mean, rtol=1e-6)
    numpy.testing.assert_allclose(ours.avg_var, chainers.avg_var, rtol=1e-5)
    with chainer.using_config('train', False):
        x = rng.standard_normal((2, 3, 5, 5)).astype(numpy.float32)
        y = ours(x)
        assert y.creator.__class__ is not BatchNormReLU  # Chainer's link: exported as BN, Relu
        numpy.testing.assert_allclose(y.array, F.relu(chainers(x)).array, rtol=1e-5,
                                      atol=1e-6)


def test_mismatched_parameters_are_a_clear_type_error():
    with pytest.raises(chainer.utils.type_check.InvalidType):
        batch_norm_relu(numpy.zeros((4, 3), numpy.float32), numpy.ones(2, numpy.float32),
                        numpy.zeros(2, numpy.float32))


@pytest.mark.parametrize('shape', [(4, 3, 5, 5), (6, 3)])
def test_inference_without_a_graph_is_one_affine_pass_with_chainers_values(shape):
    rng = numpy.random.RandomState(7)
    ours, chainers = BatchNormalizationReLU(3), L.BatchNormalization(3)
    for link in (ours, chainers):
        link.gamma.array[...] = [0.5, 1.0, 2.0]
        link.beta.array[...] = [0.1, -0.2, 0.3]
        link.avg_mean[...] = [1.0, -2.0, 0.5]
        link.avg_var[...] = [4.0, 0.25, 1.5]
    x = (rng.standard_normal(shape) * 3).astype(numpy.float32)
    with chainer.using_config('train', False), chainer.no_backprop_mode():
        y = ours(x)
        expected = F.relu(chainers(x)).array
    assert y.creator is None and y.shape == shape
    numpy.testing.assert_allclose(y.array, expected, rtol=1e-5, atol=1e-6)
    assert (y.array > 0).any() and (y.array == 0).any()  # both sides of the ReLU
