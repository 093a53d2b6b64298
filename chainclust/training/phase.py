"""A training phase: the parts of one resumable Chainer Trainer run."""
import chainer
from chainer import training

ORDERS = ('shuffle', 'drop_last')


class DropLastOrderSampler(chainer.iterators.OrderSampler):
    """Each epoch, a new random order truncated to whole batches.

    The iterator's epoch is the order's length, so every epoch holds
    ``floor(N / batch_size)`` full batches and a different random remainder
    of the samples is left out (PyTorch's ``drop_last=True``).
    """

    def __init__(self, n_samples, batch_size, random_state):
        self.n_samples, self.random_state = n_samples, random_state
        self.length = (n_samples // batch_size) * batch_size

    def __call__(self, current_order, current_position):
        return self.random_state.permutation(self.n_samples)[:self.length]


def standard_updater(iterator, optimizer, converter, device):
    """The default updater: one optimizer step per batch."""
    return training.updaters.StandardUpdater(iterator, optimizer, converter=converter,
                                             device=device)


class Phase(object):
    """One stage of training, described by its parts; run by a :class:`TrainingRun`.

    Args:
        name (str): the phase's folder inside the run's folder, e.g.
            ``'pretrain/layer0'``.
        loss (chainer.Chain): returns a scalar loss and reports under ``main/``.
        dataset: a Chainer dataset (an array, or a ``TupleDataset``).
        optimizer: a :class:`chainer.Optimizer` that is not set up yet (it is set
            up on ``loss``), or a dict of optimizers already set up on their
            targets (for an updater with several).
        stop_trigger: a trigger or ``(length, unit)``; a length of 0 trains nothing.
        batch_size (int): minibatch size.
        params (dict): the hyper-parameters that shape this phase beyond those of
            the phases before it; with them and the data they form the phase's
            key, and a finished phase is reused only if its key matches.
        order (str): ``'shuffle'`` (a new permutation each epoch) or
            ``'drop_last'`` (full batches only, see :class:`DropLastOrderSampler`).
        converter: a Chainer converter from a list of examples to arrays on the
            device (``concat_examples`` by default); e.g. one that augments, or
            one that returns two augmented views of each batch.
        updater: callable ``(iterator, optimizer, converter, device)`` returning
            a :class:`chainer.training.Updater` (:func:`standard_updater`).
        extensions: ``(extension, kwargs)`` pairs added to the trainer.
        random_states (dict): name -> RandomState drawn from during the phase
            (augmentation, dropout masks); their states travel in snapshots.
        log_trigger: LogReport/PlotReport/PrintReport interval.
        snapshot_trigger: how often a resumable snapshot is written.
        report_keys: observation keys printed when the run is verbose.
        plots: ``(file_name, keys)`` pairs for PlotReport.
        progress_length: ``(length, unit)`` for the progress bar when the stop
            trigger does not say it.

    Attributes:
        iterations (int or None): the iterations it trained, once run.
    """

    def __init__(self, name, loss, dataset, optimizer, stop_trigger, batch_size,
                 params=None, order='shuffle', converter=None, updater=standard_updater,
                 extensions=(), random_states=None, log_trigger=(1, 'epoch'),
                 snapshot_trigger=(1, 'epoch'), report_keys=('main/loss',),
                 plots=(('loss.png', ('main/loss',)),), progress_length=None):
        if order not in ORDERS:
            raise ValueError('order must be one of %s, got %r' % (ORDERS, order))
        if int(batch_size) < 1:
            raise ValueError('batch_size must be >= 1, got %r' % (batch_size,))
        if order == 'drop_last' and len(dataset) < batch_size:
            raise ValueError('batch_size=%d is more than the %d samples'
                             % (batch_size, len(dataset)))
        self.name, self.loss, self.dataset = name, loss, dataset
        self.optimizer, self.stop_trigger = optimizer, stop_trigger
        self.batch_size = int(batch_size)
        self.params = dict(params or {})
        self.order = order
        self.converter = converter or chainer.dataset.concat_examples
        self.updater = updater
        self.extensions = list(extensions)
        self.random_states = dict(random_states or {})
        self.log_trigger, self.snapshot_trigger = log_trigger, snapshot_trigger
        self.report_keys, self.plots = list(report_keys), list(plots)
        self.progress_length = progress_length
        self.iterations = None

    @property
    def trains_nothing(self):
        return isinstance(self.stop_trigger, tuple) and self.stop_trigger[0] == 0

    def make_iterator(self, random_state):
        """A repeating iterator over the dataset, shuffled by ``random_state``."""
        if self.order == 'drop_last':
            order = DropLastOrderSampler(len(self.dataset), self.batch_size, random_state)
        else:
            order = chainer.iterators.ShuffleOrderSampler(random_state)
        return chainer.iterators.SerialIterator(
            self.dataset, self.batch_size, repeat=True, order_sampler=order)

    def setup_optimizers(self):
        """Set up the optimizer on the loss (unless given as a dict); return them."""
        if isinstance(self.optimizer, dict):
            return self.optimizer
        if getattr(self.optimizer, 'target', None) is None:
            self.optimizer.setup(self.loss)
        return {'main': self.optimizer}
