"""Validation of sample and label arrays (NumPy only)."""
import numpy

from chainclust_runtime.errors import DataError


def check_samples(x, name='data', sample_shape=None):
    """Validate a sample array and return it; raise :class:`DataError` if unusable.

    Args:
        x: array-like ``(N, *sample_shape)`` of real numbers.
        name (str): how the message refers to the data.
        sample_shape (tuple or None): the shape each sample must have.
    """
    x = numpy.asarray(x)
    if x.dtype == object or not (numpy.issubdtype(x.dtype, numpy.number)
                                 or x.dtype == bool):
        raise DataError('%s must be numeric, got dtype %s' % (name, x.dtype))
    if numpy.issubdtype(x.dtype, numpy.complexfloating):
        raise DataError('%s must be real, got dtype %s' % (name, x.dtype))
    if x.ndim < 2:
        raise DataError('%s must have shape (n_samples, n_features...), got %s'
                        % (name, x.shape))
    if x.shape[0] == 0 or x.size == 0:
        raise DataError('%s is empty (shape %s)' % (name, x.shape))
    if sample_shape is not None and tuple(x.shape[1:]) != tuple(sample_shape):
        raise DataError('%s has samples of shape %s, expected %s'
                        % (name, tuple(x.shape[1:]), tuple(sample_shape)))
    if numpy.issubdtype(x.dtype, numpy.floating):
        bad = ~numpy.isfinite(x)
        if bad.any():
            first = numpy.argwhere(bad)[0]
            raise DataError('%s contains %d NaN/inf values (first at sample %d)'
                            % (name, int(bad.sum()), int(first[0])))
    return x


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
