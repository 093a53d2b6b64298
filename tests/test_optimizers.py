"""chainclust's Adam: Chainer's numbers, bit for bit, through the blocked CPU update."""
import chainer
import numpy
import pytest

from chainclust import optimizers
from chainclust.links import MLP


def _train(optimizer, steps=4, dtype=numpy.float32, alpha=1e-2, **hyper):
    """Parameters of a small MLP after ``steps`` Adam steps (same init, same batches)."""
    with chainer.using_config('dtype', dtype):
        mlp = MLP((37, 23, 5), initialW=chainer.initializers.LeCunNormal(
            rng=numpy.random.RandomState(0)))
    opt = optimizer(alpha=alpha, **hyper)
    opt.setup(mlp)
    rs = numpy.random.RandomState(1)
    for _ in range(steps):
        x = rs.randn(8, 37).astype(dtype)
        opt.update(lambda: chainer.functions.sum(mlp(x) ** 2))
    return mlp, opt


@pytest.mark.parametrize('dtype', [numpy.float32, numpy.float64])
@pytest.mark.parametrize('block', [7, 64, 100000])  # blocks smaller than, across, beyond a parameter
def test_same_parameters_as_chainer_adam(monkeypatch, dtype, block):
    monkeypatch.setattr(optimizers, 'BLOCK', block)
    ours, _ = _train(optimizers.Adam, dtype=dtype)
    theirs, _ = _train(chainer.optimizers.Adam, dtype=dtype)
    for (name, p), (_, q) in zip(sorted(ours.namedparams()), sorted(theirs.namedparams())):
        assert p.array.dtype == dtype
        numpy.testing.assert_array_equal(p.array, q.array, err_msg=name)


@pytest.mark.parametrize('hyper', [{'weight_decay_rate': 0.1}, {'amsgrad': True},
                                   {'adabound': True}, {'eta': 0.5},
                                   {'alpha': numpy.float64(1e-2)}, {'eps': numpy.float64(1e-8)}])
def test_every_variant_matches_chainer(hyper):
    ours, _ = _train(optimizers.Adam, **hyper)
    theirs, _ = _train(chainer.optimizers.Adam, **hyper)
    for p, q in zip(ours.params(), theirs.params()):
        numpy.testing.assert_array_equal(p.array, q.array)


def test_update_moves_parameters_and_state():
    before, _ = _train(optimizers.Adam, steps=0)
    after, opt = _train(optimizers.Adam, steps=3)
    assert opt.t == 3
    for p, q in zip(before.params(), after.params()):
        assert not numpy.array_equal(p.array, q.array)
        assert numpy.abs(q.update_rule.state['m']).sum() > 0


def test_state_is_interchangeable_with_chainer_adam(tmp_path):
    """A snapshot of one optimizer loads into the other (same state names and arrays)."""
    _, ours = _train(optimizers.Adam, steps=2)
    path = str(tmp_path / 'opt.npz')
    chainer.serializers.save_npz(path, ours)
    _, theirs = _train(chainer.optimizers.Adam, steps=0)
    chainer.serializers.load_npz(path, theirs)
    assert theirs.t == 2
    for name, param in ours.target.namedparams():
        numpy.testing.assert_array_equal(
            dict(theirs.target.namedparams())[name].update_rule.state['v'],
            param.update_rule.state['v'])
