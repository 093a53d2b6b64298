"""Errors the exporter raises."""
from chainclust.errors import ChainclustError


class ExportError(ChainclustError):
    """The model cannot be written as ONNX."""


class UnsupportedNodeError(ExportError):
    """A node of the model has no ONNX converter; the message names it."""
