"""Validation of sample and label arrays (NumPy only)."""
import numpy

from chainclust_runtime.errors import DataError


FLOAT32_MAX = float(numpy.finfo(numpy.float32).max)


def check_samples(x, name='data', sample_shape=None, first_row=0):
    """Validate a sample array and return it; raise :class:`DataError` if unusable.

    Byte order and dtype are normalised here, once for every path: non-native
    (big-endian) arrays become native, bool becomes float32 0/1. Models
    compute in float32, so a float value must be finite **after** the
    cast: 1e39 is finite in float64 and infinite in float32.

    Args:
        x: array-like ``(N, *sample_shape)`` of real numbers.
        name (str): how the message refers to the data.
        sample_shape (tuple or None): the shape each sample must have.
        first_row (int): the row of ``x[0]`` in the whole file (for chunks), so
            that messages give positions in the file.
    """
    try:
        x = numpy.asarray(x)
    except ValueError as error:  # ragged nested lists
        raise DataError('%s must be a numeric array with one shape for every sample (%s)'
                        % (name, error))
    if x.dtype == object or not (numpy.issubdtype(x.dtype, numpy.number)
                                 or x.dtype == bool):
        raise DataError('%s must be numeric, got dtype %s' % (name, x.dtype))
    if numpy.issubdtype(x.dtype, numpy.complexfloating):
        raise DataError('%s must be real, got dtype %s' % (name, x.dtype))
    if x.ndim < 2:
        raise DataError('%s must have shape (n_samples, n_features...), got %s'
                        % (name, x.shape))
    if x.dtype == bool:
        x = x.astype(numpy.float32)  # 0/1 values; bool cannot be a model input
    elif not x.dtype.isnative:
        x = x.astype(x.dtype.newbyteorder('='))  # big-endian files on little-endian CPUs
    if x.shape[0] == 0 or x.size == 0:
        raise DataError('%s is empty (shape %s)' % (name, x.shape))
    if sample_shape is not None and tuple(x.shape[1:]) != tuple(sample_shape):
        raise DataError('%s has samples of shape %s, expected %s'
                        % (name, tuple(x.shape[1:]), tuple(sample_shape)))
    if numpy.issubdtype(x.dtype, numpy.floating):
        if x.dtype.itemsize <= 4:  # float16/float32: only NaN and inf
            bad = ~numpy.isfinite(x)
        else:
            with numpy.errstate(invalid='ignore'):
                bad = ~(numpy.abs(x) <= FLOAT32_MAX)  # NaN, inf and beyond float32
        if bad.any():
            first = int(numpy.argwhere(bad)[0][0])
            raise DataError('%s contains %d NaN/inf values or values beyond the float32 range '
                            '(first at sample %d: %r)'
                            % (name, int(bad.sum()), first_row + first,
                               float(x[first][bad[first]][0])))
    return x


def check_model_input(x, input_dtype, name='X'):
    """``x`` (checked by :func:`check_samples`) cast to the dtype a model was trained on.

    A model trained on integers (e.g. uint8 grey levels) accepts only whole
    values in that dtype's range: grey levels divided by 255 would otherwise be
    silently truncated to 0. The trainer and the runtime share this check.
    """
    input_dtype = numpy.dtype(input_dtype)
    if x.dtype == input_dtype:
        return x
    if numpy.issubdtype(input_dtype, numpy.integer):
        info = numpy.iinfo(input_dtype)
        whole = not numpy.issubdtype(x.dtype, numpy.floating) or \
            bool((x == numpy.rint(x)).all())
        if not whole or x.min() < info.min or x.max() > info.max:
            raise DataError('%s must hold whole values in %d..%d like the %s training data '
                            '(e.g. grey levels, not levels divided by 255)'
                            % (name, info.min, info.max, input_dtype))
    return x.astype(input_dtype)


def check_labels(y, n_samples, name='labels'):
    """Validate class labels for ``n_samples`` samples; return them as int64."""
    y = numpy.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise DataError('%s must be 1-D, got shape %s' % (name, y.shape))
    if len(y) != n_samples:
        raise DataError('%s has %d entries but the data has %d samples'
                        % (name, len(y), n_samples))
    if numpy.issubdtype(y.dtype, numpy.floating):
        if not numpy.isfinite(y).all() or (y != numpy.round(y)).any():
            raise DataError('%s must be integers' % name)
    elif not numpy.issubdtype(y.dtype, numpy.integer):
        raise DataError('%s must be integers, got dtype %s' % (name, y.dtype))
    y = y.astype(numpy.int64)
    if len(y) and y.min() < 0:
        raise DataError('%s must be non-negative' % name)
    return y
