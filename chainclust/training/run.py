"""A training run: a locked result folder in which phases train, resume and are reused.

Each phase has a folder holding ``key.json`` (the data fingerprint and every
parameter that shaped the phase and the phases before it), ``log``, PNG
plots, a ``snapshot`` while it runs and ``done.npz`` when it has finished.

* A finished phase is reused only if its key matches; otherwise the run stops
  with a :class:`~chainclust.errors.ResumeError` naming the folder and the
  differing parameters (``resume='never'`` trains every phase again).
* An interrupted phase resumes from its snapshot, which carries the model,
  the optimizer, the iterator and every RandomState the phase draws from, so
  a run killed at any point ends, once resumed, exactly as an uninterrupted one.
* A lock file keeps a second process from training into the same folder.
"""
import functools
import glob
import json
import os
import shutil
import sys

from chainer import serializers
from chainer import training
from chainer.training import extensions
import numpy

from chainclust._allocator import keep_freed_memory
from chainclust.distributed import ObservationMean, SINGLE
from chainclust.errors import ModelFileError, ResumeError, RunLockedError
from chainclust.io import atomic_path, load_npz, write_json
from chainclust.training.guard import NonFiniteGuard
from chainclust.training.log_report import LogReport
from chainclust.training.plot_report import PlotReport
from chainclust.training.random_states import random_stream, RandomStateSnapshot

KEY_FILE = 'key.json'
DONE_FILE = 'done.npz'
SNAPSHOT_FILE = 'snapshot'
LOCK_FILE = '.chainclust.lock'
ITERATIONS_KEY = '_chainclust/iterations'
RESUME_MODES = ('auto', 'changed', 'never')
FORCE_HINT = ("train again from here with --resume changed (resume='changed'), everything with "
              "--force (resume='never'), or choose another --out")


def jsonable(value):
    """``value`` as JSON would give it back (tuples become lists, NumPy scalars numbers)."""
    def default(obj):
        if hasattr(obj, 'item'):
            return obj.item()
        raise TypeError('%r is not JSON-serialisable' % (obj,))
    return json.loads(json.dumps(value, default=default))


