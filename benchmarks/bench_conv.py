"""Speed of chainclust's CPU convolution (GemmConvolution2D) against Chainer's,
forward + backward (gradients of x, W and b), on the convolutions of IIC's trunk
and GMVAE's MNIST encoder, interleaved in one process on the same threads.

    python benchmarks/bench_conv.py [--repeats 7] [--batch 200]

Reports the median milliseconds per layer over the repeats and the ratio.
Writes benchmarks/results/conv.{json,md}.
"""
import argparse
import statistics
import time

import _common  # NOQA: puts the repository on sys.path
import chainclust  # NOQA: compat before chainer
import chainer
import chainer.functions as F
import numpy

from chainclust.functions import convolution_2d

# name, C in, C out, image size, kernel, stride, pad
LAYERS = [
    ('IIC conv1 (1->32, 28x28, 3x3)', 1, 32, 28, 3, 1, 1),
    ('IIC conv2 (32->64, 14x14, 3x3)', 32, 64, 14, 3, 1, 1),
    ('IIC conv3 (64->128, 7x7, 3x3)', 64, 128, 7, 3, 1, 1),
    ('IIC conv4 (128->256, 3x3, 3x3)', 128, 256, 3, 3, 1, 1),
    ('GMVAE conv1 (1->16, 28x28, 6x6)', 1, 16, 28, 6, 1, 0),
    ('GMVAE conv2 (16->32, 23x23, 6x6)', 16, 32, 23, 6, 1, 0),
    ('GMVAE conv3 (32->64, 18x18, 4x4 stride 2 pad 1)', 32, 64, 18, 4, 2, 1),
    ('GMVAE whole-map layer (64->500, 9x9, 9x9)', 64, 500, 9, 9, 1, 0),
]


def step(fn, x, W, b, stride, pad):
    x, W, b = (chainer.Variable(a) for a in (x, W, b))
    y = fn(x, W, b, stride, pad)
    y.grad = numpy.ones_like(y.array)
    y.backward()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--repeats', type=int, default=7)
    parser.add_argument('--batch', type=int, default=200)
    args = parser.parse_args()
    rng = numpy.random.RandomState(0)
    runners = {'chainclust': convolution_2d, 'chainer': F.convolution_2d}
    rows = []
    for name, c_in, c_out, size, k, stride, pad in LAYERS:
        x = rng.randn(args.batch, c_in, size, size).astype(numpy.float32)
        W = (rng.randn(c_out, c_in, k, k) * 0.1).astype(numpy.float32)
        b = rng.randn(c_out).astype(numpy.float32)
        times = {r: [] for r in runners}
        for repeat in range(args.repeats + 1):  # the first round warms up
            order = list(runners) if repeat % 2 else list(runners)[::-1]
            for runner in order:
                start = time.perf_counter()
                step(runners[runner], x, W, b, stride, pad)
                if repeat:
                    times[runner].append((time.perf_counter() - start) * 1e3)
        ms = {r: statistics.median(t) for r, t in times.items()}
        rows.append({'layer': name, 'ms': ms, 'speedup': ms['chainer'] / ms['chainclust']})
    total = {r: sum(row['ms'][r] for row in rows[:4]) for r in runners}
    lines = ['# CPU convolution, forward + backward (batch %d, float32)' % args.batch, '',
             'Median ms over %d interleaved repeats on %s; speed-up = Chainer / chainclust.'
             % (args.repeats, _common.machine()['cpu']), '',
             '| layer | chainclust (convolution_2d) | Chainer | speed-up |',
             '|---|---|---|---|']
    for row in rows:
        lines.append('| %s | %.1f | %.1f | %.2fx |' % (row['layer'], row['ms']['chainclust'],
                                                      row['ms']['chainer'], row['speedup']))
    lines.append('| IIC trunk, all four | %.1f | %.1f | %.2fx |'
                 % (total['chainclust'], total['chainer'], total['chainer'] / total['chainclust']))
    _common.write_results('conv', {'batch': args.batch, 'repeats': args.repeats,
                                    'machine': _common.machine(), 'layers': rows},
                          '\n'.join(lines) + '\n')
    print('\n'.join(lines))


if __name__ == '__main__':
    main()
