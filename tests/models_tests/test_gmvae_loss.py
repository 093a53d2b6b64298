"""GMVAE's loss: the paper's gradient and the reference code's variant, preprocessing inverse."""
import chainer
import numpy
import pytest

from chainclust.models.base import ClusteringNet
from chainclust.models.gmvae import GMVAELoss, GMVAENet


def _value_and_grads(z_gradient, information_lambda):
    rng = numpy.random.RandomState(0)
    net = GMVAENet((12,), (16,), 4, 3, 5, prior_hidden=8, rng=numpy.random.RandomState(1))
    loss = GMVAELoss(net, 2, information_lambda, numpy.random.RandomState(2),
                     z_gradient=z_gradient)
    value = loss(rng.rand(10, 12).astype(numpy.float32))
    net.cleargrads()
    value.backward()
    return float(value.array), {name: p.grad.copy() for name, p in net.namedparams()}


def test_reference_gradient_equals_the_papers_below_the_threshold():
    paper_value, paper = _value_and_grads('paper', 1e6)
    reference_value, reference = _value_and_grads('reference', 1e6)
    assert paper_value == reference_value
    for name in paper:
        numpy.testing.assert_array_equal(paper[name], reference[name], err_msg=name)


def test_reference_gradient_flips_only_the_path_through_the_z_posterior():
    paper_value, paper = _value_and_grads('paper', 0.0)
    reference_value, reference = _value_and_grads('reference', 0.0)
    assert paper_value == reference_value  # same objective, different gradient
    for name in paper:
        if name.startswith('/decoder'):  # the decoder does not see p(z|x,w)
            numpy.testing.assert_array_equal(paper[name], reference[name], err_msg=name)
    for name in ('/prior_mean/W', '/prior_hidden/W', '/w_mean/W', '/x_mean/W'):
        assert not numpy.allclose(paper[name], reference[name]), name


def test_gradient_reversal_keeps_the_value_exactly():
    a = chainer.Variable(numpy.random.RandomState(0).randn(50).astype(numpy.float32) * 1e3)
    flipped = 2 * a.array - a
    numpy.testing.assert_array_equal(flipped.array, a.array)
    flipped.grad = numpy.ones(50, numpy.float32)
    flipped.backward()
    numpy.testing.assert_array_equal(a.grad, -numpy.ones(50, numpy.float32))


def test_unknown_z_gradient_is_refused():
    net = GMVAENet((4,), (8,), 2, 2, 3, prior_hidden=4)
    with pytest.raises(ValueError, match="z_gradient must be one of"):
        GMVAELoss(net, 1, 0.5, numpy.random.RandomState(0), z_gradient='x')


@pytest.mark.parametrize('shape', [(12,), (3, 4), (3, 4, 1), (3, 4, 3), (3, 4, 5)])
def test_postprocess_inverts_preprocess(shape):
    layout = 'flat' if len(shape) == 1 or shape == (3, 4, 5) else 'image'
    net = ClusteringNet(shape, layout)
    x = numpy.random.RandomState(0).rand(6, *shape).astype(numpy.float32) * 255
    net.normalize.fit(x, 'standard')
    back = net.postprocess(net.preprocess(x)).array
    assert back.shape == x.shape
    numpy.testing.assert_allclose(back, x, rtol=1e-4, atol=1e-3)
