"""Stop rules and schedules as Trainer triggers."""


class LabelChangeTrigger(object):
    """Stop when few labels change between target updates, or at ``max_iter``.

    DEC's rule: training ends once the fraction of samples whose assignment
    changed between two consecutive target updates is below ``tol``.

    Args:
        target_update (TargetDistributionUpdate): the extension that tracks labels.
        tol (float): threshold on the changed fraction, in [0, 1).
        max_iter (int): hard limit on iterations.
    """

    def __init__(self, target_update, tol, max_iter):
        if not 0 <= tol < 1:
            raise ValueError('tol must be in [0, 1), got %r' % (tol,))
        if int(max_iter) < 1:
            raise ValueError('max_iter must be >= 1, got %r' % (max_iter,))
        self.target_update, self.tol, self.max_iter = target_update, tol, int(max_iter)

    def get_training_length(self):
        return self.max_iter, 'iteration'

    def __call__(self, trainer):
        if trainer.updater.iteration >= self.max_iter:
            return True
        update = self.target_update
        return update.n_updates > 1 and update.delta_label < self.tol


class EpochIntervalTrigger(object):
    """Fire at the end of every ``interval``-th epoch and of the last one.

    Stateless (it reads the updater's epoch alone), so a resumed phase keeps
    the schedule and a snapshot holds nothing of it.

    Args:
        interval (int): epochs between firings, >= 1.
        last_epoch (int): the phase's last epoch, which always fires.
    """

    def __init__(self, interval, last_epoch):
        if int(interval) < 1:
            raise ValueError('interval must be >= 1, got %r' % (interval,))
        self.interval, self.last_epoch = int(interval), int(last_epoch)

    def __call__(self, trainer):
        updater = trainer.updater
        if not updater.is_new_epoch:
            return False
        return updater.epoch % self.interval == 0 or updater.epoch >= self.last_epoch
