"""The autoencoder bake-off on the embedded MNIST-10k, with wall time and peak memory.

    python benchmarks/bench_bakeoff_mnist.py [--epochs 60] [--models deep,vae]
                                             [--out results/bench-bakeoff]

Runs ``chainclust.bakeoff.run_bakeoff`` (the same as ``chainclust bakeoff --data
mnist``): train 8,000 images, held-out 2,000 (a seeded permutation: the
embedded set is ordered by class), ae_bakeoff's settings (60 epochs, batch 256,
Adam 1e-3, code 20, anomaly code 2 without digit 1, linear probe on 550
labels). Writes benchmarks/results/bakeoff_mnist.{json,md} and copies the
figures to benchmarks/results/bakeoff_mnist/. Models already trained in --out
are reused (delete it to time a run from scratch).
"""
import argparse
import os
import resource
import shutil
import time

import _common


def main():
    from chainclust.models.autoencoders import KINDS
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--epochs', type=int, default=60)
    parser.add_argument('--models', default=','.join(KINDS))
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out', default=os.path.join(_common.HERE, 'results', 'bench-bakeoff'))
    args = parser.parse_args()
    from chainclust import datasets
    from chainclust.bakeoff import run_bakeoff
    from chainclust.bakeoff.report import markdown
    start = time.perf_counter()
    results = run_bakeoff(datasets.load('mnist'), args.out, args.models.split(','),
                          epochs=args.epochs, seed=args.seed, verbose=False,
                          progress=lambda line: print(line, flush=True))
    results['bench'] = {'wall_s': time.perf_counter() - start,
                        'peak_rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
                        'machine': _common.machine()}
    figures = os.path.join(_common.RESULTS, 'bakeoff_mnist')
    os.makedirs(figures, exist_ok=True)
    for figure in results['figures'].values():
        shutil.copy(os.path.join(args.out, figure['path']), figures)
        figure['path'] = 'bakeoff_mnist/' + os.path.basename(figure['path'])
    table = markdown(results) + ('\nWhole bake-off: %.0f s wall, %.0f MB peak RSS, on %s '
                                 '(%d cores).\n' % (results['bench']['wall_s'],
                                                    results['bench']['peak_rss_mb'],
                                                    results['bench']['machine']['cpu'],
                                                    results['bench']['machine']['cores']))
    _common.write_results('bakeoff_mnist', results, table)


if __name__ == '__main__':
    main()
