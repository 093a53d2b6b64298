"""Clustering metrics of the network during training, for monitoring only."""
import chainer
from chainer.training import extension

from chainclust import metrics
from chainclust.inference import batched_forward

METRIC_KEYS = ('acc', 'nmi', 'ari', 'many_to_one')


class ClusterMetricsReport(extension.Extension):
    """Every ``trigger``, label ``x`` with the network and report its metrics against ``y``.

    Reports ``acc`` (Hungarian), ``nmi``, ``ari`` and ``many_to_one`` (the
    Makhzani protocol: each cluster takes its most common label) under
    ``prefix`` (``cluster/acc``, ...), for LogReport and the plots. The labels
    never reach the training loss.

    Args:
        net (chainclust.models.ClusteringNet): the network being trained.
        x (numpy.ndarray): raw samples ``(N, ...)`` to label.
        y (numpy.ndarray): their true labels ``(N,)``.
        device: the training device.
        trigger: when to evaluate (default: every epoch).
        prefix (str): key prefix of the reported values.
    """

    root_only = True  # writes files or reports for the log: rank 0 alone runs it

    priority = extension.PRIORITY_WRITER

    def __init__(self, net, x, y, device, trigger=(1, 'epoch'), prefix='cluster'):
        self.trigger = trigger
        self._net, self._x, self._y, self._device = net, x, y, device
        self._prefix = prefix

    def keys(self):
        """The reported keys, e.g. ``['cluster/acc', ...]``."""
        return self.keys_for(self._prefix)

    @staticmethod
    def keys_for(prefix='cluster'):
        """The keys an instance with this ``prefix`` reports."""
        return ['%s/%s' % (prefix, k) for k in METRIC_KEYS]

    def __call__(self, trainer):
        score = batched_forward(self._net.forward, self._x, device=self._device)
        values = metrics.evaluate(self._y, self._net.labels_from(score))
        chainer.report({'%s/%s' % (self._prefix, k): values[k] for k in METRIC_KEYS})
