"""A Trainer extension that stops training at the first NaN or infinity."""
import math

import chainer
from chainer.training import extension

from chainclust.errors import TrainingDivergedError


def _always(trainer):
    return True


class NonFiniteGuard(extension.Extension):
    """After every update, check the reported values and every parameter.

    It runs before any other extension of the iteration (so a non-finite
    state is never logged as good, snapshotted or saved as a finished phase)
    and raises :class:`~chainclust.errors.TrainingDivergedError` naming the
    phase folder, the iteration and the first non-finite term or parameter.
    The last snapshot, written at an earlier and finite iteration, is kept.

    Args:
        folder (str): the phase folder, for the message.
        target (chainer.Link): the link whose parameters are checked.
    """

    trigger = staticmethod(_always)
    priority = extension.PRIORITY_WRITER + 50

    def __init__(self, folder, target):
        self.folder, self.target = folder, target

    def __call__(self, trainer):
        iteration = trainer.updater.iteration
        for key in sorted(trainer.observation):
            value = trainer.observation[key]
            value = value.array if isinstance(value, chainer.Variable) else value
            try:
                number = float(chainer.backend.CpuDevice().send(value))
            except (TypeError, ValueError):
                continue  # not a scalar
            if not math.isfinite(number):
                self._stop(iteration, 'the reported %s is %s' % (key, number))
        for name, param in self.target.namedparams():
            array = param.array
            if array is not None and not bool(param.xp.isfinite(array).all()):
                self._stop(iteration, 'parameter %s holds NaN or inf' % name)

    def _stop(self, iteration, what):
        raise TrainingDivergedError(
            'training diverged in %s at iteration %d: %s; nothing non-finite was saved '
            '(the last snapshot, if any, is from an earlier iteration); lower the learning '
            'rate or check the data, then train again' % (self.folder, iteration, what))
