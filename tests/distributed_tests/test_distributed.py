"""Data-parallel training under mpiexec: the ranks agree with each other and with one
process on the same global batches, and a failing rank ends the job instead of hanging."""
import json
import os
import subprocess
import sys

import numpy
import pytest

from chainclust.distributed import Distribution, distribution_for, DistributedError
from chainclust.distributed import create_communicator, rank_device, SINGLE

WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'mpi_worker.py')
TIMEOUT = 240  # seconds; a hang fails the test instead of the suite


def _mpiexec():
    beside = os.path.join(os.path.dirname(sys.executable), 'mpiexec')
    if os.path.exists(beside):
        return beside
    pytest.fail("mpiexec not found: the tests need the mpi extra (pip install '.[mpi]')")


def _worker(out, method, processes, *extra):
    command = [sys.executable, WORKER, method, str(out)] + list(extra)
    if processes > 1:
        command = [_mpiexec(), '-n', str(processes)] + command
    env = dict(os.environ, OMP_NUM_THREADS='1')
    return subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, env=env)


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    """``trained(method)`` -> ``(one process's arrays, [rank 0's, rank 1's], result folders)``,
    each method trained once per module."""
    cache = {}

    def train(method):
        if method not in cache:
            results, folders = [], []
            for processes in (1, 2):
                out = tmp_path_factory.mktemp('%s-%d' % (method, processes))
                done = _worker(out, method, processes)
                assert done.returncode == 0, done.stderr[-3000:]
                results.append([dict(numpy.load(os.path.join(str(out), 'rank%d.npz' % r)))
                                for r in range(processes)])
                folders.append(os.path.join(str(out), 'result'))
            cache[method] = results[0][0], results[1], folders
        return cache[method]
    return train


@pytest.mark.parametrize('method', ['dec', 'vqae', 'autoencoder'])
def test_every_rank_ends_with_the_same_parameters(trained, method):
    """Parameters, batch normalisation's running statistics (averaged after each phase)
    and the labels gathered from the ranks' shares."""
    _, (rank0, rank1), _ = trained(method)
    assert sorted(rank0) == sorted(rank1)
    if method == 'autoencoder':
        assert any(name.endswith('avg_mean') for name in rank0)
    for name in rank0:
        numpy.testing.assert_array_equal(rank0[name], rank1[name], err_msg=name)


@pytest.mark.parametrize('method', ['dec', 'vqae'])  # no batch norm, no random draws
def test_two_ranks_train_as_one_process_on_the_same_global_batches(trained, method):
    single, (rank0, _), _ = trained(method)
    assert sorted(single) == sorted(rank0)
    for name in single:
        if name == 'labels':
            numpy.testing.assert_array_equal(single[name], rank0[name])
        else:  # two half-batch means averaged vs one mean: rounding only
            numpy.testing.assert_allclose(rank0[name], single[name], rtol=1e-4, atol=1e-6,
                                          err_msg='%s %s' % (method, name))
    assert len(numpy.unique(single['labels'])) > 1  # it trained to something


@pytest.mark.parametrize('method', ['dec', 'vqae'])
def test_the_log_holds_the_loss_of_the_whole_global_batch(trained, method):
    """Rank 0 writes the log; its loss is the mean over the ranks, i.e. one process's."""
    _, _, (single, parallel) = trained(method)
    phase = 'finetune' if method == 'dec' else 'train'
    logs = []
    for folder in (single, parallel):
        assert os.path.exists(os.path.join(folder, 'model.json'))
        with open(os.path.join(folder, phase, 'log')) as f:
            logs.append(json.load(f))
    assert len(logs[0]) == len(logs[1]) > 0
    for one, two in zip(*logs):
        assert one['iteration'] == two['iteration']
        assert two['main/loss'] == pytest.approx(one['main/loss'], rel=1e-4)


@pytest.mark.parametrize('hard', [False, True], ids=['exception', 'killed'])
def test_a_failing_rank_ends_every_rank_with_an_error(tmp_path, hard):
    done = _worker(tmp_path, 'dec', 2, '--fail-at', '3', *(['--hard'] if hard else []))
    assert done.returncode != 0
    assert not os.path.exists(os.path.join(str(tmp_path), 'rank0.npz'))  # rank 0 stopped too
    if not hard:
        assert ('rank 1 of 2 failed: RuntimeError: injected failure at iteration 3; '
                'aborting every rank') in done.stderr


