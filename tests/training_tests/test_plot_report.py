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


def test_a_short_phase_draws_once_at_the_end(tmp_path, monkeypatch):
    drawn = []
    original = PlotReport.draw

    def counting_draw(self):
        drawn.append(len(self._data['main/loss']))
        original(self)
    monkeypatch.setattr(PlotReport, 'draw', counting_draw)
    _fit(str(tmp_path), 5)  # 20 iterations, a point each, in far less than 10 s
    assert drawn == [20]  # not before 10 s of training: once at the end, with all 20
    png = os.path.join(str(tmp_path), 'phase', 'loss.png')
    with open(png, 'rb') as f:
        assert f.read(8) == b'\x89PNG\r\n\x1a\n'
    assert not [n for n in os.listdir(os.path.dirname(png)) if n.startswith('.tmp')]


class _Clock(object):
    """A fake ``time.monotonic``: 4 s pass before every point, ``draw_seconds`` in a drawing."""

    def __init__(self, draw_seconds):
        self.now, self.draw_seconds = 0.0, draw_seconds

    def __call__(self):
        return self.now


def _drawn_with_clock(tmp_path, monkeypatch, epochs, draw_seconds):
    """The number of points in each drawing, one point per iteration, 4 iterations an epoch."""
    clock, drawn = _Clock(draw_seconds), []
    original_call = PlotReport.__call__

    def call(self, trainer):
        clock.now += 4.0
        original_call(self, trainer)

    def draw(self):
        drawn.append(len(self._data['main/loss']))
        clock.now += clock.draw_seconds
    monkeypatch.setattr('chainclust.training.plot_report.time.monotonic', clock)
    monkeypatch.setattr(PlotReport, '__call__', call)
    monkeypatch.setattr(PlotReport, 'draw', draw)
    _fit(str(tmp_path), epochs)
    return drawn


def test_draws_after_the_interval_then_once_each_interval(tmp_path, monkeypatch):
    # Points at t = 4, 8, ..., 32, drawings instantaneous: the first drawing once
    # 10 s have passed (point 3, t = 12), the next 10 s later (point 6), the final one.
    assert _drawn_with_clock(tmp_path, monkeypatch, 2, 0.0) == [3, 6, 8]


def test_costly_drawings_keep_to_their_share_of_the_time(tmp_path, monkeypatch):
    # A drawing takes 1 s: with max_share 0.02 the next waits 1 / 0.02 = 50 s, not 10.
    # Point 3 at t = 12 (drawn, until 13), points 4.. at 17, 21, ...: point k at 4 k + 1;
    # the next drawing at 12 + 50 = 62 or later: point 16 (t = 65), then 16 + 12.5 -> 29.
    assert _drawn_with_clock(tmp_path, monkeypatch, 8, 1.0) == [3, 16, 29, 32]


def test_interrupted_run_keeps_every_point_for_the_resumed_plot(tmp_path):
    out = str(tmp_path)
    with pytest.raises(KeyboardInterrupt):
        _fit(out, 4, extensions=[(_Interrupt(10), {})])
    assert len(_points(os.path.join(out, 'phase', 'snapshot'))) == 8  # epoch 2's snapshot
    assert os.path.exists(os.path.join(out, 'phase', 'loss.png'))  # drawn on the way out
    _fit(out, 4)
    with open(os.path.join(out, 'phase', 'log')) as f:
        assert len(json.load(f)) == 16
