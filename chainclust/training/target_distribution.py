"""DEC's target distribution and the extension that refreshes it."""
import chainer
from chainer.training import extension
import numpy

from chainclust import metrics


def target_distribution(q):
    """``p_ij = (q_ij^2 / f_j) / sum_j' (q_ij'^2 / f_j')``, ``f_j = sum_i q_ij``.

    Args:
        q (numpy.ndarray): soft assignments ``(N, K)`` of the **whole** dataset.

    Returns:
        numpy.ndarray: ``p`` of the same shape and dtype; rows sum to 1.
    """
    weight = q ** 2 / q.sum(axis=0)
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
    """

    priority = extension.PRIORITY_WRITER

    def __init__(self, predict_proba, x, p, interval, y=None):
        self.trigger = (int(interval), 'iteration')
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
        q = self._predict_proba(self._x)
        self.p[...] = target_distribution(q)
        labels = q.argmax(axis=1)
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
