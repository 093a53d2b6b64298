"""Speed of DEC's loss KL(P||Q(z, mu)), forward + backward: our FunctionNode
against the same loss composed from chainer.functions, (a1) with distances by
broadcasting (N x K x d) and (a2) with the |z|^2 + |mu|^2 - 2 z mu^T expansion,
and (b) the per-cluster loop/vstack construction of the DEC blog code
(squared distances throughout).

    python benchmarks/bench_dec_loss.py [--repeat 200]

Writes benchmarks/results/dec_loss.{json,md}.
"""
import argparse
import time

import _common  # NOQA: puts the repository on sys.path
import chainclust  # NOQA: compat before chainer
import chainer
import chainer.functions as F
import numpy

from chainclust.functions import composed, dec_kl_divergence


def loss_node(z, mu, p):
    return dec_kl_divergence(z, mu, p, 1.0)


def loss_composed_broadcast(z, mu, p, alpha=1.0):
    n, k, d = z.shape[0], mu.shape[0], z.shape[1]
    diff = (F.broadcast_to(F.expand_dims(z, 1), (n, k, d))
            - F.broadcast_to(F.expand_dims(mu, 0), (n, k, d)))
    kernel = (1 + F.sum(diff * diff, axis=2) / alpha) ** (-(alpha + 1) / 2.0)
    q = kernel / F.broadcast_to(F.sum(kernel, axis=1, keepdims=True), (n, k))
    return composed.kl_divergence(p, q)


def loss_composed_matmul(z, mu, p):
    return composed.dec_loss(z, mu, p, 1.0)


def loss_loop_vstack(z, mu, p, alpha=1.0):
    kernels = []
    for j in range(mu.shape[0]):
        diff = z - F.broadcast_to(mu[j], z.shape)
        kernels.append((1 + F.sum(diff * diff, axis=1) / alpha) ** (-(alpha + 1) / 2.0))
    kernel = F.transpose(F.vstack(kernels))
    q = kernel / F.broadcast_to(F.sum(kernel, axis=1, keepdims=True), kernel.shape)
    return composed.kl_divergence(p, q)


def time_it(fn, z0, mu0, p, repeat):
    """Median seconds of one forward + backward."""
    times = []
    for i in range(repeat + 5):
        z, mu = chainer.Variable(z0), chainer.Variable(mu0)
        start = time.perf_counter()
        loss = fn(z, mu, p)
        loss.backward()
        elapsed = time.perf_counter() - start
        if i >= 5:
            times.append(elapsed)
    return float(numpy.median(times))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--repeat', type=int, default=200)
    args = parser.parse_args()
    rng = numpy.random.RandomState(0)
    rows = []
    for n in (256, 4096):
        for k in (10, 50):
            z = rng.randn(n, 10).astype(numpy.float32)
            mu = rng.randn(k, 10).astype(numpy.float32)
            p = rng.dirichlet(numpy.ones(k), n).astype(numpy.float32)
            repeat = args.repeat if n == 256 else max(20, args.repeat // 4)
            row = {'N': n, 'K': k, 'd': 10}
            for name, fn in (('node', loss_node), ('composed_broadcast', loss_composed_broadcast),
                             ('composed_matmul', loss_composed_matmul),
                             ('loop_vstack', loss_loop_vstack)):
                row[name + '_ms'] = time_it(fn, z, mu, p, repeat) * 1e3
            for name in ('composed_broadcast', 'composed_matmul', 'loop_vstack'):
                row['speedup_vs_' + name] = row[name + '_ms'] / row['node_ms']
            rows.append(row)
    table = ['| N | K | FunctionNode (ms) | (a1) composed, broadcast (ms) '
             '| (a2) composed, matmul (ms) | (b) loop/vstack (ms) '
             '| speed-up vs (a1) | vs (a2) | vs (b) |',
             '|---|---|---|---|---|---|---|---|---|']
    for r in rows:
        table.append('| %d | %d | %.3f | %.3f | %.3f | %.3f | %.1fx | %.1fx | %.1fx |' % (
            r['N'], r['K'], r['node_ms'], r['composed_broadcast_ms'],
            r['composed_matmul_ms'], r['loop_vstack_ms'],
            r['speedup_vs_composed_broadcast'], r['speedup_vs_composed_matmul'],
            r['speedup_vs_loop_vstack']))
    _common.write_results('dec_loss', {'machine': _common.machine(), 'dtype': 'float32',
                                       'rows': rows}, '\n'.join(table) + '\n')


if __name__ == '__main__':
    main()
