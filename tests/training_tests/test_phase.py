import json
import os

import chainer
import numpy
import pytest

from chainclust.links import MLP
from chainclust.training import EpochIntervalTrigger, LabelChangeTrigger, Phase
from chainclust.training import target_distribution, TrainingRun
from chainclust.training import TargetDistributionUpdate


class _Loss(chainer.Chain):
    def __init__(self):
        super(_Loss, self).__init__()
        with self.init_scope():
            self.mlp = MLP((4, 8, 4))

    def forward(self, x):
        loss = chainer.functions.mean_squared_error(self.mlp(x), x)
        chainer.report({'loss': loss}, self)
        return loss


class _Interrupt(chainer.training.Extension):
    trigger = (1, 'iteration')

    def __init__(self, at):
        self.at = at

    def __call__(self, trainer):
        if trainer.updater.iteration == self.at:
            raise KeyboardInterrupt


def _data():
    return numpy.random.RandomState(0).rand(64, 4).astype(numpy.float32)


def _run(out, seed=0, key=None, resume='auto'):
    return TrainingRun(out, chainer.get_device('@numpy'), seed, key or {'data': 'x'}, resume)


def _phase(loss, epochs, **kwargs):
    return Phase('phase', loss, _data(), chainer.optimizers.Adam(), (epochs, 'epoch'), 16,
                 **kwargs)


def test_interrupted_phase_resumes_from_snapshot(tmp_path):
    out = str(tmp_path)
    with pytest.raises(KeyboardInterrupt):
        with _run(out) as run:
            run.run(_phase(_Loss(), 6, extensions=[(_Interrupt(10), {})]))
    phase = os.path.join(out, 'phase')
    assert os.path.exists(os.path.join(phase, 'snapshot'))  # epoch 2 = iteration 8
    assert not os.path.exists(os.path.join(phase, 'done.npz'))
    with _run(out) as run:
        assert run.run(_phase(_Loss(), 6)) is True
    with open(os.path.join(phase, 'log')) as f:
        epochs = [r['epoch'] for r in json.load(f)]
    assert epochs == [1, 2, 3, 4, 5, 6]  # the log continued from the snapshot
    assert os.path.exists(os.path.join(phase, 'done.npz'))
    assert not os.path.exists(os.path.join(phase, 'snapshot'))


def test_finished_phase_is_loaded_not_retrained(tmp_path):
    first = _Loss()
    with _run(str(tmp_path)) as run:
        run.run(_phase(first, 2))
    second = _Loss()
    with _run(str(tmp_path)) as run:
        assert run.run(_phase(second, 2)) is False
    numpy.testing.assert_array_equal(first.mlp[0].W.array, second.mlp[0].W.array)


def test_drop_last_epochs_hold_whole_batches_only(tmp_path):
    from chainclust.training.phase import DropLastOrderSampler
    sampler = DropLastOrderSampler(10, 4, numpy.random.RandomState(0))
    iterator = chainer.iterators.SerialIterator(numpy.arange(10), 4, order_sampler=sampler)
    batches = [iterator.next() for _ in range(6)]
    assert all(len(b) == 4 for b in batches)
    assert iterator.epoch == 3  # two batches per epoch: the remainder of 2 is dropped
    for first, second in ((0, 1), (2, 3), (4, 5)):
        assert len(set(batches[first]) | set(batches[second])) == 8  # no repeats within
    with _run(str(tmp_path)) as run:
        run.run(Phase('p', _Loss(), _data(), chainer.optimizers.Adam(), (2, 'epoch'), 24,
                      order='drop_last', log_trigger=(1, 'iteration')))
    with open(os.path.join(str(tmp_path), 'p', 'log')) as f:
        assert len(json.load(f)) == 2 * (64 // 24)


def test_target_distribution_hand_computed():
    q = numpy.array([[0.5, 0.5], [0.9, 0.1]])
    f = q.sum(axis=0)  # 1.4, 0.6
    w = q ** 2 / f
    expected = w / w.sum(axis=1, keepdims=True)
    numpy.testing.assert_allclose(target_distribution(q), expected)
    # sharper than q and normalised
    numpy.testing.assert_allclose(target_distribution(q).sum(axis=1), 1)
    assert target_distribution(q)[1, 0] > q[1, 0]


class _Trainer(object):
    class updater(object):
        iteration = 0


def test_label_change_trigger():
    x = numpy.zeros((4, 1), numpy.float32)
    p = numpy.zeros((4, 2), numpy.float32)
    outputs = iter([numpy.array([[.9, .1], [.9, .1], [.1, .9], [.1, .9]]),
                    numpy.array([[.9, .1], [.1, .9], [.1, .9], [.1, .9]]),
                    numpy.array([[.9, .1], [.1, .9], [.1, .9], [.1, .9]])])
    update = TargetDistributionUpdate(lambda a: next(outputs), x, p, interval=5)
    trigger = LabelChangeTrigger(update, tol=0.1, max_iter=100)
    trainer = _Trainer()
    update.initialize(trainer)
    assert not trigger(trainer)  # no comparison yet
    assert update.update()['delta_label'] == 0.25
    assert not trigger(trainer)
    assert update.update()['delta_label'] == 0.0
    assert trigger(trainer)
    numpy.testing.assert_allclose(p.sum(axis=1), 1, rtol=1e-6)
    trainer.updater.iteration = 100
    assert LabelChangeTrigger(update, tol=0.0, max_iter=100)(trainer)


def test_trigger_arguments():
    with pytest.raises(ValueError, match='tol'):
        LabelChangeTrigger(None, tol=1.5, max_iter=3)
    with pytest.raises(ValueError, match='max_iter'):
        LabelChangeTrigger(None, tol=0.1, max_iter=0)


def test_epoch_interval_trigger_fires_every_interval_and_at_the_last_epoch():
    trigger = EpochIntervalTrigger(2, last_epoch=5)
    trainer = _Trainer()
    fired = []
    for epoch in range(1, 6):
        for new_epoch in (False, True):  # an iteration inside the epoch, then its last one
            trainer.updater.is_new_epoch = new_epoch
            trainer.updater.epoch = epoch if new_epoch else epoch - 1
            if trigger(trainer):
                fired.append(epoch)
    assert fired == [2, 4, 5]
    with pytest.raises(ValueError, match='interval'):
        EpochIntervalTrigger(0, last_epoch=5)
