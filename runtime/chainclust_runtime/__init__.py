"""chainclust's runtime: label data with an exported ONNX model.

Needs only NumPy and onnxruntime (Pillow to read folders of images); never
imports Chainer or CuPy.
"""
from chainclust_runtime.assigner import Assigner  # NOQA
from chainclust_runtime.errors import ChainclustError, DataError, ModelFileError  # NOQA

__version__ = '0.1.0'
