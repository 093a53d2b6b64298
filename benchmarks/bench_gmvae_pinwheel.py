"""GMVAE on the paper's synthetic data: does lambda keep the clusters apart?

    python benchmarks/bench_gmvae_pinwheel.py [--epochs 150] [--seed 0]
                                              [--out results/bench-gmvae-pinwheel]

The embedded ``pinwheel`` set (10,000 2-D points on 5 arcs, seed 0) with the
authors' spiral settings (fully connected networks, Gaussian likelihood,
N_x = N_w = 2, K = 8; their hidden width 100, batch 200): lambda = 0 (the plain
ELBO) against lambda = 0.5, with the paper's gradient and with the reference
code's (``z_gradient='reference'``, its ``cvWeight`` 2.0 for this data). For
each: the clusters used (more than 1% of the points), ACC (Hungarian and
Makhzani), NMI, ARI, the z-prior KL of the last epoch (0: the z posterior
is uniform, the components merged), the mean of max_z p(z|x,w) at the
posterior means, training time and peak RSS (a run whose training is
already in ``--out`` reuses it: the times are those of the training); the figures (``latent.png``,
``samples.png``, ``train/z_prior.png``) stay in each run's result folder.
Writes benchmarks/results/gmvae_pinwheel.{json,md}.
"""
import argparse
import json
import os
import subprocess
import sys

import _common

CHILD = r'''
import json, resource, sys
import numpy
import chainclust
from chainclust.datasets import load
settings, out = json.loads(sys.argv[1]), sys.argv[2]
data = load('pinwheel')
model = chainclust.GMVAE(out=out, **settings).fit(data)
counts = numpy.bincount(model.labels_, minlength=model.n_clusters)
with open(out + '/train/log') as f:
    last = json.load(f)[-1]
json.dump({'settings': settings, 'train_s': last['elapsed_time'],
           'peak_rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
           'metrics': model.metrics_, 'cluster_sizes': counts.tolist(),
           'clusters_used': int((counts > 0.01 * len(data.x)).sum()),
           'final_z_prior_kl': last['main/z_prior_kl'],
           'mean_confidence': float(model.predict_proba(data.x).max(axis=1).mean())},
          sys.stdout)
'''
SETTINGS = [  # (folder, table row, parameters)
    ('lambda0', 'lambda=0 (plain ELBO)', {'information_lambda': 0.0}),
    ('lambda0.5-paper', 'lambda=0.5, paper gradient', {'information_lambda': 0.5}),
    ('lambda0.5-reference', 'lambda=0.5, reference gradient, cvWeight 2',
     {'information_lambda': 0.5, 'z_gradient': 'reference', 'z_prior_weight': 2.0}),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--epochs', type=int, default=150)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out', default=os.path.join('results', 'bench-gmvae-pinwheel'))
    args = parser.parse_args()
    base = {'n_clusters': 8, 'x_dim': 2, 'w_dim': 2, 'hidden_dims': [100],
            'prior_hidden': 100, 'batch_size': 200, 'lr': 1e-3, 'epochs': args.epochs,
            'random_state': args.seed}
    env = dict(os.environ, PYTHONPATH=os.path.dirname(_common.HERE))
    runs = []
    for folder, name, change in SETTINGS:
        settings = dict(base, **change)
        out = os.path.join(args.out, folder)
        result = subprocess.run([sys.executable, '-c', CHILD, json.dumps(settings), out],
                                check=True, stdout=subprocess.PIPE, text=True, env=env)
        run = dict(json.loads(result.stdout), name=name, out=out)
        runs.append(run)
        sys.stderr.write('%s: %s\n' % (name, json.dumps(run)))
    lines = ['| pinwheel, K=8, %d epochs, seed %d | z-prior KL (last epoch) '
             '| mean max_z p(z \\| x, w) '
             '| clusters used | ACC | ACC Makhzani | NMI | ARI | train s |'
             % (args.epochs, args.seed), '|---|---|---|---|---|---|---|---|---|']
    for run in runs:
        m = run['metrics']
        lines.append('| %s | %.4f | %.3f | %d | %.4f | %.4f | %.4f | %.4f | %.0f |' % (
            run['name'], run['final_z_prior_kl'], run['mean_confidence'], run['clusters_used'],
            m['acc'], m['many_to_one'], m['nmi'], m['ari'], run['train_s']))
    lines.append('')
    lines.append('Clusters used: clusters holding more than 1% of the 10,000 points '
                 '(5 arcs in the data).')
    _common.write_results('gmvae_pinwheel', {'machine': _common.machine(), 'runs': runs,
                                             'base': base}, '\n'.join(lines) + '\n')


if __name__ == '__main__':
    main()
