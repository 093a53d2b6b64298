"""DEC's target distribution and the extension that refreshes it."""
import chainer
from chainer.training import extension
import numpy

from chainclust import metrics
from chainclust.distributed import SINGLE


def target_distribution(q, frequencies=None):
    """``p_ij = (q_ij^2 / f_j) / sum_j' (q_ij'^2 / f_j')``, ``f_j = sum_i q_ij``.

    Args:
        q (numpy.ndarray): soft assignments ``(N, K)`` of the **whole** dataset,
            or of a part of it when ``frequencies`` are given.
        frequencies (numpy.ndarray or None): ``f`` ``(K,)`` summed over the whole
            dataset (e.g. over the ranks); ``q.sum(axis=0)`` when ``None``.

    Returns:
        numpy.ndarray: ``p`` of the same shape and dtype; rows sum to 1.
    """
    if frequencies is None:
        frequencies = q.sum(axis=0)
    weight = q ** 2 / frequencies
    return (weight / weight.sum(axis=1, keepdims=True)).astype(q.dtype, copy=False)


class TargetDistributionUpdate(extension.Extension):
    """Every ``interval`` iterations, recompute ``P`` over the whole dataset.

    Writes the new target into ``p`` in place (the training dataset holds the
    same array) and reports ``delta_label``, the fraction of samples whose hard
    label changed since the last update, plus ``acc``/``nmi``/``ari`` when true
    labels are given (for monitoring only). Its state is serialized with the
    trainer, so a resumed run continues with the same target.

    Args:
        predict_proba: callable, samples ``(N, ...)`` -> ``q`` ``(N, K)`` NumPy.
        x (numpy.ndarray): all training samples.
        p (numpy.ndarray): ``(N, K)`` target array, updated in place.
        interval (int): iterations between updates (DEC's update interval).
        y (numpy.ndarray or None): true labels, for the reported metrics.
        distribution (Distribution): on several ranks, each computes ``q`` for
            its share of the samples; the cluster frequencies are summed over
            the ranks (allreduce) and ``p`` and the labels gathered, so every
            rank holds the target of the whole dataset.
    """

    priority = extension.PRIORITY_WRITER

    def __init__(self, predict_proba, x, p, interval, y=None, distribution=SINGLE):
        self.trigger = (int(interval), 'iteration')
        self._distribution = distribution
        self._predict_proba = predict_proba
        self._x, self.p, self._y = x, p, y
        self.labels = numpy.full(len(x), -1, dtype=numpy.int64)
        self.delta_label = 1.0
        self.n_updates = 0

    def initialize(self, trainer):
        if self.n_updates == 0:
            self.update()

    def update(self):
        """Recompute ``p``, the labels and ``delta_label``; return the report."""
        dist = self._distribution
        q = self._predict_proba(self._x[dist.share(len(self._x))])
        frequencies = dist.allreduce_sum(q.sum(axis=0)).astype(q.dtype)
        self.p[...] = dist.allgather_rows(target_distribution(q, frequencies))
        labels = dist.allgather_rows(q.argmax(axis=1))
        self.delta_label = float((labels != self.labels).mean())
        self.labels = labels
        self.n_updates += 1
        report = {'delta_label': self.delta_label}
        if self._y is not None:
            report.update(metrics.evaluate(self._y, labels))
        return report

    def __call__(self, trainer):
        chainer.report(self.update())

    def serialize(self, serializer):
        self.p[...] = serializer('p', self.p)
        self.labels = serializer('labels', self.labels)
        self.delta_label = float(serializer('delta_label', self.delta_label))
        self.n_updates = int(serializer('n_updates', self.n_updates))
