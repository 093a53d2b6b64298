"""Data-parallel training with ChainerMN on this machine: samples/s with 1 and 2
processes, the gradient allreduce time per step, and the expected scaling of each
method's default network to 8 GPUs x N nodes with pure_nccl, on paper.

Measured: DEC's autoencoder phase (784-500-500-2000-10 plus mirror, MSE, Adam,
global batch 256, MNIST-10k, ``augment='none'``) trained by ``DEC.fit`` with
``communicator='naive'`` under ``mpiexec -n N``; the speed comes from the phase's
LogReport (epoch 1 untimed, as bench_train_speed.py). Configurations run
interleaved, ``--repeats`` times: 1 process x 2 BLAS threads, 1 process x 1
thread, 2 processes x 1 thread each (the machine has 2 cores). The allreduce
time is the wall time of ``multi_node_mean_grad`` (all parameters) per step on
rank 0.

    python benchmarks/bench_distributed.py [--epochs 4] [--repeats 3]

Needs ``pip install '.[mpi]'``. Writes benchmarks/results/distributed.{json,md}.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import _common  # NOQA: puts the repository on sys.path

CONFIGS = (('1 process x 2 threads', 1, 2), ('1 process x 1 thread', 1, 1),
           ('2 processes x 1 thread', 2, 1))
BATCH = 256

# On paper: NCCL ring allreduce moves 2 (n - 1) / n of the gradient bytes through the
# slowest link of the ring. Assumed bus bandwidths (not measured here): NVLink 4 inside
# an 8 x H100 node, ~360 GB/s reached by NCCL's all_reduce_perf; across nodes one
# 400 Gb/s InfiniBand NDR link per GPU, ~45 GB/s. Plus ~30 us latency per allreduce
# (ChainerMN's pure_nccl packs all gradients into one buffer: one allreduce a step).
INTRA_GBPS, INTER_GBPS, LATENCY_S = 360.0, 45.0, 30e-6


def worker(args):
    """One rank: train, and on rank 0 write the timing JSON to ``args.report``."""
    import chainclust  # NOQA: compat before chainer
    from chainermn.communicators import naive_communicator
    from chainclust import DEC
    from chainclust.datasets import load
    from chainclust.distributed import Distribution

    spent = []
    original = naive_communicator.NaiveCommunicator.multi_node_mean_grad

    def timed(self, model, zero_fill=False):
        start = time.perf_counter()
        original(self, model, zero_fill)
        spent.append(time.perf_counter() - start)
    naive_communicator.NaiveCommunicator.multi_node_mean_grad = timed
    parallel = 'PMI_RANK' in os.environ
    distribution = Distribution('naive') if parallel else Distribution(None)
    with tempfile.TemporaryDirectory() as out:
        folder = os.path.join(out, 'r') if distribution.is_root else None
        folder = distribution.bcast(folder)
        DEC(finetune_epochs=args.epochs, augment='none', n_init=1, max_iter=1,
            random_state=0, out=folder, communicator=distribution).fit(load('mnist'))
        if distribution.is_root:
            with open(os.path.join(folder, 'finetune', 'log')) as f:
                log = json.load(f)
            seconds = (log[-1]['elapsed_time'] - log[0]['elapsed_time']) / (args.epochs - 1)
            steps = -(-10000 // BATCH)
            report = {'samples_per_s': 10000 / seconds,
                      'allreduce_ms': 1e3 * statistics.median(spent) if spent else 0.0,
                      'step_ms': 1e3 * seconds / steps}
            with open(args.report, 'w') as f:
                json.dump(report, f)
        distribution.barrier()  # the folder goes when every rank is done with it


def parameter_counts():
    """Parameters of each method's default network on MNIST (28 x 28), built as the
    estimators build them."""
    import numpy
    import chainclust  # NOQA
    from chainclust import DEC, GMVAE, IIC, VQAE, Autoencoder
    counts = {}
    for name, model in (('DEC', DEC()), ('VQ-AE', VQAE()),
                        ('GMVAE (conv, K=16)', GMVAE(architecture='conv', n_clusters=16)),
                        ('IIC (5 sub-heads)', IIC()), ('autoencoder (deep)', Autoencoder())):
        model.input_shape_ = (28, 28)
        model.likelihood_ = 'bernoulli'  # set by GMVAE.fit from the data
        net = model._build_net(numpy.random.RandomState(0))
        counts[name] = int(sum(p.size for p in net.params()))
    return counts


def allreduce_seconds(n_params, gpus_per_node, nodes):
    """Ring allreduce time of ``n_params`` float32 gradients (on paper)."""
    n = gpus_per_node * nodes
    if n == 1:
        return 0.0
    bandwidth = (INTRA_GBPS if nodes == 1 else INTER_GBPS) * 1e9
    return 2.0 * (n - 1) / n * 4 * n_params / bandwidth + LATENCY_S


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--epochs', type=int, default=4)
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--worker', action='store_true', help=argparse.SUPPRESS)
    parser.add_argument('--report', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args)
    mpiexec = os.path.join(os.path.dirname(sys.executable), 'mpiexec')
    runs = {label: [] for label, _, _ in CONFIGS}
    for repeat in range(args.repeats):
        for label, processes, threads in CONFIGS[repeat % 3:] + CONFIGS[:repeat % 3]:
            with tempfile.NamedTemporaryFile(suffix='.json') as report:
                command = [sys.executable, os.path.abspath(__file__), '--worker',
                           '--epochs', str(args.epochs), '--report', report.name]
                if processes > 1:
                    command = [mpiexec, '-n', str(processes)] + command
                env = dict(os.environ, OMP_NUM_THREADS=str(threads),
                           OPENBLAS_NUM_THREADS=str(threads))
                subprocess.run(command, check=True, env=env)
                with open(report.name) as f:
                    result = json.load(f)
            runs[label].append(result)
            print('repeat %d %-24s %6.0f samples/s, allreduce %.2f ms of a %.1f ms step'
                  % (repeat, label, result['samples_per_s'], result['allreduce_ms'],
                     result['step_ms']), flush=True)
    summary = {label: {key: statistics.median(r[key] for r in results)
                       for key in ('samples_per_s', 'allreduce_ms', 'step_ms')}
               for label, results in runs.items()}
    base = summary[CONFIGS[0][0]]['samples_per_s']
    counts = parameter_counts()
    lines = ['# Data-parallel training (ChainerMN, naive communicator) on %s'
             % _common.machine()['cpu'], '',
             'DEC autoencoder phase, global batch %d, median of %d interleaved repeats of %d '
             'epochs (first untimed).' % (BATCH, args.repeats, args.epochs), '',
             '| configuration | samples/s | vs 1 x 2 threads | allreduce ms/step | step ms |',
             '|---|---|---|---|---|']
    for label, row in summary.items():
        lines.append('| %s | %.0f | %.2fx | %.2f | %.1f |' % (
            label, row['samples_per_s'], row['samples_per_s'] / base, row['allreduce_ms'],
            row['step_ms']))
    lines += ['', '## Expected allreduce per step with pure_nccl, on paper', '',
              'Ring allreduce of the float32 gradients: 2 (n-1)/n x bytes / bus bandwidth '
              '+ %d us; assumed %d GB/s inside a node (NVLink), %d GB/s across nodes '
              '(one 400 Gb/s NDR link per GPU). Not measured (no GPU machine).'
              % (LATENCY_S * 1e6, INTRA_GBPS, INTER_GBPS), '',
              '| network | parameters | MB | 8 GPUs (1 node) ms | 8 x 2 nodes ms | '
              '8 x 8 nodes ms |', '|---|---|---|---|---|---|']
    for name, n_params in counts.items():
        lines.append('| %s | %d | %.1f | %.3f | %.3f | %.3f |' % (
            name, n_params, 4 * n_params / 1e6, 1e3 * allreduce_seconds(n_params, 8, 1),
            1e3 * allreduce_seconds(n_params, 8, 2), 1e3 * allreduce_seconds(n_params, 8, 8)))
    lines.append('')
    _common.write_results('distributed', {'machine': _common.machine(), 'epochs': args.epochs,
                                          'repeats': args.repeats, 'runs': runs,
                                          'summary': summary, 'parameters': counts,
                                          'assumptions': {'intra_GBps': INTRA_GBPS,
                                                          'inter_GBps': INTER_GBPS,
                                                          'latency_s': LATENCY_S}},
                          '\n'.join(lines) + '\n')


if __name__ == '__main__':
    main()
