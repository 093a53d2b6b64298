"""Exceptions for problems a user can fix; shared by the runtime and chainclust.

Every message names the problem in one line; the command lines print it
without a traceback. They subclass :class:`ValueError`.
"""


class ChainclustError(ValueError):
    """Base class of the errors chainclust reports to users."""


class DataError(ChainclustError):
    """Input data is missing, unreadable, empty, non-finite or mis-shaped."""


class ModelFileError(ChainclustError):
    """A model file or result folder is missing, corrupt, foreign or of the wrong kind."""
