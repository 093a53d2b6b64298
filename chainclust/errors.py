"""Exceptions that chainclust raises for problems a user can fix.

The base classes live in :mod:`chainclust_runtime.errors` so that the
Chainer-free runtime and the trainer share one hierarchy.
"""
from sklearn.exceptions import NotFittedError as _SklearnNotFittedError
from sklearn.utils._param_validation import InvalidParameterError

from chainclust_runtime.errors import ChainclustError, DataError, ModelFileError  # NOQA


class NotFittedError(ChainclustError, _SklearnNotFittedError):
    """An estimator was used before ``fit``."""


class ResumeError(ChainclustError):
    """A result folder holds a phase trained with other data or settings."""


class RunLockedError(ChainclustError):
    """Another process is training into the same result folder."""


class TrainingDivergedError(ChainclustError):
    """A loss term or a parameter became NaN or infinite during training."""


class ParameterError(ChainclustError, InvalidParameterError):
    """An estimator parameter is invalid (alone, or for the data it is given)."""
