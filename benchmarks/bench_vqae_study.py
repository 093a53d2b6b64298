"""Reproduce the VQ-AE clustering study (Shimomura 2021) on the embedded MNIST-10k.

    python benchmarks/bench_vqae_study.py [--epochs 50] [--out results/bench-vqae]
                                          [--experiments 1 2 3 4]

1. Untrained vs pretrained codebook initialisation (Euclidean, n=32): final
   quantizing, reconstruction, reconstructed-quantized errors and loss; mean
   and std of the initial codebook over 3 draws; usage histograms.
2. Cosine distance, pretrained, n in {8, 32, 128, 512, 2048, 8192}: errors and
   used/total codes (the study's Table 3).
3. Euclidean vs cosine at n in {32, 128, 512}.
4. What the study did not measure: ACC/NMI/ARI at n = 10 and 50 (Hungarian
   matching when n > 10 classes) against autoencoder + k-means on the same
   pretrained embeddings.

Every run uses the estimator's defaults (3 fully connected layers each side,
Adam lr 1e-3, batch 1024) and the same pretrained autoencoder (trained once).
Writes benchmarks/results/vqae_study.{json,md} (vqae_study_exp1.{json,md} and
so on for a subset of ``--experiments``) and usage histograms.
"""
import argparse
import json
import os
import shutil
import time

import _common
import chainclust  # NOQA: compat before chainer
import numpy
from sklearn.cluster import KMeans

from chainclust import datasets, metrics, VQAE
from chainclust.training import random_stream

FIELDS = ('main/loss', 'main/reconstruction', 'main/quantizing',
          'main/reconstructed_quantized')


def final_errors(out):
    """Mean of each recorded term over the last epoch's steps."""
    with open(os.path.join(out, 'train', 'log')) as f:
        log = json.load(f)
    last = [entry for entry in log if entry['epoch'] == log[-1]['epoch']]
    return {key.split('/')[1]: float(numpy.mean([e[key] for e in last])) for key in FIELDS}


