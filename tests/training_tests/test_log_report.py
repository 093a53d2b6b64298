"""The throttled LogReport: every entry kept and written, the file rewritten at most every few seconds."""
import json
import os

import chainer
import numpy
import pytest

from chainclust.training import Phase, TrainingRun
from chainclust.training.log_report import LogReport
from tests.training_tests.test_phase import _Interrupt, _Loss


def _fit(out, epochs, extensions=()):
    data = numpy.random.RandomState(0).rand(64, 4).astype(numpy.float32)
    with TrainingRun(out, chainer.get_device('@numpy'), 0, {'data': 'x'}) as run:
        run.run(Phase('phase', _Loss(), data, chainer.optimizers.Adam(), (epochs, 'epoch'), 16,
                      log_trigger=(1, 'iteration'), extensions=list(extensions)))


def _log(out):
    with open(os.path.join(out, 'phase', 'log')) as f:
        return json.load(f)


class _Clock(object):
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_every_entry_is_in_the_file_at_the_end(tmp_path):
    _fit(str(tmp_path), 3)
    log = _log(str(tmp_path))
    assert [entry['iteration'] for entry in log] == list(range(1, 13))
    assert all(numpy.isfinite(entry['main/loss']) for entry in log)
    assert not [n for n in os.listdir(str(tmp_path / 'phase')) if n.startswith('.tmp')]


def test_the_file_is_rewritten_at_most_every_interval(tmp_path, monkeypatch):
    clock, sizes = _Clock(), []
    original_call, original_write = LogReport.__call__, LogReport.write

    def call(self, trainer):
        clock.now += 2.0  # 2 s an iteration
        original_call(self, trainer)

    def write(self):
        original_write(self)
        sizes.append(len(_log(str(tmp_path))))
    monkeypatch.setattr('chainclust.training.log_report.time.monotonic', clock)
    monkeypatch.setattr(LogReport, '__call__', call)
    monkeypatch.setattr(LogReport, 'write', write)
    _fit(str(tmp_path), 3)  # entries at t = 2, 4, ..., 24
    # due 5 s after the start, then 5 s after each write: t = 6, 12, 18, 24 (entries 3, 6, 9,
    # 12); the last write already holds all 12, so the end adds none
    assert sizes == [3, 6, 9, 12]


def test_an_interrupted_phase_writes_every_entry_and_resumes_the_log(tmp_path):
    out = str(tmp_path)
    with pytest.raises(KeyboardInterrupt):
        _fit(out, 4, extensions=[(_Interrupt(10), {})])
    assert [entry['iteration'] for entry in _log(out)] == list(range(1, 10))  # written on the way out
    _fit(out, 4)  # resumes from epoch 2's snapshot (iteration 8)
    assert [entry['iteration'] for entry in _log(out)] == list(range(1, 17))


def test_the_log_keeps_chainer_s_name_for_print_report():
    assert LogReport().default_name == 'LogReport'
