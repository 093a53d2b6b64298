"""Chainer device specifiers, checked before any work starts."""
import re

import chainer

from chainclust.errors import ChainclustError

VALID_FORMS = "'@numpy' (CPU), '@cupy:N' (CUDA GPU N, needs CuPy) or '@intel64' (needs iDeep)"


class DeviceError(ChainclustError):
    """A device specifier is malformed or names a device this machine lacks."""


def get_device(spec, option='device'):
    """The Chainer device for ``spec``, or a one-line :class:`DeviceError`.

    Args:
        spec (str or chainer.backend.Device): ``'@numpy'``, ``'@cupy:N'``,
            ``'@intel64'``, or a device object.
        option (str): how the message names the setting (``'device'`` for the
            Python API, ``'--device'`` on the command line).
    """
    if isinstance(spec, chainer.backend.Device):
        return spec
    if not isinstance(spec, str):
        raise DeviceError('%s must be a string such as %s, got %r'
                          % (option, VALID_FORMS, spec))
    cupy = re.fullmatch(r'@cupy:(\d+)', spec)
    if cupy is None and spec not in ('@numpy', '@intel64'):
        raise DeviceError('%s %r is not a device; use %s' % (option, spec, VALID_FORMS))
    if cupy is not None:
        if not chainer.backends.cuda.available:
            raise DeviceError('%s %r needs a CUDA GPU with CuPy, and this machine has none '
                              '(CuPy not installed or no GPU); use %s'
                              % (option, spec, VALID_FORMS))
        count = chainer.backends.cuda.cupy.cuda.runtime.getDeviceCount()
        if int(cupy.group(1)) >= count:
            raise DeviceError('%s %r: this machine has %d GPU(s), numbered from 0'
                              % (option, spec, count))
    if spec == '@intel64' and not chainer.backends.intel64.is_ideep_available():
        raise DeviceError('%s %r needs iDeep (pip install ideep4py); use %s'
                          % (option, spec, VALID_FORMS))
    return chainer.get_device(spec)