def run(data, root, name, pretrain_dir, **params):
    out = os.path.join(root, name)
    shutil.rmtree(out, ignore_errors=True)
    if params.get('init', 'pretrained') == 'pretrained':
        shutil.copytree(pretrain_dir, os.path.join(out, 'pretrain'))
    start = time.perf_counter()
    model = VQAE(out=out, **params).fit(data.x, data.y)
    result = {'name': name, 'seconds': time.perf_counter() - start,
              'n_codes': model.n_clusters, 'metric': model.metric,
              'used': int(model.n_clusters - model.dead_codes_),
              'init_codebook': model.init_codebook_stats_, 'metrics': model.metrics_}
    result.update(final_errors(out))
    records = os.path.join(out, 'train', 'records')
    histograms = sorted(f for f in os.listdir(records) if f.startswith('usage_'))
    result['usage_png'] = os.path.join(records, histograms[-1]) if histograms else None
    return model, result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--epochs', type=int, default=50)
    parser.add_argument('--pretrain-epochs', type=int, default=20)
    parser.add_argument('--out', default=os.path.join('results', 'bench-vqae'))
    parser.add_argument('--experiments', type=int, nargs='+', default=[1, 2, 3, 4],
                        choices=[1, 2, 3, 4])
    args = parser.parse_args()
    wanted = set(args.experiments)
    data = datasets.load('mnist')
    common = dict(epochs=args.epochs, pretrain_epochs=args.pretrain_epochs, random_state=0,
                  monitor_interval=max(1, args.epochs // 2))
    # The shared pretrained autoencoder: a VQ-AE run with no VQ epochs.
    pretrain_run = os.path.join(args.out, 'pretrained-autoencoder')
    shutil.rmtree(pretrain_run, ignore_errors=True)
    base = VQAE(n_clusters=10, out=pretrain_run, **dict(common, epochs=0)).fit(data.x)
    pretrain_dir = os.path.join(pretrain_run, 'pretrain')
    embeddings = base.transform(data.x)
    results = {'settings': {k: v for k, v in common.items()},
               'experiment1': [], 'experiment2': [], 'experiment3': [], 'clustering': []}

    # 1. untrained vs pretrained initialisation
    for init in ('untrained', 'pretrained') if 1 in wanted else ():
        draws = []
        for seed in (0, 1, 2):
            if init == 'untrained':
                model = VQAE(n_clusters=32, init=init, **dict(common, epochs=0,
                                                              random_state=seed))
                draws.append(model.fit(data.x).init_codebook_stats_)
            else:  # the codebook VQAE(random_state=seed) would draw from the shared encoder
                drawn = random_stream(seed, 'codebook').choice(len(data.x), 32, replace=False)
                codes = embeddings[drawn]
                draws.append({'mean': float(codes.mean()), 'std': float(codes.std())})
        _, result = run(data, args.out, 'exp1-%s-euclidean-32' % init, pretrain_dir,
                        n_clusters=32, init=init, metric='euclidean', **common)
        result['init_draws'] = draws
        results['experiment1'].append(result)

    # 2. cosine, pretrained, growing codebooks
    for n in (8, 32, 128, 512, 2048, 8192) if wanted & {2, 3} else ():
        _, result = run(data, args.out, 'exp2-cosine-%d' % n, pretrain_dir, n_clusters=n,
                        metric='cosine', **common)
        results['experiment2'].append(result)

    # 3. Euclidean against cosine (cosine runs shared with experiment 2)
    for n in (32, 128, 512) if 3 in wanted else ():
        _, result = run(data, args.out, 'exp3-euclidean-%d' % n, pretrain_dir, n_clusters=n,
                        metric='euclidean', **common)
        cosine = next(r for r in results['experiment2'] if r['n_codes'] == n)
        results['experiment3'].append({'n_codes': n, 'euclidean': result, 'cosine': cosine})

    # 4. clustering quality against autoencoder + k-means on the same embeddings
    for n in (10, 50) if 4 in wanted else ():
        kmeans = KMeans(n, n_init=20, random_state=0).fit(embeddings)
        row = {'n_codes': n,
               'ae_kmeans': metrics.evaluate(data.y, kmeans.labels_.astype(numpy.int64))}
        for metric in ('euclidean', 'cosine'):
            _, result = run(data, args.out, 'acc-%s-%d' % (metric, n), pretrain_dir,
                            n_clusters=n, metric=metric, **common)
            row[metric] = result
        results['clustering'].append(row)

    os.makedirs(_common.RESULTS, exist_ok=True)
    for result in results['experiment1']:
        if result['usage_png']:
            shutil.copy(result['usage_png'],
                        os.path.join(_common.RESULTS, 'vqae_%s_usage.png' % result['name']))
    name = 'vqae_study' + ('' if wanted == {1, 2, 3, 4} else
                           '_' + '-'.join('exp%d' % e for e in sorted(wanted)))
    _common.write_results(name, {'machine': _common.machine(), **results}, tables(results))


def tables(results):
    def errors(r):
        return '%.4f | %.4f | %.4f | %.4f' % (r['quantizing'], r['reconstruction'],
                                              r['reconstructed_quantized'], r['loss'])
    lines = []
    if results['experiment1']:
        lines += ['Experiment 1 (Euclidean, n=32): initial codebook and final errors',
                  '', '| init | codebook mean (3 draws) | codebook std (3 draws) | quantizing '
                  '| reconstruction | reconstructed-quantized | loss | used/total |',
                  '|---|---|---|---|---|---|---|---|']
        for r in results['experiment1']:
            lines.append('| %s | %s | %s | %s | %d/%d |' % (
                r['name'].split('-')[1],
                ', '.join('%.3f' % d['mean'] for d in r['init_draws']),
                ', '.join('%.3f' % d['std'] for d in r['init_draws']), errors(r),
                r['used'], r['n_codes']))
        lines.append('')
    if results['experiment2']:
        lines += ['Experiment 2 (cosine, pretrained)', '',
                  '| n | quantizing | reconstruction | reconstructed-quantized | loss '
                  '| used/total |', '|---|---|---|---|---|---|']
        for r in results['experiment2']:
            lines.append('| %d | %s | %d/%d |' % (r['n_codes'], errors(r), r['used'],
                                                r['n_codes']))
        lines.append('')
    if results['experiment3']:
        lines += ['Experiment 3 (Euclidean vs cosine, pretrained)', '',
                  '| n | metric | quantizing | reconstruction | reconstructed-quantized | loss '
                  '| used/total |', '|---|---|---|---|---|---|---|']
        for row in results['experiment3']:
            for metric in ('euclidean', 'cosine'):
                r = row[metric]
                lines.append('| %d | %s | %s | %d/%d |' % (row['n_codes'], metric, errors(r),
                                                          r['used'], r['n_codes']))
        lines.append('')
    if results['clustering']:
        lines += ['Clustering quality on MNIST-10k (ACC with Hungarian matching)', '',
                  '| n | method | ACC | NMI | ARI |', '|---|---|---|---|---|']
        for row in results['clustering']:
            for name, values in (('autoencoder + k-means', row['ae_kmeans']),
                                 ('VQ-AE Euclidean', row['euclidean']['metrics']),
                                 ('VQ-AE cosine', row['cosine']['metrics'])):
                lines.append('| %d | %s | %.4f | %.4f | %.4f |' % (
                    row['n_codes'], name, values['acc'], values['nmi'], values['ari']))
        lines.append('')
    return '\n'.join(lines)


if __name__ == '__main__':
    main()
