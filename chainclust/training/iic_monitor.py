"""Records of IIC training: the best sub-head each epoch and pictures of the joint P."""
import os

import chainer
from chainer.training import extension
import numpy

from chainclust import plots
from chainclust.distributed import SINGLE


class SubheadChooser(extension.Extension):
    """Every epoch, make the clustering sub-head with the lowest loss the source of labels.

    Reads the per-sub-head loss sums that :class:`~chainclust.models.iic.IICLoss`
    accumulated over the epoch, sets ``net.best_subhead`` and starts a new sum.
    Runs before the other writers, so that the epoch's metrics use the choice.
    """

    trigger = (1, 'epoch')
    priority = extension.PRIORITY_WRITER + 1

    def __init__(self, loss, distribution=SINGLE):
        self._loss, self._distribution = loss, distribution

    def __call__(self, trainer):
        sums = self._distribution.allreduce_sum(self._loss.take_subhead_losses())
        self._loss.net.best_subhead = numpy.int64(numpy.argmin(sums))


class AlphaWarmup(extension.Extension):
    """Hold the loss's ``alpha`` at 1, then ramp it linearly to its target.

    With a large ``alpha`` and Adam, the step direction early in training is set by
    the marginal-entropy terms, which also reward shrinking every output towards
    uniform; a warm-up at the mutual information (``alpha = 1``) lets the clusters
    form first. Sets the value for the next iteration after every update and, at the
    start of a (resumed) run, from the iteration reached, so resuming is exact.

    Args:
        loss: a chain with an ``alpha`` attribute (:class:`~chainclust.models.iic.IICLoss`).
        target (float): ``alpha`` after the warm-up.
        iterations (int): length of the ramp (0: a jump to ``target``).
        delay (int): iterations at ``alpha = 1`` before the ramp starts.
        offset (int): iterations trained before this phase (a start's, when
            the phase continues it), counted in the schedule.
    """

    trigger = (1, 'iteration')
    priority = extension.PRIORITY_WRITER + 2

    def __init__(self, loss, target, iterations, delay=0, offset=0):
        self._loss, self.target, self.iterations = loss, float(target), int(iterations)
        self.delay, self.offset = int(delay), int(offset)

    def value(self, iteration):
        """``alpha`` for the update after ``iteration`` updates of this phase."""
        iteration += self.offset
        if iteration < self.delay:
            return 1.0
        if not self.iterations:
            return self.target
        progress = min(1.0, (iteration - self.delay) / float(self.iterations))
        return 1.0 + (self.target - 1.0) * progress

    def initialize(self, trainer):
        self._loss.alpha = self.value(trainer.updater.iteration)

    def __call__(self, trainer):
        self._loss.alpha = self.value(trainer.updater.iteration)


class JointPlot(extension.Extension):
    """Every epoch, draw the last batch's joint distribution P of the best clustering sub-head.

    Writes ``joint/epochNNN.png`` into the phase folder.
    """

    root_only = True  # writes files or reports for the log: rank 0 alone runs it

    trigger = (1, 'epoch')
    priority = extension.PRIORITY_READER

    def __init__(self, loss):
        self._loss = loss

    def __call__(self, trainer):
        joint = self._loss.last_joint
        if joint is None:
            return
        joint = chainer.backend.CpuDevice().send(joint)
        folder = os.path.join(trainer.out, 'joint')
        os.makedirs(folder, exist_ok=True)
        epoch = trainer.updater.epoch
        plots.heatmap_png(joint, os.path.join(folder, 'epoch%03d.png' % epoch),
                          'joint P (last batch), epoch %d' % epoch,
                          xlabel="cluster of the transformed copy", ylabel='cluster of the image')
