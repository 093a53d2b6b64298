"""Several independent starts of a network, the one with the lowest loss goes on.

Methods whose training lands in a local optimum that depends on the initial
weights (IIC, GMVAE) take ``n_init`` and ``init_epochs`` as k-means takes
``n_init``: each start trains ``init_epochs`` epochs from its own initial
weights in its own phase folder (``start0``, ``start1``, ...), and the start
whose last logged epoch has the lowest ``main/loss`` continues for the
remaining ``epochs - init_epochs`` in ``train`` with a fresh optimizer.
"""
import json
import os

import numpy

from chainclust.estimators.base import positive_int

PARAMETER_CONSTRAINTS = dict(n_init=positive_int(), init_epochs=positive_int())


class MultiStartMixin(object):
    """For a :class:`~chainclust.estimators.base.ClusteringEstimator` with ``n_init``,
    ``init_epochs`` and ``epochs`` and a method
    ``_train_phase(run, net, xf, y, name, epochs, extra) -> Phase``.

    Sets ``start_losses_`` (each start's last loss, or None with one start).
    """

    def _check_starts(self):
        if self.n_init > 1 and self.init_epochs >= self.epochs:
            raise ValueError('init_epochs (%d) must be below epochs (%d) when n_init > 1'
                             % (self.init_epochs, self.epochs))

    def _train_starts(self, run, net, xf, y):
        """Train ``net`` (the chosen start's weights end in it); returns the last phase."""
        self.start_losses_ = None
        if self.n_init == 1:
            return self._train_phase(run, net, xf, y, 'train', self.epochs, {})
        candidates = []
        for i in range(self.n_init):
            start = net if i == 0 else self._restart(run, net, i)
            phase = self._train_phase(run, start, xf, y, 'start%d' % i, self.init_epochs,
                                      {'n_init': self.n_init})
            candidates.append((start, last_log_entry(run, phase)))
        # rank 0 reads the logs; every rank continues the same start
        best = run.distribution.root_computes(
            lambda: int(numpy.argmin([entry['main/loss'] for _, entry in candidates])))
        self.start_losses_ = [entry['main/loss'] for _, entry in candidates] \
            if run.distribution.is_root else None
        if candidates[best][0] is not net:
            net.copyparams(candidates[best][0], copy_persistent=True)
            self._copy_start_state(candidates[best][0], net)
        return self._train_phase(run, net, xf, y, 'train', self.epochs - self.init_epochs,
                                 {'n_init': self.n_init, 'start': best})

    def _copy_start_state(self, source, net):
        """Copy what ``copyparams`` does not from the chosen start ``source`` to ``net``."""

    def _restart(self, run, net, i):
        """A net with start ``i``'s own initial weights and ``net``'s normalisation."""
        other = self._build_net(run.random_state('init%d' % i))
        other.normalize.copyparams(net.normalize, copy_persistent=True)
        other.to_device(run.device)
        return other


def last_log_entry(run, phase):
    """The last entry of ``phase``'s LogReport file on rank 0 (``{}`` elsewhere or without one)."""
    if not run.distribution.is_root:
        return {}
    log = os.path.join(run.out, phase.name, 'log')
    if not os.path.exists(log):
        return {}
    with open(log) as f:
        entries = json.load(f)
    return entries[-1] if entries else {}
