"""Training speed: chainclust's training phase against a bare Chainer loop and
PyTorch, the same network, batch, optimizer and threads, interleaved in one run.

Workloads (MNIST-10k, float32):

* ``dec``: DEC's autoencoder 784-500-500-2000-10 plus its mirror, MSE, Adam
  lr 1e-3, batch 256, every sample each epoch (DEC's ``finetune`` phase,
  ``augment='none'``).
* ``vqae``: VQ-AE's default network 784-512-256-64 plus mirror and 10 codes,
  the study's loss (MSE of the decoded embedding + quantizing error into the
  codebook, and the reported MSE of the decoded codes), Adam lr 1e-3, full
  batches of 1024 (VQ-AE's ``train`` phase, logging every step as it does).
* ``iic``: IIC's conv network (3x3 convs 32-64-128-256 with batch norm, max
  pooling, global average pooling; 5 clustering sub-heads 256-128-64-10 and 5
  overclustering sub-heads 256-128-64-50), IIC's loss on each sub-head, Adam
  lr 1e-4, batches of 100 images plus their copy, on the first ``--iic-samples``
  images; ``augment='none'`` in all three (the copy is the image itself), so
  that the network and the loss are compared, not the augmentation code.

Runners:

* ``chainclust``: the estimator itself (``DEC(...).fit`` / ``VQAE(...).fit``)
  with its Trainer, extensions, snapshots and monitors; the phase's speed is
  read from its LogReport (``elapsed_time`` between the end of epoch 1 and
  the last epoch), so k-means and the other phases are not counted.
* ``chainer``: the same Chainer model and loss in a plain loop (permutation,
  slicing, ``optimizer.update``) with Chainer's own Adam, no Trainer.
* ``torch``: the same architecture and loss in PyTorch (``torch.optim.Adam``,
  default implementation), ``torch.set_num_threads(threads)``.

Each runner trains ``--epochs`` epochs (the first one is a warm-up and is not
timed); the runners alternate, in a rotated order, ``--repeats`` times, each
run in a fresh Python process on the same threads (``--in-process``: all in
this one, where each inherits the heap the runs before it left); the table gives the median samples/s and each runner's ratio to
PyTorch.
PyTorch lives only in the benchmark's environment, never in the package's::

    bash benchmarks/speed_env.sh    # makes .venv-speed
    .venv-speed/bin/python benchmarks/bench_train_speed.py [--repeats 3] [--epochs 4]

Writes benchmarks/results/train_speed.{json,md}.
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
import chainclust  # NOQA: compat before chainer
import chainer
import numpy

from chainclust import DEC, IIC, VQAE
from chainclust.datasets import load
from chainclust.models.autoencoder import MLPAutoencoder, ReconstructionLoss
from chainclust.models.iic import IICLoss, IICNet
from chainclust.models.vqae import VQAELoss, VQAENet
from chainclust.training.transforms import make_transform

WORKLOADS = {
    'dec': {'batch_size': 256, 'drop_last': False, 'phase': 'finetune'},
    'vqae': {'batch_size': 1024, 'drop_last': True, 'phase': 'train'},
    'iic': {'batch_size': 100, 'drop_last': True, 'phase': 'train'},
}
RUNNERS = ('chainclust', 'chainer', 'torch')
LR = 1e-3


def samples_per_epoch(workload, n):
    spec = WORKLOADS[workload]
    return (n // spec['batch_size']) * spec['batch_size'] if spec['drop_last'] else n


# -- chainclust: the estimator, timed from its own log ------------------------
def run_chainclust(workload, x, epochs, seed):
    with tempfile.TemporaryDirectory() as out:
        if workload == 'iic':
            IIC(augment='none', epochs=epochs, random_state=seed, out=out).fit(x)
        elif workload == 'dec':
            DEC(finetune_epochs=epochs, augment='none', n_init=1, max_iter=1,
                random_state=seed, out=out).fit(x)
        else:
            VQAE(pretrain_epochs=0, epochs=epochs, monitor_interval=10 ** 6,
                 random_state=seed, out=out).fit(x)
        with open(os.path.join(out, WORKLOADS[workload]['phase'], 'log')) as f:
            log = json.load(f)
    per_epoch = len(log) // epochs  # log entries per epoch (1, or one per iteration)
    first, last = log[per_epoch - 1], log[-1]
    return (last['elapsed_time'] - first['elapsed_time']) / (epochs - 1)


# -- a bare Chainer loop ---------------------------------------------------------
def chainer_model(workload, rng):
    if workload == 'iic':
        return IICLoss(IICNet((28, 28), 10, 5, 5, rng=rng), make_transform(()), rng)
    if workload == 'dec':
        ae = MLPAutoencoder((784, 500, 500, 2000, 10),
                            initialW=chainer.initializers.LeCunNormal(rng=rng))
        return ReconstructionLoss(ae)
    return VQAELoss(VQAENet((784,), (512, 256), 64, 10, rng=rng))


def run_chainer(workload, x, epochs, seed):
    rng = numpy.random.RandomState(seed)
    loss = chainer_model(workload, rng)
    if workload == 'vqae':
        loss.net.codebook.set_codes(x[:10] @ rng.normal(size=(784, 64)).astype(numpy.float32))
    optimizer = chainer.optimizers.Adam(alpha=LR if workload != 'iic' else 1e-4)
    optimizer.setup(loss)
    batch = WORKLOADS[workload]['batch_size']
    used = samples_per_epoch(workload, len(x))
    for epoch in range(epochs):
        if epoch == 1:
            start = time.perf_counter()
        order = rng.permutation(len(x))[:used]
        for i in range(0, used, batch):
            xb = x[order[i:i + batch]]
            optimizer.update(loss, xb.reshape(-1, 1, 28, 28) if workload == 'iic' else xb)
    return (time.perf_counter() - start) / (epochs - 1)


# -- PyTorch ---------------------------------------------------------------------
def torch_mlp(sizes, nn):
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def torch_iic(nn, torch):
    """IIC's network and loss in PyTorch (train-mode batch norm, as chainclust's)."""
    layers, channels = [], (1, 32, 64, 128, 256)
    for i, (a, b) in enumerate(zip(channels, channels[1:])):
        layers += [nn.Conv2d(a, b, 3, padding=1), nn.BatchNorm2d(b), nn.ReLU()]
        if i < 3:
            layers.append(nn.MaxPool2d(2))
    trunk = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
    heads = nn.ModuleList([torch_mlp((256, 128, 64, k), nn) for k in [10] * 5 + [50] * 5])

    def mi_loss(z, zp, alpha=1.0, eps=1e-8):
        p = z.t() @ zp
        p = (p + p.t()) / 2
        p = p / p.sum()
        p = torch.where(p > eps, p, torch.full_like(p, eps))
        p = p / p.sum()
        pi, pj = p.sum(1, keepdim=True), p.sum(0, keepdim=True)
        return (p * (alpha * torch.log(pi) + alpha * torch.log(pj) - torch.log(p))).sum()

    def loss(xb):
        n = len(xb)
        h = trunk(torch.cat([xb, xb]))
        losses = []
        for head in heads:
            out = torch.softmax(head(h), 1)
            losses.append(mi_loss(out[:n], out[n:]))
        return (sum(losses[:5]) / 5 + sum(losses[5:]) / 5) / 2
    return nn.ModuleList([trunk, heads]), loss


def run_torch(workload, x, epochs, seed, threads):
    import torch
    from torch import nn
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    if workload == 'iic':
        return run_torch_iic(x, epochs, seed, torch, nn)
    sizes = (784, 500, 500, 2000, 10) if workload == 'dec' else (784, 512, 256, 64)
    encoder, decoder = torch_mlp(sizes, nn), torch_mlp(sizes[::-1], nn)
    params = list(encoder.parameters()) + list(decoder.parameters())
    codebook = None
    if workload == 'vqae':
        codebook = nn.Parameter(torch.randn(10, 64))
        params.append(codebook)
    optimizer = torch.optim.Adam(params, lr=LR)
    data = torch.from_numpy(x)
    batch = WORKLOADS[workload]['batch_size']
    used = samples_per_epoch(workload, len(x))
    generator = torch.Generator().manual_seed(seed)
    mse = nn.functional.mse_loss

    def step(xb):
        optimizer.zero_grad(set_to_none=True)
        e = encoder(xb)
        loss = mse(decoder(e), xb)
        if codebook is not None:
            ed = e.detach()
            index = torch.cdist(ed, codebook.detach()).argmin(1)
            q = codebook[index]
            loss = loss + (ed - q).norm(dim=1).mean()  # the quantizing error
            with torch.no_grad():
                mse(decoder(q), xb)  # reported by chainclust's loss
        loss.backward()
        optimizer.step()

    for epoch in range(epochs):
        if epoch == 1:
            start = time.perf_counter()
        order = torch.randperm(len(x), generator=generator)[:used]
        for i in range(0, used, batch):
            step(data[order[i:i + batch]])
    return (time.perf_counter() - start) / (epochs - 1)


def run_torch_iic(x, epochs, seed, torch, nn):
    model, loss = torch_iic(nn, torch)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    data = torch.from_numpy(x.reshape(-1, 1, 28, 28))
    batch = WORKLOADS['iic']['batch_size']
    used = samples_per_epoch('iic', len(x))
    generator = torch.Generator().manual_seed(seed)
    for epoch in range(epochs):
        if epoch == 1:
            start = time.perf_counter()
        order = torch.randperm(len(x), generator=generator)[:used]
        for i in range(0, used, batch):
            optimizer.zero_grad(set_to_none=True)
            loss(data[order[i:i + batch]]).backward()
            optimizer.step()
    return (time.perf_counter() - start) / (epochs - 1)


def run_one(runner, workload, n, epochs, seed, threads, x, raw):
    """Seconds per timed epoch of one runner, in this process."""
    if runner == 'chainclust':
        return run_chainclust(workload, raw[:n], epochs, seed)
    if runner == 'chainer':
        return run_chainer(workload, x[:n], epochs, seed)
    return run_torch(workload, x[:n], epochs, seed, threads)


def run_isolated(runner, workload, n, epochs, seed, threads):
    """:func:`run_one` in a fresh Python process (the same threads), its seconds read back.

    In one process the runners share one heap, and a run's page faults depend
    on what ran before it: the bare VQ-AE loop (with glibc's default malloc
    thresholds) took 3 minor page faults in 4 epochs before a PyTorch run and
    148,611 after it (21,086 and 18,433 samples/s); in another try 217,731
    before and 2 after. A process per run compares the runners on equal terms.
    """
    command = [sys.executable, os.path.abspath(__file__), '--worker', runner, workload,
               str(n), str(epochs), str(seed), str(threads)]
    done = subprocess.run(command, stdout=subprocess.PIPE, check=True,
                          universal_newlines=True)
    return float(done.stdout.strip().splitlines()[-1])


def worker(argv):
    runner, workload, n, epochs, seed, threads = argv
    if runner == 'torch':
        import torch  # NOQA: imported only where it runs
    x = load('mnist').x.reshape(10000, -1).astype(numpy.float32) / 255.0
    seconds = run_one(runner, workload, int(n), int(epochs), int(seed), int(threads), x,
                      load('mnist').x)
    print(repr(seconds))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--workloads', nargs='+', default=list(WORKLOADS), choices=WORKLOADS)
    parser.add_argument('--epochs', type=int, default=4, help='per run, the first untimed')
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--iic-samples', type=int, default=2000,
                        help='images of the iic workload (its epochs are slow on a CPU)')
    parser.add_argument('--name', default='train_speed')
    parser.add_argument('--in-process', action='store_true',
                        help='run every runner in this process (the default: a fresh '
                             'process per run)')
    args = parser.parse_args()
    if args.epochs < 2:
        parser.error('--epochs must be >= 2 (the first epoch is not timed)')
    import torch
    x = load('mnist').x.reshape(10000, -1).astype(numpy.float32) / 255.0
    raw = load('mnist').x
    runs = {w: {r: [] for r in RUNNERS} for w in args.workloads}
    for repeat in range(args.repeats):
        for workload in args.workloads:
            n = args.iic_samples if workload == 'iic' else len(x)
            order = RUNNERS[repeat % 3:] + RUNNERS[:repeat % 3]
            for runner in order:
                if args.in_process:
                    seconds = run_one(runner, workload, n, args.epochs, repeat, args.threads,
                                      x, raw)
                else:
                    seconds = run_isolated(runner, workload, n, args.epochs, repeat,
                                           args.threads)
                rate = samples_per_epoch(workload, n) / seconds
                runs[workload][runner].append(rate)
                print('repeat %d %-5s %-10s %8.0f samples/s' % (repeat, workload, runner, rate),
                      flush=True)
    summary = {}
    for workload, by_runner in runs.items():
        medians = {r: statistics.median(v) for r, v in by_runner.items()}
        summary[workload] = {r: {'samples_per_s': medians[r], 'all': by_runner[r],
                                 'ratio_to_torch': medians[r] / medians['torch']}
                             for r in RUNNERS}
    info = dict(_common.machine(), torch=torch.__version__, threads=args.threads,
                isolated=not args.in_process,
                iic_samples=args.iic_samples,
                epochs=args.epochs, repeats=args.repeats)
    lines = ['# Training speed on %s (%d threads)' % (info['cpu'], args.threads), '',
             'Median samples/s over %d interleaved repeats of %d epochs (first untimed), '
             '%s; ratio to PyTorch %s in brackets.'
             % (args.repeats, args.epochs, 'all in one process' if args.in_process
                else 'each run in a fresh process', torch.__version__), '',
             '| workload | chainclust | bare Chainer loop | PyTorch |',
             '|---|---|---|---|']
    for workload, row in summary.items():
        cells = ['%.0f (%.2fx)' % (row[r]['samples_per_s'], row[r]['ratio_to_torch'])
                 for r in RUNNERS]
        lines.append('| %s | %s |' % (workload, ' | '.join(cells)))
    lines.append('')
    _common.write_results(args.name, {'machine': info, 'results': summary},
                          '\n'.join(lines) + '\n')


if __name__ == '__main__':
    if len(sys.argv) > 1 and sys.argv[1] == '--worker':
        worker(sys.argv[2:])
    else:
        main()
