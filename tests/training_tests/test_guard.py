"""Training that goes NaN/inf stops at once with one line, and saves nothing non-finite."""
import os

import chainer
from click.testing import CliRunner
import numpy
import pytest

from chainclust import DEC, datasets
from chainclust.cli import main
from chainclust.errors import DataError, TrainingDivergedError
from chainclust.links import MLP
from chainclust.training import Phase, TrainingRun

TINY = dict(hidden_dims=(16, 16, 32), embedding_dim=4, finetune_epochs=3, batch_size=64,
            update_interval=10, max_iter=30, n_init=2, random_state=0)


class _Poisoned(chainer.Chain):
    """A loss whose first weight turns infinite at call ``at`` (the loss itself stays finite)."""

    def __init__(self, at):
        super(_Poisoned, self).__init__()
        with self.init_scope():
            self.mlp = MLP((4, 8, 4))
        self.calls, self.at = 0, at

    def forward(self, x):
        loss = chainer.functions.mean_squared_error(self.mlp(x), x)
        self.calls += 1
        if self.calls == self.at:
            self.mlp[0].W.array[0, 0] = numpy.inf
        chainer.report({'loss': loss}, self)
        return loss


def test_non_finite_parameter_stops_and_keeps_the_last_good_snapshot(tmp_path):
    data = numpy.random.RandomState(0).rand(64, 4).astype(numpy.float32)  # 4 batches/epoch
    loss = _Poisoned(at=10)
    with pytest.raises(TrainingDivergedError) as error:
        with TrainingRun(str(tmp_path), chainer.get_device('@numpy'), 0, {}) as run:
            run.run(Phase('p', loss, data, chainer.optimizers.SGD(0.1), (5, 'epoch'), 16))
    message = str(error.value)
    assert 'p at iteration 10: parameter /mlp/0/W holds NaN or inf' in message
    folder = tmp_path / 'p'
    assert not (folder / 'done.npz').exists()
    with numpy.load(str(folder / 'snapshot')) as f:
        assert int(f['updater/iteration']) == 8  # the epoch-2 snapshot
        weights = [f[k] for k in f.files if k.startswith('updater/model:main/')]
    assert weights and all(numpy.isfinite(w).all() for w in weights)


@pytest.fixture(scope='module')
def digits():
    return datasets.load('digits').subset(300, random_state=0)


@pytest.mark.filterwarnings('ignore:overflow encountered:RuntimeWarning')
def test_diverging_dec_names_phase_iteration_and_term(digits, tmp_path):
    out = str(tmp_path / 'r')
    with pytest.raises(TrainingDivergedError, match=r'finetune at iteration \d+: the reported '
                                                    r'main/loss is nan'):
        DEC(pretrain_lr=1e8, out=out, **TINY).fit(digits.x)
    assert not os.path.exists(os.path.join(out, 'finetune', 'done.npz'))
    assert not os.path.exists(os.path.join(out, 'model.npz'))


@pytest.mark.filterwarnings('ignore:overflow encountered:RuntimeWarning')
def test_diverging_cli_run_is_one_line(tmp_path):
    result = CliRunner().invoke(main, [
        'train', 'dec', '--data', 'digits', '--limit', 300, '--clusters', 4, '--out',
        str(tmp_path / 'r'), '--pretrain-lr', '1e8', '--hidden-dims', '16,16,32',
        '--embedding-dim', 4, '--finetune-epochs', 3, '--batch-size', 64, '-q'])
    assert result.exit_code == 1
    assert result.output.startswith('Error: training diverged in ')
    assert 'Traceback' not in result.output and 'Exception in main training loop' \
        not in result.output


@pytest.mark.parametrize('name', ['alpha', 'pretrain_lr', 'tol'])
@pytest.mark.parametrize('value', [float('inf'), float('nan')])
def test_non_finite_hyper_parameters_are_refused(digits, name, value):
    with pytest.raises(ValueError, match=name):
        DEC(**dict(TINY, **{name: value})).fit(digits.x)


def test_values_beyond_float32_are_refused_before_training(digits):
    x = digits.x.astype(numpy.float64)
    x[7, 1, 1] = 1e300
    with pytest.raises(DataError, match=r'beyond the float32 range \(first at sample 7'):
        DEC(**TINY).fit(x)
