"""Make Chainer 7.8.1 import and run on today's Python and NumPy.

Imported for its side effects, before :mod:`chainer`, by every chainclust entry
point (``import chainclust`` does it first). It only adds names that newer
releases removed; it never replaces anything that still exists.

* NumPy 2 removed ``np.sctypes`` (read at import by
  ``chainer/functions/array/as_strided.py``).
* NumPy 1.24 removed the ``np.float``/``np.int``/``np.bool``... aliases (used by
  ``F.resize_images`` among others).
* setuptools 81 removed ``pkg_resources``, which ``chainer._environment_check``
  and ``chainer.testing`` import; a minimal stand-in is installed only when the
  real module is missing.
* Python 3.12 has no ``numpy.distutils``; Chainer imports it on macOS only, and
  a stub module keeps that path alive.
"""
import builtins
import importlib.util
import importlib.metadata
import sys
import types
import warnings

import numpy


def _patch_numpy():
    if not hasattr(numpy, 'sctypes'):
        numpy.sctypes = {
            'int': [numpy.int8, numpy.int16, numpy.int32, numpy.int64],
            'uint': [numpy.uint8, numpy.uint16, numpy.uint32, numpy.uint64],
            'float': [numpy.float16, numpy.float32, numpy.float64],
            'complex': [numpy.complex64, numpy.complex128],
            'others': [bool, object, bytes, str, numpy.void],
        }
    for alias, target in (('float', builtins.float), ('int', builtins.int),
                          ('bool', builtins.bool), ('complex', builtins.complex),
                          ('object', builtins.object), ('str', builtins.str)):
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            present = alias in numpy.__dict__
        if not present:
            setattr(numpy, alias, target)


class _DistributionNotFound(Exception):
    pass


class _VersionConflict(Exception):
    pass


class _ResolutionError(Exception):
    pass


class _Distribution(object):
    def __init__(self, name, version):
        self.project_name = name
        self.key = name.lower()
        self.version = version


def _get_distribution(name):
    try:
        return _Distribution(name, importlib.metadata.version(name))
    except importlib.metadata.PackageNotFoundError:
        raise _DistributionNotFound(name)


def _require(*requirements):
    return []


class _WorkingSet(object):
    def __init__(self, *args, **kwargs):
        self._dists = [
            _Distribution(d.metadata['Name'] or '', d.version)
            for d in importlib.metadata.distributions()]

    def __iter__(self):
        return iter(self._dists)


def _patch_pkg_resources():
    try:
        import pkg_resources  # NOQA: the real one, when setuptools < 81
        return
    except ImportError:
        pass
    module = types.ModuleType('pkg_resources')
    module.get_distribution = _get_distribution
    module.require = _require
    module.DistributionNotFound = _DistributionNotFound
    module.VersionConflict = _VersionConflict
    module.ResolutionError = _ResolutionError
    module.WorkingSet = _WorkingSet
    module.working_set = _WorkingSet()
    sys.modules['pkg_resources'] = module


def _patch_numpy_distutils():
    if importlib.util.find_spec('numpy.distutils') is None:
        stub = types.ModuleType('numpy.distutils')
        stub.system_info = types.ModuleType('numpy.distutils.system_info')
        sys.modules.setdefault('numpy.distutils', stub)
        sys.modules.setdefault('numpy.distutils.system_info', stub.system_info)


_patch_numpy()
with warnings.catch_warnings():
    warnings.simplefilter('ignore')
    _patch_pkg_resources()
_patch_numpy_distutils()
