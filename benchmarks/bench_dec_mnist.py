"""DEC on the embedded MNIST-10k with the default settings, several seeds.

    python benchmarks/bench_dec_mnist.py [--seeds 0 1 2] [--out results/bench-dec]

Each seed runs in its own process (so its peak memory is its own) with the
same defaults as ``chainclust train dec``. Reports ACC, NMI and ARI of DEC and
of its initialisation (autoencoder + k-means), wall time and peak RSS, and
writes benchmarks/results/dec_mnist.{json,md}.
"""
import argparse
import json
import os
import subprocess
import sys

import _common

CHILD = r'''
import json, resource, sys, time
import chainclust
from chainclust.datasets import load
seed, out = int(sys.argv[1]), sys.argv[2]
data = load('mnist')
start = time.perf_counter()
model = chainclust.DEC(n_clusters=10, random_state=seed, out=out).fit(data.x, data.y)
json.dump({'seed': seed, 'wall_s': time.perf_counter() - start,
           'peak_rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
           'dec': model.metrics_, 'ae_kmeans': model.init_metrics_}, sys.stdout)
'''


def summarise(runs, key):
    out = {}
    for metric in ('acc', 'nmi', 'ari'):
        values = [r[key][metric] for r in runs]
        out[metric] = {'mean': sum(values) / len(values), 'min': min(values),
                       'max': max(values)}
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--out', default=os.path.join('results', 'bench-dec'))
    args = parser.parse_args()
    runs = []
    env = dict(os.environ, PYTHONPATH=os.path.dirname(_common.HERE))
    for seed in args.seeds:
        out = os.path.join(args.out, 'seed%d' % seed)
        result = subprocess.run([sys.executable, '-c', CHILD, str(seed), out],
                                check=True, stdout=subprocess.PIPE, text=True, env=env)
        runs.append(json.loads(result.stdout))
        sys.stderr.write('seed %d: %s\n' % (seed, json.dumps(runs[-1])))
    summary = {'dec': summarise(runs, 'dec'), 'ae_kmeans': summarise(runs, 'ae_kmeans'),
               'wall_s_mean': sum(r['wall_s'] for r in runs) / len(runs),
               'peak_rss_mb_max': max(r['peak_rss_mb'] for r in runs)}
    table = ['| method (MNIST-10k, %d seeds) | ACC mean (min) | NMI mean (min) '
             '| ARI mean (min) |' % len(runs), '|---|---|---|---|']
    for key, name in (('ae_kmeans', 'autoencoder + k-means (DEC init)'), ('dec', 'DEC')):
        s = summary[key]
        table.append('| %s | %.4f (%.4f) | %.4f (%.4f) | %.4f (%.4f) |' % (
            name, s['acc']['mean'], s['acc']['min'], s['nmi']['mean'], s['nmi']['min'],
            s['ari']['mean'], s['ari']['min']))
    table.append('')
    table.append('Wall time per run (pretraining + fine-tuning + k-means + DEC): %.0f s mean; '
                 'peak RSS %.0f MB.' % (summary['wall_s_mean'], summary['peak_rss_mb_max']))
    _common.write_results('dec_mnist', {'machine': _common.machine(), 'runs': runs,
                                        'summary': summary}, '\n'.join(table) + '\n')


if __name__ == '__main__':
    main()
