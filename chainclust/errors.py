"""Exceptions that chainclust raises for problems a user can fix.

The base classes live in :mod:`chainclust_runtime.errors` so that the
Chainer-free runtime and the trainer share one hierarchy.
"""
from chainclust_runtime.errors import ChainclustError, DataError, ModelFileError  # NOQA


class NotFittedError(ChainclustError, AttributeError):
    """An estimator was used before ``fit``."""
