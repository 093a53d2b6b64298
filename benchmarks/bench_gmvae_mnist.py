"""GMVAE on the embedded MNIST-10k: paper Table 1 settings, appended to one results file.

    python benchmarks/bench_gmvae_mnist.py [--seeds 0 1 2] [--set n_clusters=16 ...]
                                           [--train 8000] [--out results/bench-gmvae]

Split: the embedded MNIST-10k is ordered by class, so the images are first
put in a fixed random order (``RandomState(0).permutation``); the model
trains on the first ``--train`` of them (labels used only for the logged
curve) and is scored on the held-out rest and on all 10,000. Metrics: ACC with the paper's protocol
(Makhzani et al.: each cluster takes the label of its most common member,
``many_to_one``) and with the one-to-one Hungarian matching, NMI, ARI.

Each seed runs in its own process (its peak memory is its own). Every run is
appended to benchmarks/results/gmvae_mnist.json (nothing earlier is
rewritten) and the markdown table, grouped by setting, is rebuilt from all
runs recorded so far.
"""
import argparse
import json
import os
import subprocess
import sys

import _common
from bench_dec_mnist import parse_override

NAME = 'gmvae_mnist'
CHILD = r'''
import json, resource, sys, time
import chainclust
from chainclust import metrics
from chainclust.datasets import load
seed, out, n_train, settings = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), \
    json.loads(sys.argv[4])
import numpy
data = load('mnist')
order = numpy.random.RandomState(0).permutation(len(data.x))
train, held_out = order[:n_train], order[n_train:]
start = time.perf_counter()
model = chainclust.GMVAE(random_state=seed, out=out, **settings)
model.fit(data.x[train], data.y[train])
wall = time.perf_counter() - start
with open(out + '/train/log') as f:
    log = json.load(f)
result = {'seed': seed, 'settings': settings, 'n_train': n_train, 'wall_s': wall,
          'peak_rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
          'train': model.metrics_,
          'curve': [{'epoch': e['epoch'], 'many_to_one': e.get('cluster/many_to_one'),
                     'acc': e.get('cluster/acc'), 'z_prior_kl': e.get('main/z_prior_kl'),
                     'loss': e.get('main/loss')} for e in log]}
if len(held_out):
    result['held_out'] = metrics.evaluate(data.y[held_out], model.predict(data.x[held_out]))
result['all'] = metrics.evaluate(data.y, model.predict(data.x))
json.dump(result, sys.stdout)
'''
DEFAULTS = {'n_clusters': 16, 'n_samples': 1, 'information_lambda': 0.5}


def setting_name(settings):
    return ', '.join('%s=%s' % (k, json.dumps(v)) for k, v in sorted(settings.items()))


def mean_std(values):
    mean = sum(values) / len(values)
    var = sum((v - mean) ** 2 for v in values) / len(values)
    return mean, var ** 0.5


def mean_pm_std(values):
    """``'0.8500 +- 0.0100'``, or the value alone for one run."""
    if len(values) == 1:
        return '%.4f (one run)' % values[0]
    return '%.4f +- %.4f' % mean_std(values)


def table(runs):
    """Markdown: one row per setting, mean +- std over its seeds."""
    groups = {}
    for run in runs:
        groups.setdefault(setting_name(run['settings']), []).append(run)
    lines = ['| setting | seeds | ACC Makhzani held-out | ACC Makhzani all 10k '
             '| ACC Hungarian held-out | NMI held-out | ARI held-out | wall s | peak MB |',
             '|---|---|---|---|---|---|---|---|---|']
    for name, group in groups.items():
        cells = []
        for part, metric in (('held_out', 'many_to_one'), ('all', 'many_to_one'),
                             ('held_out', 'acc'), ('held_out', 'nmi'), ('held_out', 'ari')):
            values = [r[part][metric] for r in group if part in r]
            cells.append(mean_pm_std(values) if values else '-')
        lines.append('| %s | %s | %s | %.0f | %.0f |' % (
            name, ','.join(str(r['seed']) for r in group), ' | '.join(cells),
            max(r['wall_s'] for r in group), max(r['peak_rss_mb'] for r in group)))
    lines.append('')
    lines.append('Train on %d images of MNIST-10k (a fixed random order), held-out = the '
                 'rest; ACC Makhzani = '
                 'each cluster takes the label of its most common member (the paper\'s '
                 'protocol); +- is the standard deviation over seeds.' % runs[0]['n_train'])
    return '\n'.join(lines) + '\n'


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--set', dest='overrides', type=parse_override, action='append',
                        default=[], metavar='NAME=VALUE', help='a GMVAE parameter to change')
    parser.add_argument('--train', type=int, default=8000, help='training images (first N)')
    parser.add_argument('--out', default=os.path.join('results', 'bench-gmvae'))
    args = parser.parse_args()
    settings = dict(DEFAULTS, **dict(args.overrides))
    path = os.path.join(_common.RESULTS, NAME + '.json')
    recorded = {'runs': []}
    if os.path.exists(path):
        with open(path) as f:
            recorded = json.load(f)
    env = dict(os.environ, PYTHONPATH=os.path.dirname(_common.HERE))
    for seed in args.seeds:
        out = os.path.join(args.out, setting_name(settings).replace(', ', '_')
                           .replace('"', ''), 'seed%d' % seed)
        result = subprocess.run([sys.executable, '-c', CHILD, str(seed), out, str(args.train),
                                 json.dumps(settings)],
                                check=True, stdout=subprocess.PIPE, text=True, env=env)
        run = json.loads(result.stdout)
        run['machine'] = _common.machine()
        recorded['runs'].append(run)
        sys.stderr.write('seed %d: held-out %s, %.0f s\n' % (
            seed, json.dumps(run.get('held_out')), run['wall_s']))
        _common.write_results(NAME, recorded, table(recorded['runs']))


if __name__ == '__main__':
    main()
