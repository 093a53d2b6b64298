"""IIC's batch loss around the uniform output: why alpha > 1 makes it an attractor.

    python benchmarks/iic_batch_landscape.py [--draws 200]

Evaluates chainclust's ``iic_loss`` (no network) on batches of N samples
whose two views agree exactly (z' = z, the best case for the mutual
information) and whose outputs are ``softmax(scale * g)``, g standard normal
per sample: scale 0 is the uniform output, a large scale confident random
clusters of balanced expected size. Near uniform the mutual information grows
with the fourth power of the deviation, while for alpha > 1 the batch
marginal's entropy, lowered by the batch's sampling noise, costs (alpha - 1)
times a second-order term: the loss first rises away from uniform. And where
(alpha - 1) (K - 1) / N exceeds about log K / 2, confident clusters cost more
than uniform outputs even at full confidence. Writes
benchmarks/results/iic_batch_landscape.md and .json (mean loss over ``--draws``
batches).
"""
import argparse

import numpy

import _common
from chainclust.functions.iic_loss import iic_loss

SCALES = (0.0, 0.3, 1.0, 3.0, 10.0, 30.0)
CASES = ((10, 100), (50, 100), (50, 300), (50, 700))
ALPHAS = (1.0, 2.0, 10.0)


def mean_loss(k, n, alpha, scale, draws, rng):
    values = []
    for _ in range(draws):
        logits = scale * rng.standard_normal((n, k))
        z = numpy.exp(logits - logits.max(axis=1, keepdims=True))
        z /= z.sum(axis=1, keepdims=True)
        values.append(float(iic_loss(z, z, alpha).array))
    return numpy.mean(values)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--draws', type=int, default=200)
    args = parser.parse_args()
    rng = numpy.random.RandomState(0)
    lines = ['| K | N | alpha | %s | lowest |' % ' | '.join('scale %g' % s for s in SCALES),
             '|---|---|---|%s---|' % ('---|' * len(SCALES))]
    for k, n in CASES:
        for alpha in ALPHAS:
            losses = [mean_loss(k, n, alpha, s, args.draws, rng) for s in SCALES]
            lines.append('| %d | %d | %g | %s | scale %g |' % (
                k, n, alpha, ' | '.join('%.3f' % v for v in losses),
                SCALES[int(numpy.argmin(losses))]))
    lines += ['', 'Mean of iic_loss(z, z, alpha) over %d batches of N samples, '
              'z = softmax(scale * g), g standard normal (float64); scale 0 is the '
              'uniform output.' % args.draws]
    text = '\n'.join(lines) + '\n'
    _common.write_results('iic_batch_landscape', {'draws': args.draws, 'table': text}, text)


if __name__ == '__main__':
    main()
