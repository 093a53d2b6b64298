"""Data-parallel training on several processes with ChainerMN (``mpiexec -n N``).

Every rank builds the same network from the same seed and draws the same
global batches from the same shuffling stream; each rank takes its own
``1/N`` slice of every global batch (:meth:`Distribution.shard_converter`),
and ChainerMN's multi-node optimizer averages the gradients before every
update. For a loss that is a mean over the batch and a network without batch
normalisation, a step on N ranks is therefore the step one process takes on
the whole global batch: the parameters agree with a one-process run up to
float rounding. (Batch normalisation normalises each rank's slice by its own
statistics; augmentation and dropout draws come from the rank's own slice of
the stream; both train as well, just not bit for bit as one process.)

What is computed over the whole dataset (DEC's target distribution, metrics,
predictions) is computed on each rank's contiguous share of the samples and
gathered; what is done once (k-means, codebook initialisation) runs on rank 0
and is broadcast. Rank 0 alone writes logs, plots, snapshots and the model;
the result folder must be one that every rank sees (a shared filesystem), as
for any ChainerMN snapshot. A rank that fails aborts the whole job (in MPI a
rank cannot leave a collective operation on its own).
"""
import contextlib
import sys
import traceback

import chainer
from chainer.training import extension
import numpy

from chainclust.errors import ChainclustError

COMMUNICATORS = ('naive', 'flat', 'pure_nccl')
GPU_ONLY = ('flat', 'pure_nccl')
INSTALL_HINT = ("pip install 'chainclust[mpi]' (mpi4py and MPICH), then start the "
                'processes with mpiexec -n N chainclust train ...')


class DistributedError(ChainclustError):
    """A communicator cannot be created, or does not fit the other settings."""


