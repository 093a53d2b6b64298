"""Exceptions that chainclust raises for problems a user can fix.

Every message names the problem in one line; the CLI prints it without a
traceback. They subclass :class:`ValueError` so that scikit-learn-style callers
that catch ``ValueError`` keep working.
"""


class ChainclustError(ValueError):
    """Base class of the errors chainclust reports to users."""


class DataError(ChainclustError):
    """Input data is missing, unreadable, empty, non-finite or mis-shaped."""


class ModelFileError(ChainclustError):
    """A model or result folder is missing, corrupt, foreign or of the wrong kind."""


class NotFittedError(ChainclustError, AttributeError):
    """An estimator was used before ``fit``."""
