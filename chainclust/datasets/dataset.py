"""The in-memory dataset every loader returns, and its validation."""
import collections

import numpy

from chainclust_runtime.validation import check_labels, check_samples  # NOQA


class Dataset(collections.namedtuple('Dataset', ['x', 'y', 'name'])):
    """Samples with optional labels.

    Attributes:
        x (numpy.ndarray): ``(N, *sample_shape)``, a real numeric dtype.
        y (numpy.ndarray or None): int64 ``(N,)`` class labels, for evaluation only.
        name (str): where the data came from (``'mnist'`` or a path).
    """
    __slots__ = ()

    def subset(self, n, random_state=None):
        """A random subset of ``n`` samples (all of them when ``n >= N``)."""
        if n is None or n >= len(self.x):
            return self
        rng = numpy.random.RandomState(random_state)
        idx = numpy.sort(rng.choice(len(self.x), n, replace=False))
        y = None if self.y is None else self.y[idx]
        return Dataset(self.x[idx], y, self.name)
