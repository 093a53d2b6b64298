"""One training phase as a Chainer Trainer that resumes and records itself."""
import functools
import os

import chainer
from chainer import serializers
from chainer import training
from chainer.training import extensions
import numpy

from chainclust.io import atomic_path, load_npz
from chainclust.training.augment import augmenting_converter

DONE_FILE = 'done.npz'


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


def run_phase(loss, dataset, out, stop_trigger, optimizer, batch_size,
              device, seed=None, extra_extensions=(), log_trigger=(1, 'epoch'),
              snapshot_trigger=(1, 'epoch'), report_keys=('main/loss',),
              plots=(('loss.png', ('main/loss',)),), progress_length=None,
              drop_last=False, transform=None, verbose=False):
    """Train ``loss`` on ``dataset`` in folder ``out``; skip if already done.

    Writes ``out/log`` (LogReport), the PNG plots, ``out/snapshot`` (resumed
    automatically after an interruption, read without unpickling) and finally ``out/done.npz``, the
    trained parameters. When ``done.npz`` exists the parameters are loaded and
    no training happens.

    Args:
        loss (chainer.Chain): returns a scalar loss and reports under ``main/``.
        dataset: a Chainer dataset of arrays or tuples of arrays.
        out (str): the phase folder.
        stop_trigger: a trigger or ``(length, unit)``.
        optimizer (chainer.Optimizer): not yet set up.
        batch_size (int): minibatch size.
        device: Chainer device the loss lives on.
        seed (int or None): seeds the shuffling order.
        extra_extensions: ``(extension, kwargs)`` pairs added to the trainer.
        report_keys: observation keys printed when ``verbose``.
        plots: ``(file_name, keys)`` pairs for PlotReport.
        progress_length: ``(length, unit)`` for the progress bar when the stop
            trigger does not say it.
        drop_last (bool): epochs of full batches only (see DropLastOrderSampler).
        transform: callable applied to each batch's samples on the CPU before
            the update, e.g. an :class:`~chainclust.training.augment.ImageAugmenter`.
        verbose (bool): add PrintReport and ProgressBar.

    Returns:
        bool: ``True`` if the phase trained now, ``False`` if it was done.
    """
    done = os.path.join(out, DONE_FILE)
    if os.path.exists(done):
        load_npz(done, loss)
        return False
    os.makedirs(out, exist_ok=True)
    if isinstance(stop_trigger, tuple) and stop_trigger[0] == 0:  # nothing to train
        with atomic_path(done) as tmp:
            serializers.save_npz(tmp, loss)
        return True
    optimizer.setup(loss)
    rng = numpy.random.RandomState(seed)
    if drop_last:
        if len(dataset) < batch_size:
            raise ValueError('batch_size=%d is more than the %d samples'
                             % (batch_size, len(dataset)))
        order = DropLastOrderSampler(len(dataset), batch_size, rng)
    else:
        order = chainer.iterators.ShuffleOrderSampler(rng)
    iterator = chainer.iterators.SerialIterator(
        dataset, batch_size, repeat=True, order_sampler=order)
    converter = (chainer.dataset.concat_examples if transform is None
                 else augmenting_converter(transform))
    updater = training.updaters.StandardUpdater(iterator, optimizer, converter=converter,
                                                device=device)
    trainer = training.Trainer(updater, stop_trigger, out=out)
    for extension, kwargs in extra_extensions:
        trainer.extend(extension, **kwargs)
    trainer.extend(extensions.LogReport(trigger=log_trigger))
    x_key = log_trigger[1]
    for file_name, keys in plots:
        if extensions.PlotReport.available():
            trainer.extend(extensions.PlotReport(
                list(keys), x_key, trigger=log_trigger, file_name=file_name))
    # Uncompressed: zlib on the parameters and Adam's moments every epoch
    # would cost about as much as the epoch itself.
    trainer.extend(extensions.snapshot(
        filename='snapshot',
        savefun=functools.partial(serializers.save_npz, compression=False)),
        trigger=snapshot_trigger)
    if verbose:
        trainer.extend(extensions.PrintReport(
            ['epoch', 'iteration'] + list(report_keys) + ['elapsed_time']),
            trigger=log_trigger)
        trainer.extend(extensions.ProgressBar(
            training_length=progress_length, update_interval=10))
    snapshot = os.path.join(out, 'snapshot')
    if os.path.exists(snapshot):  # resume an interrupted run
        load_npz(snapshot, trainer)
    trainer.run()
    with atomic_path(done) as tmp:
        serializers.save_npz(tmp, loss)
    if os.path.exists(snapshot):
        os.remove(snapshot)
    return True
