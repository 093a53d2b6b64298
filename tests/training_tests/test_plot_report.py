"""The throttled PlotReport: every point recorded, figures drawn at most every few seconds."""
import json
import os

import chainer
import numpy
import pytest

from chainclust.training import Phase, TrainingRun
from chainclust.training.plot_report import PlotReport
from tests.training_tests.test_phase import _Interrupt, _Loss


def _fit(out, epochs, extensions=()):
    data = numpy.random.RandomState(0).rand(64, 4).astype(numpy.float32)
    with TrainingRun(out, chainer.get_device('@numpy'), 0, {'data': 'x'}) as run:
        run.run(Phase('phase', _Loss(), data, chainer.optimizers.Adam(), (epochs, 'epoch'), 16,
                      log_trigger=(1, 'iteration'), extensions=list(extensions)))


def _points(path):
    """The plotted points the snapshot or done file's PlotReport state holds."""
    with numpy.load(path, allow_pickle=False) as f:
        key = [k for k in f.files if k.endswith('_plot_loss.png')][0]
        return json.loads(str(f[key]))['main/loss']


def test_draws_first_point_then_throttles_then_final(tmp_path, monkeypatch):
    drawn = []
    original = PlotReport.draw

    def counting_draw(self):
        drawn.append(len(self._data['main/loss']))
        original(self)
    monkeypatch.setattr(PlotReport, 'draw', counting_draw)
    _fit(str(tmp_path), 5)  # 20 iterations, a point each, in far less than 10 s
    assert drawn == [1, 20]  # the first point, then once at the end with all 20
    png = os.path.join(str(tmp_path), 'phase', 'loss.png')
    with open(png, 'rb') as f:
        assert f.read(8) == b'\x89PNG\r\n\x1a\n'
    assert not [n for n in os.listdir(os.path.dirname(png)) if n.startswith('.tmp')]


def test_draws_again_once_the_interval_passed(tmp_path, monkeypatch):
    drawn = []
    monkeypatch.setattr(PlotReport, 'draw', lambda self: drawn.append(len(self._data['main/loss'])))
    clock = iter(range(0, 1000, 4))  # 4 s pass between two points
    monkeypatch.setattr('chainclust.training.plot_report.time.monotonic', lambda: next(clock))
    _fit(str(tmp_path), 2)  # 8 points at t = 0, 4, ..., 28
    assert drawn == [1, 4, 7, 8]  # t = 0, 12, 24, then the final figure


def test_interrupted_run_keeps_every_point_for_the_resumed_plot(tmp_path):
    out = str(tmp_path)
    with pytest.raises(KeyboardInterrupt):
        _fit(out, 4, extensions=[(_Interrupt(10), {})])
    assert len(_points(os.path.join(out, 'phase', 'snapshot'))) == 8  # epoch 2's snapshot
    assert os.path.exists(os.path.join(out, 'phase', 'loss.png'))  # drawn on the way out
    _fit(out, 4)
    with open(os.path.join(out, 'phase', 'log')) as f:
        assert len(json.load(f)) == 16
