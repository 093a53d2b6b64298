"""chainclust: deep unsupervised clustering in Chainer, deployable through ONNX."""
from chainclust import _compat  # NOQA: must run before chainer is imported
from chainclust._version import __version__  # NOQA
from chainclust.errors import ChainclustError, DataError, ModelFileError  # NOQA
from chainclust.estimators import Autoencoder, DEC, GMVAE, IIC, VQAE  # NOQA
