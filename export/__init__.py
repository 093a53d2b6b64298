"""Chainer graph -> ONNX: chainclust's exporter (needs chainer and onnx)."""
import chainclust  # NOQA: compat shims before chainer

from chainclust_export.errors import ExportError, UnsupportedNodeError  # NOQA
from chainclust_export.exporter import assigner_model, export_onnx, function_model  # NOQA