# -- without MPI: the pieces and the errors ---------------------------------------------
class _FakeComm(object):
    def __init__(self, rank, size):
        self.rank, self.size, self.intra_rank, self.mpi_comm = rank, size, rank, None


def test_single_process_collectives_are_identities():
    x = numpy.arange(12.).reshape(6, 2)
    assert not SINGLE.parallel and SINGLE.is_root
    numpy.testing.assert_array_equal(SINGLE.allgather_rows(x), x)
    numpy.testing.assert_array_equal(SINGLE.allreduce_sum(x), x)
    assert SINGLE.map_rows(lambda a: a * 2, x).tolist() == (x * 2).tolist()
    assert SINGLE.root_computes(lambda: 'once') == 'once'
    assert SINGLE.shard_converter(len) is len


def test_shares_and_batch_slices_cover_everything_once():
    ranks = [Distribution(_FakeComm(r, 3)) for r in range(3)]
    shares = [numpy.arange(10)[d.share(10)] for d in ranks]
    assert numpy.concatenate(shares).tolist() == list(range(10))
    assert [len(s) for s in shares] == [3, 4, 3]
    batch = list(range(12))
    slices = [d.shard_converter(lambda b, device=None: b)(batch) for d in ranks]
    assert slices == [batch[0:4], batch[4:8], batch[8:12]]
    with pytest.raises(DistributedError, match='batch_size=100 must be a multiple of the 3'):
        ranks[0].check_batch_size(100)


def test_settings_that_cannot_work_say_why():
    with pytest.raises(DistributedError, match="'flat' needs a GPU device"):
        distribution_for('flat', '@numpy')
    with pytest.raises(DistributedError, match="one of naive, flat, pure_nccl, got 'mpi'"):
        distribution_for('mpi', '@numpy')
    with pytest.raises(DistributedError, match='or a ChainerMN communicator, got 3'):
        distribution_for(3, '@numpy')
    assert distribution_for(None, '@numpy') is SINGLE


def test_without_mpi_the_error_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, 'mpi4py', None)  # import mpi4py now fails
    with pytest.raises(DistributedError, match=r"needs MPI.*pip install 'chainclust\[mpi\]'"):
        create_communicator('naive')


def test_each_rank_takes_its_own_gpu():
    assert rank_device('@cupy:0', Distribution(_FakeComm(1, 2))) == '@cupy:1'
    assert rank_device('@numpy', Distribution(_FakeComm(1, 2))) == '@numpy'
    assert rank_device('@cupy:0', SINGLE) == '@cupy:0'


def test_cli_refuses_a_gpu_communicator_on_the_cpu(tmp_path):
    from click.testing import CliRunner
    from chainclust.cli import main
    result = CliRunner().invoke(main, ['train', 'dec', '--data', 'digits', '--communicator',
                                       'pure_nccl', '--out', str(tmp_path / 'r')])
    assert result.exit_code == 1
    assert "communicator 'pure_nccl' needs a GPU device" in result.output
    assert 'Traceback' not in result.output


def test_an_interrupted_run_resumes_on_every_rank(trained, tmp_path):
    """Rank 1 fails at iteration 20 of the 24 of DEC's finetune phase; the job ends; the
    same command again resumes every rank from rank 0's snapshot (iteration 16) and ends
    as the uninterrupted two-process run."""
    failed = _worker(tmp_path, 'dec', 2, '--fail-at', '20')
    assert failed.returncode != 0
    finetune = os.path.join(str(tmp_path), 'result', 'finetune')
    assert os.path.exists(os.path.join(finetune, 'snapshot'))
    assert not os.path.exists(os.path.join(finetune, 'done.npz'))
    resumed = _worker(tmp_path, 'dec', 2)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    _, (uninterrupted, _), _ = trained('dec')
    for r in (0, 1):
        arrays = dict(numpy.load(os.path.join(str(tmp_path), 'rank%d.npz' % r)))
        for name in uninterrupted:
            numpy.testing.assert_allclose(arrays[name], uninterrupted[name], rtol=1e-6,
                                          atol=1e-7, err_msg='rank %d %s' % (r, name))
