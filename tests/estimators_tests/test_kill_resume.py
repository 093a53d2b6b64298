"""A run killed with SIGKILL at any point and resumed ends exactly as an uninterrupted one.

Each kill happens in a child process (a real SIGKILL: no exception handler, no
``finally``), at a chosen iteration of a chosen phase, before or after that
iteration's snapshot is written. The kills follow each other in one result
folder, each resumed run continuing what the previous one left; the last run
finishes. Labels and every parameter must equal those of an uninterrupted run
with the same seed (within 1e-6).
"""
import multiprocessing
import os
import signal
import sys

import chainer
import numpy
import pytest

from chainclust import DEC, datasets, VQAE
from chainclust.training.run import TrainingRun

pytestmark = pytest.mark.skipif(sys.platform == 'win32', reason='needs SIGKILL (POSIX)')

BEFORE_SNAPSHOT, AFTER_SNAPSHOT = 1000, -1000  # extension priorities (snapshot: -100)

DEC_SETTINGS = dict(n_clusters=6, hidden_dims=(16, 16, 32), embedding_dim=4, dropout=0.2,
                    pretrain_epochs=2, finetune_epochs=3, batch_size=64, update_interval=5,
                    max_iter=25, tol=0.0, n_init=2, random_state=3)
DEC_KILLS = [('pretrain/layer0', 2, BEFORE_SNAPSHOT),    # mid-epoch, augmented + dropout
             ('pretrain/layer0', 4, BEFORE_SNAPSHOT),    # epoch end, snapshot not yet written
             ('pretrain/layer2', 4, AFTER_SNAPSHOT),     # epoch end, just after the snapshot
             ('finetune', 6, BEFORE_SNAPSHOT),           # mid-epoch
             ('finetune', 8, AFTER_SNAPSHOT),
             ('cluster', 5, AFTER_SNAPSHOT),             # right after a target update
             ('cluster', 13, BEFORE_SNAPSHOT)]           # between target updates
VQAE_SETTINGS = dict(n_clusters=6, hidden_dims=(16, 8), code_dim=4, pretrain_epochs=3,
                     epochs=4, batch_size=50, monitor_interval=2, random_state=5)
VQAE_KILLS = [('pretrain', 2, BEFORE_SNAPSHOT), ('pretrain', 8, AFTER_SNAPSHOT),
              ('train', 3, BEFORE_SNAPSHOT), ('train', 8, BEFORE_SNAPSHOT),
              ('train', 12, AFTER_SNAPSHOT)]


class _Kill(chainer.training.Extension):
    trigger = staticmethod(lambda trainer: True)

    def __init__(self, iteration):
        self.iteration = iteration

    def __call__(self, trainer):
        if trainer.updater.iteration == self.iteration:
            os.kill(os.getpid(), signal.SIGKILL)


def _fit_until_killed(estimator, x, y, phase_name, iteration, priority):
    """Fit, SIGKILLing this process at ``iteration`` of ``phase_name`` (child process)."""
    real = TrainingRun._trainer

    def trainer_with_kill(self, phase, folder):
        trainer = real(self, phase, folder)
        if phase.name == phase_name:
            trainer.extend(_Kill(iteration), name='kill', priority=priority)
        return trainer
    TrainingRun._trainer = trainer_with_kill
    estimator.fit(x, y)


def _fit_and_kill(estimator, data, phase_name, iteration, priority):
    """Fit in a child process that SIGKILLs itself; ``True`` if it was killed.

    The children come from a fork server: forking this process directly
    could hang the child in OpenMP (used by scikit-learn's k-means), which is
    not fork-safe once the parent has used it.
    """
    context = multiprocessing.get_context('forkserver')
    context.set_forkserver_preload(['chainclust', 'sklearn.cluster'])
    child = context.Process(target=_fit_until_killed, args=(
        estimator, data.x, data.y, phase_name, iteration, priority))
    child.start()
    child.join(120)
    if child.is_alive():
        child.kill()
        child.join()
        raise AssertionError('the child did not end within 120 s')
    return child.exitcode == -signal.SIGKILL


def _parameters(model):
    return {path: numpy.array(param.array) for path, param in model.net_.namedparams()}


def _check_killed_runs_match(cls, settings, kills, data, tmp_path):
    reference = cls(out=str(tmp_path / 'reference'), **settings).fit(data.x, data.y)
    out = str(tmp_path / 'killed')
    for phase_name, iteration, priority in kills:
        killed = _fit_and_kill(cls(out=out, **settings), data, phase_name, iteration, priority)
        assert killed, 'the run ended before %s iteration %d' % (phase_name, iteration)
        assert not os.path.exists(os.path.join(out, 'model.npz'))
    resumed = cls(out=out, **settings).fit(data.x, data.y)
    numpy.testing.assert_array_equal(resumed.labels_, reference.labels_)
    expected, actual = _parameters(reference), _parameters(resumed)
    assert expected.keys() == actual.keys()
    for path in expected:
        numpy.testing.assert_allclose(actual[path], expected[path], rtol=0, atol=1e-6,
                                      err_msg=path)
    return reference, resumed


@pytest.fixture(scope='module')
def digits():
    return datasets.load('digits').subset(200, random_state=1)


def test_dec_killed_anywhere_resumes_to_the_same_result(digits, tmp_path):
    reference, resumed = _check_killed_runs_match(DEC, DEC_SETTINGS, DEC_KILLS, digits,
                                                  tmp_path)
    assert resumed.augment_ == 'affine'  # augmentation and dropout streams were resumed too
    numpy.testing.assert_array_equal(resumed.init_labels_, reference.init_labels_)


def test_vqae_killed_anywhere_resumes_to_the_same_result(digits, tmp_path):
    _check_killed_runs_match(VQAE, VQAE_SETTINGS, VQAE_KILLS, digits, tmp_path)
