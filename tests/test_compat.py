"""The shims that let Chainer 7.8.1 run on today's NumPy, Python and setuptools."""
import importlib.metadata
import subprocess
import sys

import numpy
import pytest

from chainclust import _compat


def test_numpy_names_chainer_needs():
    assert set(numpy.sctypes) >= {'int', 'uint', 'float', 'complex', 'others'}
    assert numpy.float is float and numpy.int is int


def test_pkg_resources_stand_in():
    dist = _compat._get_distribution('numpy')
    assert dist.version == importlib.metadata.version('numpy')
    with pytest.raises(_compat._DistributionNotFound):
        _compat._get_distribution('surely-not-an-installed-distribution')
    names = {d.key for d in _compat._WorkingSet()}
    assert 'numpy' in names


def test_chainer_imports_and_runs_in_a_fresh_interpreter():
    code = ('import chainclust, chainer, chainer.functions as F, numpy; '
            'y = F.resize_images(numpy.ones((1, 1, 2, 2), numpy.float32), (3, 3)); '
            'assert y.shape == (1, 1, 3, 3); print(chainer.__version__)')
    out = subprocess.run([sys.executable, '-c', code], check=True, capture_output=True,
                         text=True)
    assert out.stdout.strip() == '7.8.1'
