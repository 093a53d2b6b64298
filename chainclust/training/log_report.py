"""Chainer's LogReport, writing its file at most every few seconds instead of at every entry."""
import json
import os
import time
import warnings

from chainer.training import extensions

from chainclust.io import atomic_path


class LogReport(extensions.LogReport):
    """:class:`chainer.training.extensions.LogReport` with the file writes throttled.

    Entries are made exactly as Chainer makes them (the in-memory ``log`` that
    PrintReport reads, and the snapshot's copy, hold every entry at once);
    only the JSON file is rewritten at most every ``min_interval`` seconds, and
    always when training ends or stops. Chainer rewrites the whole, growing
    file at every entry: for a phase that logs every iteration that is work
    quadratic in its length (VQ-AE: 2.4 ms of a 55 ms step after 70 steps).
    The file is written atomically.

    Args:
        min_interval (float): seconds between two writes of the file.
        Other arguments are LogReport's.
    """

    def __init__(self, keys=None, trigger=(1, 'epoch'), postprocess=None, filename='log',
                 min_interval=5.0):
        super(LogReport, self).__init__(keys, trigger, postprocess)
        self._log_name = None  # Chainer's own write at every entry: off
        self._file_name = filename
        self.min_interval = float(min_interval)
        self._next_write = None
        self._out = None
        self._written = 0  # entries in the file

    def initialize(self, trainer):
        self._out = trainer.out
        self._next_write = time.monotonic() + self.min_interval

    def __call__(self, trainer):
        entries = len(self._log)
        super(LogReport, self).__call__(trainer)
        if len(self._log) == entries:
            return
        self._out = trainer.out
        now = time.monotonic()
        if self._next_write is None or now >= self._next_write:
            self.write()
            self._next_write = now + self.min_interval

    def finalize(self):
        """Write the entries not in the file yet (runs in the Trainer's ``finally``)."""
        if self._out is None or self._written == len(self._log):
            return
        try:
            self.write()
        except Exception as error:  # noqa: BLE001 - never hide the error that ended training
            warnings.warn('%s could not be written: %s: %s'
                          % (self._file_name, type(error).__name__, error))

    def write(self):
        """Write every entry so far to the log file."""
        with atomic_path(os.path.join(self._out, self._file_name)) as tmp:
            with open(tmp, 'w') as f:
                json.dump(self._log, f, indent=4)
        self._written = len(self._log)