class _FolderLock(object):
    """An exclusive advisory lock on ``folder/.chainclust.lock``.

    The operating system releases it when the process ends, however it ends
    (SIGKILL included), so a killed run never leaves a stale lock.
    """

    def __init__(self, folder):
        self.folder, self.path, self._fd = folder, os.path.join(folder, LOCK_FILE), None

    def acquire(self):
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows: no advisory locks
            return
        os.makedirs(self.folder, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = os.read(fd, 32).decode(errors='replace').strip() or 'unknown'
            os.close(fd)
            raise RunLockedError('%s is in use: another chainclust process (pid %s) is '
                                 'training into it; wait for it or choose another --out'
                                 % (self.folder, owner))
        except OSError as e:
            os.close(fd)
            raise RunLockedError('cannot lock %s (%s)' % (self.path, e.strerror))
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd

    def release(self):
        if self._fd is not None:
            import fcntl
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def _saved_iterations(done):
    """The number of iterations a finished phase trained (``done.npz``)."""
    with numpy.load(done, allow_pickle=False) as f:
        return int(f[ITERATIONS_KEY]) if ITERATIONS_KEY in f.files else 0


class _Discard(object):
    """A text stream that drops what it is given."""

    def write(self, text):
        pass

    def flush(self):
        pass


class _SilentProgressBar(extensions.ProgressBar):
    """ProgressBar's place in a quiet run (Chainer 7's ProgressBar ignores ``out``)."""

    def __call__(self, trainer):
        pass

    def finalize(self):
        pass


def _describe_difference(stored, key):
    """A short text naming the parameters in which two phase keys differ."""
    old, new = stored.get('params', {}), key['params']
    parts = []
    for name in sorted(set(old) | set(new)):
        if old.get(name, '<unset>') == new.get(name, '<unset>'):
            continue
        if name == 'data':
            parts.append('other data (fingerprint %s there, %s now)'
                         % (old.get(name), new.get(name)))
        else:
            parts.append('%s=%s there, %s now' % (name, json.dumps(old.get(name, '<unset>')),
                                                  json.dumps(new.get(name, '<unset>'))))
    return '; '.join(parts) or 'another phase'


class TrainingRun(object):
    """Where and how an estimator's phases run. Use it as a context manager.

    Args:
        out (str): the result folder.
        device: the Chainer device every phase trains on.
        seed (int): seeds every random stream of the run (:meth:`random_state`).
        key (dict): what shapes every phase: the data fingerprint under
            ``'data'`` and the parameters common to all phases.
        resume (str): ``'auto'`` reuses finished phases and resumes interrupted
            ones when their keys match, and refuses when they do not;
            ``'changed'`` reuses the phases whose keys match and trains again from
            the first one whose key differs; ``'never'`` trains every phase from
            the start.
        verbose (bool): print progress (PrintReport and ProgressBar).
        distribution (Distribution): the ranks that train (one by default); see
            :mod:`chainclust.distributed`.
    """

    def __init__(self, out, device, seed, key, resume='auto', verbose=False,
                 distribution=SINGLE):
        if resume not in RESUME_MODES:
            raise ValueError('resume must be one of %s, got %r' % (RESUME_MODES, resume))
        self.out, self.device, self.seed = out, device, int(seed)
        self.resume, self.verbose = resume, verbose
        self.distribution = distribution
        self._params = jsonable(key)
        self._lock = _FolderLock(out)
        self._retraining = resume == 'never'  # from here on, phases train from scratch
        self.writes = distribution.is_root  # logs, plots, snapshots, results: rank 0 only

    def __enter__(self):
        if self.writes:
            self._lock.acquire()
        keep_freed_memory()  # no page faults from malloc's thresholds (chainclust._allocator)
        return self

    def __exit__(self, *exc_info):
        self._lock.release()

    def random_state(self, name):
        """The RandomState of stream ``name``: the same for the same seed and name
        (on every rank: shuffling, k-means, codebook draws)."""
        return random_stream(self.seed, name)

    def sample_random_state(self, name):
        """The stream of per-sample draws ``name`` (augmentation, dropout masks, noise).

        Each rank draws for its own slice of the batch from its own stream; rank 0's
        is :meth:`random_state` ``(name)``, so one process draws as it always did.
        """
        rank = self.distribution.rank
        return self.random_state(name if rank == 0 else '%s/rank%d' % (name, rank))

    def folder(self, phase_name):
        return os.path.join(self.out, phase_name)

    # -- running a phase ----------------------------------------------------
    def run(self, phase):
        """Train ``phase``, resume it, or load it if it has finished.

        On several ranks, rank 0 alone reads and prepares the phase folder and
        tells the others what to do (load, resume, train, or the error), so that
        every rank takes the same path through a folder that rank 0 writes.

        Returns:
            bool: ``True`` if the phase trained now, ``False`` if it was loaded.

        Raises:
            ResumeError: the folder holds results of other data or settings.
        """
        folder = self.folder(phase.name)
        self._params.update(jsonable(phase.params))
        key = {'phase': phase.name, 'params': dict(self._params)}
        plan = self.distribution.root_computes(lambda: self._prepare(folder, key))
        if plan['error'] is not None:
            raise ResumeError(plan['error'])
        self._retraining = plan['retraining']
        done = os.path.join(folder, DONE_FILE)
        snapshot = os.path.join(folder, SNAPSHOT_FILE)
        if plan['action'] == 'load':
            load_npz(done, phase.loss)
            phase.iterations = _saved_iterations(done)
            return False
        phase.iterations = 0
        if not phase.trains_nothing:
            trainer = self._trainer(phase, folder)
            if plan['action'] == 'resume':
                try:
                    load_npz(snapshot, trainer)
                except ModelFileError as e:
                    raise ResumeError('cannot resume from %s (%s); delete it to train this '
                                      'phase from its start, or %s' % (snapshot, e, FORCE_HINT))
            trainer.run(show_loop_exception_msg=False)
            phase.iterations = trainer.updater.iteration
            self.distribution.average_persistents(phase.loss)
        if self.writes:
            saver = serializers.DictionarySerializer()
            saver.save(phase.loss)
            saver.target[ITERATIONS_KEY] = numpy.array(phase.iterations, dtype=numpy.int64)
            with atomic_path(done) as tmp:
                numpy.savez_compressed(tmp, **saver.target)
            if os.path.exists(snapshot):
                os.remove(snapshot)
        return True

    def _prepare(self, folder, key):
        """Check and prepare ``folder`` for a phase keyed ``key`` (rank 0's part).

        Returns:
            dict: ``action`` (``'load'``, ``'resume'`` or ``'train'``), the run's
            ``retraining`` state, and ``error`` (a ResumeError's text, or None).
        """
        try:
            if not self._retraining:
                try:
                    self._check_key(folder, key)
                except ResumeError:
                    if self.resume != 'changed':
                        raise
                    self._retraining = True  # this phase and every later one
        except ResumeError as e:
            return {'action': None, 'retraining': self._retraining, 'error': str(e)}
        if self._retraining:
            self._clear(folder)
        plan = {'retraining': self._retraining, 'error': None}
        done = os.path.join(folder, DONE_FILE)
        snapshot = os.path.join(folder, SNAPSHOT_FILE)
        if os.path.exists(done):
            if os.path.exists(snapshot):  # left by a kill between the two writes
                os.remove(snapshot)
            return dict(plan, action='load')
        os.makedirs(folder, exist_ok=True)
        for stale in glob.glob(os.path.join(folder, 'tmp' + SNAPSHOT_FILE + '*')):
            shutil.rmtree(stale, ignore_errors=True)  # a snapshot write that was killed
        for name in os.listdir(folder):
            if os.path.islink(os.path.join(folder, name)):
                # Never ours: a writer following it would write outside the folder.
                os.unlink(os.path.join(folder, name))
        write_json(os.path.join(folder, KEY_FILE), key)
        return dict(plan, action='resume' if os.path.exists(snapshot) else 'train')

    def _check_key(self, folder, key):
        path = os.path.join(folder, KEY_FILE)
        has_results = any(os.path.exists(os.path.join(folder, name))
                          for name in (DONE_FILE, SNAPSHOT_FILE))
        if not has_results:
            return  # nothing to reuse; the key is (re)written
        if not os.path.exists(path):
            raise ResumeError('%s holds training results without %s (an older chainclust '
                              'wrote them), so what they were trained with is unknown; %s'
                              % (folder, KEY_FILE, FORCE_HINT))
        try:
            with open(path) as f:
                stored = json.load(f)
        except (ValueError, UnicodeDecodeError):
            raise ResumeError('%s is corrupt; %s' % (path, FORCE_HINT))
        if not isinstance(stored, dict) or stored != key:
            stored = stored if isinstance(stored, dict) else {}
            raise ResumeError('%s was trained with %s; %s'
                              % (folder, _describe_difference(stored, key), FORCE_HINT))

    @staticmethod
    def _clear(folder):
        """Remove a phase folder of ours (it holds a key, a snapshot or results)."""
        if any(os.path.exists(os.path.join(folder, name))
               for name in (KEY_FILE, DONE_FILE, SNAPSHOT_FILE)):
            shutil.rmtree(folder)

    def _trainer(self, phase, folder):
        dist = self.distribution
        dist.check_batch_size(phase.batch_size)
        optimizers = {name: dist.optimizer(optimizer)
                      for name, optimizer in phase.setup_optimizers().items()}
        order_state = self.random_state(phase.name + '/order')
        iterator = phase.make_iterator(order_state)  # the same global batches on every rank
        updater = phase.updater(iterator, optimizers if len(optimizers) > 1
                                else optimizers['main'], dist.shard_converter(phase.converter),
                                self.device)
        trainer = training.Trainer(updater, phase.stop_trigger, out=folder)
        if dist.parallel:
            trainer.extend(ObservationMean(dist), name='observation_mean')
        for extension, kwargs in phase.extensions:
            if self.writes or not getattr(extension, 'root_only', False):
                trainer.extend(extension, **kwargs)
        # Rank 0 writes the snapshots: on the other ranks only the shared shuffling
        # stream is restored on resume, their own per-sample streams start afresh.
        states = dict(phase.random_states if self.writes else {}, order=order_state)
        trainer.extend(RandomStateSnapshot(states), name='random_states')
        trainer.extend(NonFiniteGuard(folder, phase.loss), name='non_finite_guard')
        if not self.writes:
            return trainer
        trainer.extend(LogReport(trigger=phase.log_trigger))
        if extensions.PlotReport.available():
            for file_name, keys in phase.plots:
                trainer.extend(PlotReport(
                    list(keys), phase.log_trigger[1], trigger=phase.log_trigger,
                    file_name=file_name))
        # Uncompressed: zlib on the parameters and Adam's moments every epoch
        # would cost about as much as the epoch itself.
        trainer.extend(extensions.snapshot(
            filename=SNAPSHOT_FILE,
            savefun=functools.partial(serializers.save_npz, compression=False)),
            trigger=phase.snapshot_trigger)
        # Added quiet or not (writing to nowhere), so that a snapshot has the
        # same contents whatever the verbosity of the run that resumes it.
        stream = sys.stdout if self.verbose else _Discard()
        trainer.extend(extensions.PrintReport(
            ['epoch', 'iteration'] + phase.report_keys + ['elapsed_time'],
            log_report='LogReport', out=stream), trigger=phase.log_trigger)
        progress = extensions.ProgressBar if self.verbose else _SilentProgressBar
        trainer.extend(progress(training_length=phase.progress_length, update_interval=10),
                       name='ProgressBar')
        return trainer