class Distribution(object):
    """The processes one training runs on: one (``communicator=None``) or N ranks.

    Args:
        communicator: ``None``, a ChainerMN communicator, or the name of one
            (:data:`COMMUNICATORS`) to create on ``MPI.COMM_WORLD``.
    """

    def __init__(self, communicator=None):
        if isinstance(communicator, str):
            communicator = create_communicator(communicator)
        self.comm = communicator
        self.rank = 0 if communicator is None else int(communicator.rank)
        self.size = 1 if communicator is None else int(communicator.size)
        self.intra_rank = 0 if communicator is None else int(communicator.intra_rank)

    @property
    def is_root(self):
        """True on the rank that writes files (rank 0)."""
        return self.rank == 0

    @property
    def parallel(self):
        return self.size > 1

    def __repr__(self):
        return 'Distribution(rank=%d, size=%d)' % (self.rank, self.size)

    def __copy__(self):
        return self  # one set of processes: scikit-learn's clone must not copy MPI handles

    def __deepcopy__(self, memo):
        return self

    # -- batches and shares ---------------------------------------------------------
    def check_batch_size(self, batch_size):
        """Raise DistributedError unless each rank gets an equal slice of every global batch."""
        if batch_size % self.size:
            raise DistributedError('batch_size=%d must be a multiple of the %d processes '
                                   '(each takes an equal slice of every batch)'
                                   % (batch_size, self.size))

    def batch_slice(self, n):
        """This rank's slice of a global batch of ``n`` examples."""
        per_rank = n // self.size
        return slice(self.rank * per_rank, (self.rank + 1) * per_rank)

    def shard_converter(self, converter):
        """``converter`` applied to this rank's slice of each global batch."""
        if not self.parallel:
            return converter

        def convert(batch, device=None):
            if len(batch) % self.size:
                raise DistributedError('a batch of %d examples cannot be split evenly over '
                                       '%d processes' % (len(batch), self.size))
            return converter(batch[self.batch_slice(len(batch))], device)
        return convert

    def share(self, n):
        """This rank's contiguous share ``slice`` of ``n`` samples (sizes differ by <= 1)."""
        bounds = numpy.linspace(0, n, self.size + 1).round().astype(int)
        return slice(int(bounds[self.rank]), int(bounds[self.rank + 1]))

    # -- collectives (identity on one process) -----------------------------------------
    def allreduce_sum(self, array):
        """The element-wise sum of ``array`` over the ranks (float64 NumPy)."""
        array = numpy.asarray(array, dtype=numpy.float64)
        if not self.parallel:
            return array
        return numpy.asarray(self.comm.mpi_comm.allreduce(array))

    def allgather_rows(self, array):
        """Every rank's ``array`` ``(n_r, ...)`` stacked in rank order ``(sum n_r, ...)``."""
        if not self.parallel:
            return array
        return numpy.concatenate(self.comm.mpi_comm.allgather(numpy.ascontiguousarray(array)))

    def bcast(self, value):
        """Rank 0's ``value`` (any picklable object of ours, never user data)."""
        if not self.parallel:
            return value
        return self.comm.mpi_comm.bcast(value, root=0)

    def barrier(self):
        if self.parallel:
            self.comm.mpi_comm.Barrier()

    def map_rows(self, fn, x):
        """``fn`` over all rows of ``x``, each rank doing its share, results gathered."""
        if not self.parallel:
            return fn(x)
        return self.allgather_rows(fn(x[self.share(len(x))]))

    def root_computes(self, fn):
        """``fn()`` run on rank 0 alone and its result broadcast to every rank."""
        return self.bcast(fn() if self.is_root else None)

    def optimizer(self, optimizer):
        """``optimizer`` stepping on the gradients averaged over the ranks (itself on one
        process); its target's parameters are made rank 0's first."""
        if not self.parallel:
            return optimizer
        return MultiNodeOptimizer(optimizer, self.comm)

    def average_persistents(self, link):
        """Replace every float persistent array of ``link`` (batch normalisation's running
        mean and variance) by its mean over the ranks, so that every rank predicts alike."""
        if not self.parallel:
            return
        for sub in link.links():
            for name in sorted(sub._persistent):
                value = getattr(sub, name)
                if getattr(value, 'dtype', None) is None or value.dtype.kind != 'f':
                    continue
                host = chainer.backend.CpuDevice().send(value)
                mean = (self.allreduce_sum(host) / self.size).astype(value.dtype)
                value[...] = chainer.backend.get_device_from_array(value).send(mean)

    @contextlib.contextmanager
    def abort_on_error(self):
        """On N ranks, an error on one rank prints its message and aborts the job
        instead of leaving the other ranks waiting in a collective forever."""
        try:
            yield
        except BaseException as error:
            if not self.parallel:
                raise
            traceback.print_exc()
            sys.stderr.write('chainclust: rank %d of %d failed: %s: %s; aborting every rank\n'
                             % (self.rank, self.size, type(error).__name__, error))
            sys.stderr.flush()
            self.comm.mpi_comm.Abort(1)
            raise  # pragma: no cover - Abort ends the process


SINGLE = Distribution(None)


class MultiNodeOptimizer(object):
    """An optimizer that averages the gradients over the ranks before each update.

    ChainerMN's ``create_multi_node_optimizer`` broadcasts rank 0's parameters at
    its first ``update`` *instead of* updating, so N ranks would take one step
    fewer than one process over the same batches; this one broadcasts when it is
    created and updates at every call, so that N ranks step as one process does.
    Everything else (hyper-parameters, state, serialisation) is the wrapped
    optimizer's, so snapshots are interchangeable with one-process runs.

    Args:
        actual_optimizer (chainer.Optimizer): set up on its target already.
        communicator: a ChainerMN communicator.
    """

    def __init__(self, actual_optimizer, communicator):
        object.__setattr__(self, 'actual_optimizer', actual_optimizer)
        object.__setattr__(self, 'communicator', communicator)
        communicator.bcast_data(actual_optimizer.target)

    def update(self, lossfun=None, *args, **kwds):
        target = self.actual_optimizer.target
        if lossfun is not None:
            loss = lossfun(*args, **kwds)
            target.cleargrads()
            loss.backward(loss_scale=self.actual_optimizer._loss_scale)
            del loss
        # The ranks run the same code on batches of the same shape, so the same
        # parameters have gradients on every rank (a None gradient stays None).
        self.communicator.multi_node_mean_grad(target)
        self.actual_optimizer.update(None, *args, **kwds)

    def __getattr__(self, name):
        return getattr(self.actual_optimizer, name)

    def __setattr__(self, name, value):
        setattr(self.actual_optimizer, name, value)


