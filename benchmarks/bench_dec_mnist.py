"""DEC on the embedded MNIST-10k with the default settings, several seeds.

    python benchmarks/bench_dec_mnist.py [--seeds 0 1 2] [--set augment=none ...]
                                         [--out results/bench-dec] [--name NAME]

Each seed runs in its own process (so its peak memory is its own) with the
same defaults as ``chainclust train dec``, except for the ``--set NAME=VALUE``
overrides of DEC's parameters (e.g. ``augment=none`` for the paper's DEC
without DEC-DA's augmentation, ``pretrain_epochs=10``). Reports ACC, NMI and
ARI of DEC and of its initialisation (autoencoder + k-means), wall time and
peak RSS, and writes benchmarks/results/dec_mnist[_NAME-VALUE...].{json,md}.
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
seed, out, overrides = int(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3])
data = load('mnist')
start = time.perf_counter()
model = chainclust.DEC(n_clusters=10, random_state=seed, out=out,
                       **overrides).fit(data.x, data.y)
with open(out + '/cluster/log') as f:
    last = json.load(f)[-1]
json.dump({'seed': seed, 'wall_s': time.perf_counter() - start,
           'cluster_iterations': last['iteration'], 'cluster_s': last['elapsed_time'],
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


def parse_override(text):
    """``NAME=VALUE`` -> ``(NAME, VALUE)``; VALUE is read as JSON if it can be."""
    name, sep, value = text.partition('=')
    if not sep or not name:
        raise argparse.ArgumentTypeError('expected NAME=VALUE, got %r' % text)
    try:
        return name, json.loads(value)
    except ValueError:
        return name, value


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--set', dest='overrides', type=parse_override, action='append',
                        default=[], metavar='NAME=VALUE', help='a DEC parameter to change')
    parser.add_argument('--out', default=os.path.join('results', 'bench-dec'))
    parser.add_argument('--name', default=None,
                        help='results file name (default: dec_mnist[_NAME-VALUE...])')
    args = parser.parse_args()
    overrides = dict(args.overrides)
    result_name = args.name or 'dec_mnist' + ''.join('_%s-%s' % item
                                                     for item in sorted(overrides.items()))
    settings = ', '.join('%s=%s' % item for item in sorted(overrides.items())) or 'defaults'

    runs = []
    env = dict(os.environ, PYTHONPATH=os.path.dirname(_common.HERE))
    for seed in args.seeds:
        out = os.path.join(args.out, result_name, 'seed%d' % seed)
        result = subprocess.run([sys.executable, '-c', CHILD, str(seed), out,
                                 json.dumps(overrides)],
                                check=True, stdout=subprocess.PIPE, text=True, env=env)
        runs.append(json.loads(result.stdout))
        sys.stderr.write('seed %d: %s\n' % (seed, json.dumps(runs[-1])))
    summary = {'dec': summarise(runs, 'dec'), 'ae_kmeans': summarise(runs, 'ae_kmeans'),
               'wall_s_mean': sum(r['wall_s'] for r in runs) / len(runs),
               'peak_rss_mb_max': max(r['peak_rss_mb'] for r in runs)}
    table = ['| method (MNIST-10k, %d seeds, %s) | ACC mean (min) | NMI mean (min) '
             '| ARI mean (min) |' % (len(runs), settings), '|---|---|---|---|']
    for key, name in (('ae_kmeans', 'autoencoder + k-means (DEC init)'), ('dec', 'DEC')):
        s = summary[key]
        table.append('| %s | %.4f (%.4f) | %.4f (%.4f) | %.4f (%.4f) |' % (
            name, s['acc']['mean'], s['acc']['min'], s['nmi']['mean'], s['nmi']['min'],
            s['ari']['mean'], s['ari']['min']))
    table.append('')
    table.append('Wall time per run (pretraining + fine-tuning + k-means + DEC): %.0f s mean; '
                 'peak RSS %.0f MB.' % (summary['wall_s_mean'], summary['peak_rss_mb_max']))
    _common.write_results(result_name, {'machine': _common.machine(), 'overrides': overrides,
                                        'runs': runs, 'summary': summary},
                          '\n'.join(table) + '\n')


if __name__ == '__main__':
    main()
