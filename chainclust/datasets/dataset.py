"""The in-memory dataset every loader returns, and its validation."""
import collections

import numpy

from chainclust_runtime.validation import check_labels, check_samples  # NOQA


class Dataset(collections.namedtuple('Dataset', ['x', 'y', 'name', 'origin'],
                                     defaults=(None,))):
    """Samples with optional labels.

    Attributes:
        x (numpy.ndarray): ``(N, *sample_shape)``, a real numeric dtype.
        y (numpy.ndarray or None): int64 ``(N,)`` class labels, for evaluation only.
        name (str): where the data came from (``'mnist'`` or a path).
        origin (dict or None): how to load the same data again (see
            :func:`chainclust.datasets.reload`): ``source``, ``labels``,
            ``label_column``, ``limit`` and ``seed``. Estimators record it.
    """
    __slots__ = ()

    def subset(self, n, random_state=None):
        """A random subset of ``n`` samples (all of them when ``n >= N``)."""
        origin = None if self.origin is None else dict(self.origin, limit=n,
                                                       seed=random_state)
        if n is None or n >= len(self.x):
            return self._replace(origin=origin)
        rng = numpy.random.RandomState(random_state)
        idx = numpy.sort(rng.choice(len(self.x), n, replace=False))
        y = None if self.y is None else self.y[idx]
        return Dataset(self.x[idx], y, self.name, origin)