def create_communicator(name):
    """A ChainerMN communicator ``name`` on ``MPI.COMM_WORLD``, or a clear error."""
    if name not in COMMUNICATORS:
        raise DistributedError('communicator must be one of %s, got %r'
                               % (', '.join(COMMUNICATORS), name))
    try:
        from mpi4py import MPI  # NOQA: F401 - initialises MPI, fails without an MPI library
        import chainermn
    except (ImportError, RuntimeError) as e:
        raise DistributedError('--communicator %s needs MPI, which is not installed (%s): %s'
                               % (name, e, INSTALL_HINT))
    try:
        return chainermn.create_communicator(name)
    except Exception as e:  # ChainerMN raises plain exceptions (e.g. no NCCL)
        raise DistributedError('cannot create the %r communicator: %s: %s'
                               % (name, type(e).__name__, e))


def distribution_for(communicator, device_spec):
    """The :class:`Distribution` of an estimator's ``communicator`` and its device spec.

    Raises:
        DistributedError: a GPU-only communicator with a CPU device.
    """
    if communicator is None:
        return SINGLE
    if isinstance(communicator, Distribution):
        return communicator
    name = communicator if isinstance(communicator, str) else None
    if name is None and not all(hasattr(communicator, a) for a in ('rank', 'size', 'mpi_comm')):
        raise DistributedError('communicator must be None, one of %s or a ChainerMN '
                               'communicator, got %r' % (', '.join(COMMUNICATORS), communicator))
    if name is not None and name not in COMMUNICATORS:
        raise DistributedError('communicator must be one of %s, got %r'
                               % (', '.join(COMMUNICATORS), name))
    if name in GPU_ONLY and not str(device_spec).startswith('@cupy'):
        raise DistributedError("communicator %r needs a GPU device (--device @cupy:0); on the "
                               "CPU use 'naive'" % name)
    return Distribution(communicator)


def rank_device(device_spec, distribution):
    """The device spec of this rank: GPU ``N + intra_rank`` for ``@cupy:N``."""
    spec = str(device_spec)
    if distribution.parallel and spec.startswith('@cupy:'):
        return '@cupy:%d' % (int(spec.split(':')[1]) + distribution.intra_rank)
    return device_spec



class ObservationMean(extension.Extension):
    """A Trainer extension: each reported scalar becomes its mean over the ranks.

    Runs after the update and before every other extension, so the loss that
    LogReport logs, PlotReport plots and the divergence guard checks is that of
    the whole global batch, not of rank 0's slice. Every rank runs it (it is a
    collective operation); the ranks report the same keys (they run the same code).
    """

    trigger = staticmethod(lambda trainer: True)  # a function: nothing to snapshot
    priority = extension.PRIORITY_WRITER + 100  # before NonFiniteGuard and the writers

    def __init__(self, distribution):
        self.distribution = distribution

    def __call__(self, trainer):
        observation = trainer.observation
        keys, values = [], []
        for key in sorted(observation):
            value = observation[key]
            value = value.array if isinstance(value, chainer.Variable) else value
            if getattr(value, 'size', 1) != 1:
                continue
            keys.append(key)
            values.append(float(chainer.backend.CpuDevice().send(value)))
        if keys:
            means = self.distribution.allreduce_sum(values) / self.distribution.size
            for key, mean in zip(keys, means):
                observation[key] = float(mean)
