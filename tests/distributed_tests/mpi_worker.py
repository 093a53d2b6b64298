"""One rank of a tiny data-parallel training (run by test_distributed.py).

    [mpiexec -n N] python mpi_worker.py METHOD OUT [--fail-at ITERATION [--hard]]

Without mpiexec (one process) it trains without a communicator, the reference.
Each rank writes ``OUT/rank<R>.npz``: the fitted network's parameters and labels.
``--fail-at`` makes rank 1 fail at that iteration of the first phase (an
exception, or with ``--hard`` an abrupt exit as a killed process would).
"""
import argparse
import os

import chainclust  # NOQA: before chainer (NumPy 2 compatibility)
import chainer
import numpy

from chainclust import DEC, VQAE, Autoencoder
from chainclust.datasets import load
from chainclust.distributed import Distribution
from chainclust.training import run as run_module

ESTIMATORS = {
    # No augmentation and no batch normalisation: N ranks step exactly as one process.
    'dec': lambda: DEC(hidden_dims=(32, 32, 64), embedding_dim=5, finetune_epochs=3,
                       augment='none', n_init=2, update_interval=10, max_iter=40,
                       batch_size=64),
    # Batch normalisation and noise: the ranks agree, one process differs.
    'autoencoder': lambda: Autoencoder(kind='denoising', latent_dim=4, epochs=2, n_init=2,
                                       batch_size=64),
    'vqae': lambda: VQAE(n_clusters=6, hidden_dims=(32, 16), code_dim=4, pretrain_epochs=2,
                         epochs=3, batch_size=64, lr=3e-3),
}


class _Fail(chainer.training.Extension):
    trigger = 1, 'iteration'

    def __init__(self, at, hard):
        self.at, self.hard = at, hard

    def __call__(self, trainer):
        if trainer.updater.iteration == self.at:
            if self.hard:
                os._exit(9)
            raise RuntimeError('injected failure at iteration %d' % self.at)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('method', choices=sorted(ESTIMATORS))
    parser.add_argument('out')
    parser.add_argument('--fail-at', type=int)
    parser.add_argument('--hard', action='store_true')
    args = parser.parse_args()
    parallel = 'PMI_RANK' in os.environ or 'OMPI_COMM_WORLD_RANK' in os.environ
    distribution = Distribution('naive') if parallel else Distribution(None)
    if args.fail_at is not None and distribution.rank == 1:
        original = run_module.TrainingRun._trainer

        def failing_trainer(self, phase, folder):
            trainer = original(self, phase, folder)
            trainer.extend(_Fail(args.fail_at, args.hard))
            return trainer
        run_module.TrainingRun._trainer = failing_trainer
    data = load('digits').subset(512, random_state=0)
    model = ESTIMATORS[args.method]().set_params(
        random_state=0, communicator=distribution,
        out=os.path.join(args.out, 'result'))
    model.fit(data)
    arrays = {name: chainer.backend.CpuDevice().send(param.array)
              for name, param in model.net_.namedparams()}
    for link_name, link in model.net_.namedlinks():
        for name in link._persistent:  # batch normalisation's running statistics
            value = getattr(link, name)
            if getattr(value, 'dtype', None) is not None and value.dtype.kind == 'f':
                arrays['%s/%s' % (link_name, name)] = chainer.backend.CpuDevice().send(value)
    arrays['labels'] = model.labels_
    numpy.savez(os.path.join(args.out, 'rank%d.npz' % distribution.rank), **arrays)


if __name__ == '__main__':
    main()
