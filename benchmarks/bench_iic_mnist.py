"""IIC on the embedded MNIST-10k, appended to one results file.

    python benchmarks/bench_iic_mnist.py [--seeds 0 1 2] [--set alpha=10 ...]
                                         [--out results/bench-iic]

IIC trains without labels on all 10,000 images and is scored on them (labels
only for the logged curve), as the paper scores on the data it clusters.
Reports ACC (Hungarian), NMI and ARI of the sub-head with the lowest loss (the
labels IIC gives) and the ACC of every clustering sub-head, the overclustering
head's many-to-one ACC, wall time and peak RSS, and the per-epoch curve.

Each seed runs in its own process. Every run is appended to
benchmarks/results/iic_mnist.json (nothing earlier is rewritten) and the
markdown table, one row per setting, is rebuilt from all runs so far.
"""
import argparse
import json
import os
import subprocess
import sys

import _common
from bench_dec_mnist import parse_override
from bench_gmvae_mnist import mean_pm_std, mean_std, setting_name

NAME = 'iic_mnist'
CHILD = r'''
import json, resource, sys, time
import numpy
import chainclust
from chainclust import metrics
from chainclust.datasets import load
from chainclust.inference import batched_forward
seed, out, settings = int(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3])
data = load('mnist')
start = time.perf_counter()
model = chainclust.IIC(random_state=seed, out=out, **settings).fit(data)
wall = time.perf_counter() - start
net = model.net_
chosen = int(net.best_subhead)
subheads = []
for i in range(len(net.heads)):
    net.best_subhead = numpy.int64(i)
    subheads.append(metrics.cluster_accuracy(data.y, model.predict(data.x)))
net.best_subhead = numpy.int64(chosen)
result = {'seed': seed, 'settings': settings, 'wall_s': wall,
          'peak_rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
          'metrics': model.metrics_, 'chosen_subhead': chosen, 'subhead_acc': subheads,
          'subhead_losses': model.subhead_losses_, 'augment': list(model.augment_)}
if len(net.overheads):
    over = batched_forward(net.overcluster_proba, data.x, device=net.device).argmax(axis=1)
    result['overclustering_many_to_one'] = metrics.many_to_one_accuracy(data.y, over)
with open(out + '/train/log') as f:
    result['curve'] = [{'epoch': e['epoch'], 'acc': e.get('cluster/acc'),
                        'loss': e.get('main/loss'), 'elapsed_s': e['elapsed_time']}
                       for e in json.load(f)]
json.dump(result, sys.stdout)
'''
DEFAULTS = {'n_clusters': 10, 'alpha': 1.0}


def table(runs):
    groups = {}
    for run in runs:
        groups.setdefault(setting_name(run['settings']), []).append(run)
    lines = ['| setting | seeds | ACC (lowest-loss sub-head) | best seed | NMI | ARI '
             '| ACC of each sub-head (seed by seed) | wall s (max) | peak MB |',
             '|---|---|---|---|---|---|---|---|---|']
    for name, group in groups.items():
        acc = [r['metrics']['acc'] for r in group]
        cells = [mean_pm_std(acc), '%.4f' % max(acc)]
        for metric in ('nmi', 'ari'):
            cells.append('%.4f' % mean_std([r['metrics'][metric] for r in group])[0])
        cells.append('; '.join('/'.join('%.3f' % a for a in r['subhead_acc']) for r in group))
        lines.append('| %s | %s | %s | %.0f | %.0f |' % (
            name, ','.join(str(r['seed']) for r in group), ' | '.join(cells),
            max(r['wall_s'] for r in group), max(r['peak_rss_mb'] for r in group)))
    lines.append('')
    lines.append('All 10,000 images of MNIST-10k, trained without labels and scored on the '
                 'same images; +- is the standard deviation over seeds.')
    return '\n'.join(lines) + '\n'


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--set', dest='overrides', type=parse_override, action='append',
                        default=[], metavar='NAME=VALUE', help='an IIC parameter to change')
    parser.add_argument('--out', default=os.path.join('results', 'bench-iic'))
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
        result = subprocess.run([sys.executable, '-c', CHILD, str(seed), out,
                                 json.dumps(settings)],
                                check=True, stdout=subprocess.PIPE, text=True, env=env)
        run = json.loads(result.stdout)
        run['machine'] = _common.machine()
        recorded['runs'].append(run)
        sys.stderr.write('seed %d: %s, %.0f s\n' % (seed, json.dumps(run['metrics']),
                                                     run['wall_s']))
        _common.write_results(NAME, recorded, table(recorded['runs']))


if __name__ == '__main__':
    main()
