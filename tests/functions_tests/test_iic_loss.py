"""IIC's loss node: forward against NumPy in float64, gradients against numerical ones,
the composed chainer.functions twin, degenerate inputs, float16 networks, golden values."""
import math

import chainer
from chainer import testing
import numpy
import pytest

from chainclust.functions import composed, iic_loss
from chainclust.functions.iic_loss import EPSILON

GPU_BACKENDS = testing.product({'use_cuda': [True], 'cuda_device': [0]})


def _expected(z, zp, alpha):
    """The loss straight from its definition, in float64."""
    z, zp = z.astype(numpy.float64), zp.astype(numpy.float64)
    joint = sum(numpy.outer(a, b) for a, b in zip(z, zp))
    joint = (joint + joint.T) / 2
    joint = numpy.maximum(joint / joint.sum(), EPSILON)
    joint /= joint.sum()
    pi, pj = joint.sum(axis=1), joint.sum(axis=0)
    return sum(joint[i, j] * (alpha * math.log(pi[i]) + alpha * math.log(pj[j])
                              - math.log(joint[i, j]))
               for i in range(len(pi)) for j in range(len(pj)))


def _softmax_rows(rng, n, k, dtype):
    logits = rng.normal(size=(n, k)) * 2
    p = numpy.exp(logits - logits.max(axis=1, keepdims=True))
    return (p / p.sum(axis=1, keepdims=True)).astype(dtype)


@testing.parameterize(*testing.product({'dtype': [numpy.float32, numpy.float64],
                                        'shape': [(12, 3), (40, 10), (2, 2)],
                                        'alpha': [1.0, 10.0]}))
@testing.inject_backend_tests(None, [{}] + GPU_BACKENDS)
class TestIICLoss(testing.FunctionTestCase):

    def setUp(self):
        if self.dtype == numpy.float64:
            self.check_backward_options = {'atol': 1e-6, 'rtol': 1e-6, 'eps': 1e-6}
            self.check_double_backward_options = {'atol': 1e-5, 'rtol': 1e-5, 'eps': 1e-6}
            self.check_forward_options = {'atol': 1e-10, 'rtol': 1e-10}
        else:
            self.check_backward_options = {'atol': 5e-3, 'rtol': 5e-3, 'eps': 1e-3}
            self.check_double_backward_options = {'atol': 5e-2, 'rtol': 5e-2, 'eps': 1e-3}
            self.check_forward_options = {'atol': 1e-5, 'rtol': 1e-5}

    def generate_inputs(self):
        n, k = self.shape
        rng = numpy.random
        return _softmax_rows(rng, n, k, self.dtype), _softmax_rows(rng, n, k, self.dtype)

    def forward(self, inputs, device):
        return iic_loss(inputs[0], inputs[1], self.alpha),

    def generate_grad_grad_inputs(self, inputs):
        return tuple(numpy.random.uniform(-1, 1, a.shape).astype(a.dtype) for a in inputs)

    def forward_expected(self, inputs):
        return numpy.asarray(_expected(inputs[0], inputs[1], self.alpha), dtype=self.dtype),


def _grads(fn, arrays, alpha):
    variables = [chainer.Variable(a.copy()) for a in arrays]
    y = fn(*variables, alpha=alpha)
    y.backward()
    return y.array, [v.grad for v in variables]


@pytest.mark.parametrize('alpha', [1.0, 2.5, 10.0])
def test_node_matches_its_chainer_functions_twin(alpha):
    rng = numpy.random.RandomState(0)
    arrays = (_softmax_rows(rng, 30, 6, numpy.float64), _softmax_rows(rng, 30, 6, numpy.float64))
    value, grads = _grads(iic_loss, arrays, alpha)
    expected_value, expected_grads = _grads(composed.iic_loss, arrays, alpha)
    numpy.testing.assert_allclose(value, expected_value, rtol=1e-12)
    for g, e in zip(grads, expected_grads):
        numpy.testing.assert_allclose(g, e, rtol=1e-9, atol=1e-14)


def test_golden_values():
    eye = numpy.eye(2, dtype=numpy.float32)
    assert float(iic_loss(eye, eye).array) == pytest.approx(-math.log(2), abs=1e-5)
    uniform = numpy.full((5, 4), 0.25, numpy.float32)  # independent: I = 0, H = log 4
    assert float(iic_loss(uniform, uniform).array) == pytest.approx(0.0, abs=1e-6)
    assert float(iic_loss(uniform, uniform, alpha=3.0).array) == pytest.approx(
        -4 * math.log(4), abs=1e-5)  # (alpha - 1) * (-H(z) - H(z')) = 2 * -2 log 4


def test_degenerate_joints_stay_finite_with_finite_gradients():
    one_cell = numpy.zeros((8, 5), numpy.float32)
    one_cell[:, 2] = 1  # every sample and copy in one cluster: all mass in one cell
    swapped = numpy.roll(numpy.eye(5, dtype=numpy.float32), 1, axis=1)  # off-diagonal only
    for z, zp in ((one_cell, one_cell), (numpy.eye(5, dtype=numpy.float32), swapped)):
        a, b = chainer.Variable(z.copy()), chainer.Variable(zp.copy())
        loss = iic_loss(a, b, alpha=10.0)
        loss.backward()
        assert numpy.isfinite(loss.array)
        assert numpy.isfinite(a.grad).all() and numpy.isfinite(b.grad).all()


def test_float16_network_gets_a_float32_loss_and_float16_gradients():
    rng = numpy.random.RandomState(1)
    z = chainer.Variable(_softmax_rows(rng, 64, 10, numpy.float16))
    zp = chainer.Variable(_softmax_rows(rng, 64, 10, numpy.float16))
    loss = iic_loss(z, zp, alpha=10.0)
    assert loss.dtype == numpy.float32
    loss.backward()
    assert z.grad.dtype == numpy.float16 and numpy.isfinite(z.grad).all()
    expected = _expected(z.array, zp.array, 10.0)
    assert float(loss.array) == pytest.approx(expected, rel=1e-5)


def test_float16_double_backward_is_finite():
    rng = numpy.random.RandomState(2)
    z = chainer.Variable(_softmax_rows(rng, 16, 4, numpy.float16))
    zp = chainer.Variable(_softmax_rows(rng, 16, 4, numpy.float16))
    gz, = chainer.grad([iic_loss(z, zp, alpha=10.0)], [z], enable_double_backprop=True)
    assert gz.dtype == numpy.float16 and numpy.isfinite(gz.array).all()
    second, = chainer.grad([chainer.functions.sum(gz * gz)], [zp])
    assert numpy.isfinite(second.array).all()


@pytest.mark.parametrize('call,message', [
    (lambda: iic_loss(numpy.zeros((3, 4), 'f'), numpy.zeros((3, 5), 'f')), 'shape'),
    (lambda: iic_loss(numpy.zeros((3, 4), 'f'), numpy.zeros((3, 4), 'd')), 'dtype'),
    (lambda: iic_loss(numpy.zeros((3, 4), 'i'), numpy.zeros((3, 4), 'i')), 'dtype'),
    (lambda: iic_loss(numpy.zeros((3, 4), 'f'), numpy.zeros((3, 4), 'f'), alpha=0), 'alpha'),
    (lambda: iic_loss(numpy.zeros((3, 4), 'f'), numpy.zeros((3, 4), 'f'),
                      alpha=float('inf')), 'alpha'),
])
def test_bad_arguments_are_named(call, message):
    with pytest.raises((ValueError, chainer.utils.type_check.InvalidType), match=message):
        call()
