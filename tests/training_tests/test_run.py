"""TrainingRun: keyed reuse of phases, one-line mismatch errors, resume='never', the lock."""
import json
import os

import chainer
import numpy
import pytest

from chainclust.errors import ResumeError, RunLockedError
from chainclust.links import MLP
from chainclust.training import Phase, random_stream, RandomStateSnapshot, TrainingRun


class _Loss(chainer.Chain):
    def __init__(self):
        super(_Loss, self).__init__()
        with self.init_scope():
            self.mlp = MLP((4, 8, 4), initialW=chainer.initializers.LeCunNormal(
                rng=numpy.random.RandomState(0)))

    def forward(self, x):
        loss = chainer.functions.mean_squared_error(self.mlp(x), x)
        chainer.report({'loss': loss}, self)
        return loss


DATA = numpy.random.RandomState(0).rand(64, 4).astype(numpy.float32)


def _train(out, params, data_key='abc', resume='auto', epochs=2, loss=None):
    loss = loss or _Loss()
    with TrainingRun(out, chainer.get_device('@numpy'), 0, {'data': data_key},
                     resume=resume) as run:
        trained = run.run(Phase('first', loss, DATA, chainer.optimizers.Adam(),
                                (epochs, 'epoch'), 16, params=params))
    return trained, loss


def test_key_is_stored_beside_the_result(tmp_path):
    _train(str(tmp_path), {'lr': 0.1})
    with open(str(tmp_path / 'first' / 'key.json')) as f:
        key = json.load(f)
    assert key == {'phase': 'first', 'params': {'data': 'abc', 'lr': 0.1}}


def test_mismatch_is_one_line_naming_folder_and_parameter(tmp_path):
    out = str(tmp_path)
    _train(out, {'lr': 0.1, 'width': 8})
    with pytest.raises(ResumeError) as error:
        _train(out, {'lr': 0.2, 'width': 8})
    message = str(error.value)
    assert '\n' not in message
    assert os.path.join(out, 'first') in message
    assert 'lr=0.1 there, 0.2 now' in message and 'width' not in message
    assert "--force (resume='never')" in message
    with pytest.raises(ResumeError, match='other data'):
        _train(out, {'lr': 0.1, 'width': 8}, data_key='xyz')
    assert _train(out, {'lr': 0.1, 'width': 8})[0] is False  # the matching key is reused


def test_resume_never_trains_again(tmp_path):
    out = str(tmp_path)
    _train(out, {'lr': 0.1})
    trained, _ = _train(out, {'lr': 0.2}, resume='never')
    assert trained is True
    with open(str(tmp_path / 'first' / 'key.json')) as f:
        assert json.load(f)['params']['lr'] == 0.2


def test_unkeyed_or_corrupt_results_are_not_reused(tmp_path):
    out = str(tmp_path)
    _train(out, {})
    key = tmp_path / 'first' / 'key.json'
    key.write_text('{broken')
    with pytest.raises(ResumeError, match='corrupt'):
        _train(out, {})
    key.unlink()
    with pytest.raises(ResumeError, match='without key.json'):
        _train(out, {})


def test_later_phase_key_includes_earlier_parameters(tmp_path):
    out = str(tmp_path)

    def two_phases(first_lr):
        with TrainingRun(out, chainer.get_device('@numpy'), 0, {'data': 'd'}) as run:
            run.run(Phase('a', _Loss(), DATA, chainer.optimizers.Adam(), (1, 'epoch'), 16,
                          params={'first_lr': first_lr}))
            run.run(Phase('b', _Loss(), DATA, chainer.optimizers.Adam(), (1, 'epoch'), 16,
                          params={'second': 1}))
    two_phases(0.1)
    with open(os.path.join(out, 'b', 'key.json')) as f:
        assert json.load(f)['params'] == {'data': 'd', 'first_lr': 0.1, 'second': 1}
    os.remove(os.path.join(out, 'a', 'done.npz'))  # a retrains, b must not be reused blindly
    with pytest.raises(ResumeError, match=r'[/\\]b was trained with first_lr=0.1 there, 0.2'):
        two_phases(0.2)


def test_second_process_is_refused_by_the_lock(tmp_path):
    device = chainer.get_device('@numpy')
    with TrainingRun(str(tmp_path), device, 0, {}):
        with pytest.raises(RunLockedError, match='in use: another chainclust process'):
            with TrainingRun(str(tmp_path), device, 0, {}):
                pass
    with TrainingRun(str(tmp_path), device, 0, {}):  # released on exit
        pass


def test_stale_snapshot_temporaries_are_removed(tmp_path):
    stale = tmp_path / 'first' / 'tmpsnapshotabc'
    stale.mkdir(parents=True)
    (stale / 'snapshot').write_bytes(b'half written')
    _train(str(tmp_path), {})
    assert not stale.exists()


def test_random_streams_are_named_and_independent_of_order():
    a1, b1 = random_stream(0, 'a').rand(3), random_stream(0, 'b').rand(3)
    b2, a2 = random_stream(0, 'b').rand(3), random_stream(0, 'a').rand(3)
    numpy.testing.assert_array_equal(a1, a2)
    numpy.testing.assert_array_equal(b1, b2)
    assert not numpy.allclose(a1, b1)
    assert not numpy.allclose(a1, random_stream(1, 'a').rand(3))


def test_random_state_snapshot_round_trip(tmp_path):
    state = random_stream(0, 's')
    state.rand(5)
    state.normal()  # leaves a cached Gaussian in the state
    saved = RandomStateSnapshot({'s': state})
    chainer.serializers.save_npz(str(tmp_path / 'r.npz'), saved)
    expected = state.rand(4), state.normal(), state.normal()
    fresh = random_stream(9, 'other')
    chainer.serializers.load_npz(str(tmp_path / 'r.npz'), RandomStateSnapshot({'s': fresh}))
    actual = fresh.rand(4), fresh.normal(), fresh.normal()
    for e, a in zip(expected, actual):
        numpy.testing.assert_array_equal(e, a)


def test_resume_changed_keeps_matching_phases_and_retrains_the_rest(tmp_path):
    out = str(tmp_path)
    device = chainer.get_device('@numpy')

    def three_phases(second, resume):
        trained = []
        with TrainingRun(out, device, 0, {'data': 'd'}, resume=resume) as run:
            for name, params in (('a', {'first': 1}), ('b', {'second': second}),
                                 ('c', {'third': 3})):
                trained.append(run.run(Phase(name, _Loss(), DATA, chainer.optimizers.Adam(),
                                             (1, 'epoch'), 16, params=params)))
        return trained
    assert three_phases(2, 'auto') == [True, True, True]
    with pytest.raises(ResumeError, match="--resume changed"):
        three_phases(5, 'auto')
    assert three_phases(5, 'changed') == [False, True, True]  # c's key matched, but b changed
    assert three_phases(5, 'changed') == [False, False, False]
    assert three_phases(5, 'never') == [True, True, True]
