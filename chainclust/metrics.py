"""Clustering metrics, NumPy/SciPy/scikit-learn only (no Chainer).

All functions take integer label vectors of equal length ``(N,)``; predicted
cluster ids need not share the class ids' range, and the number of clusters may
differ from the number of classes.
"""
import numpy
from scipy.optimize import linear_sum_assignment
from sklearn import metrics as _sk

__all__ = ['confusion_matrix', 'cluster_accuracy', 'many_to_one_accuracy',
           'nmi', 'ari', 'evaluate']


def _check_labels(y_true, y_pred):
    y_true = numpy.asarray(y_true)
    y_pred = numpy.asarray(y_pred)
    if y_true.ndim != 1 or y_pred.ndim != 1:
        raise ValueError('labels must be 1-D, got shapes %s and %s'
                         % (y_true.shape, y_pred.shape))
    if len(y_true) != len(y_pred):
        raise ValueError('y_true has %d labels but y_pred has %d'
                         % (len(y_true), len(y_pred)))
    if len(y_true) == 0:
        raise ValueError('labels are empty')
    for name, y in (('y_true', y_true), ('y_pred', y_pred)):
        if not numpy.issubdtype(y.dtype, numpy.integer):
            raise ValueError('%s must hold integers, got dtype %s' % (name, y.dtype))
        if y.min() < 0:
            raise ValueError('%s holds negative labels' % name)
    return y_true, y_pred


def confusion_matrix(y_true, y_pred):
    """Counts ``C[k, c]`` of samples in cluster ``k`` with class ``c``.

    Returns:
        numpy.ndarray: int64 array of shape ``(max(y_pred)+1, max(y_true)+1)``.
    """
    y_true, y_pred = _check_labels(y_true, y_pred)
    shape = (int(y_pred.max()) + 1, int(y_true.max()) + 1)
    counts = numpy.zeros(shape, dtype=numpy.int64)
    numpy.add.at(counts, (y_pred, y_true), 1)
    return counts


def cluster_accuracy(y_true, y_pred):
    """Unsupervised accuracy: the best one-to-one cluster-to-class matching.

    The Hungarian algorithm on the (rectangular) confusion matrix; when there
    are more clusters than classes, the unmatched clusters count as errors.

    >>> cluster_accuracy([0, 0, 1, 1], [1, 1, 0, 0])
    1.0
    """
    counts = confusion_matrix(y_true, y_pred)
    rows, cols = linear_sum_assignment(-counts)
    return float(counts[rows, cols].sum()) / counts.sum()


def many_to_one_accuracy(y_true, y_pred):
    """Accuracy when each cluster takes the label of its most common member.

    The evaluation of the GMVAE and AAE papers; it grows with the number of
    clusters and equals :func:`cluster_accuracy` when the matching is one-to-one.
    """
    counts = confusion_matrix(y_true, y_pred)
    return float(counts.max(axis=1).sum()) / counts.sum()


def nmi(y_true, y_pred):
    """Normalized mutual information (arithmetic normalisation)."""
    y_true, y_pred = _check_labels(y_true, y_pred)
    return float(_sk.normalized_mutual_info_score(y_true, y_pred))


def ari(y_true, y_pred):
    """Adjusted Rand index."""
    y_true, y_pred = _check_labels(y_true, y_pred)
    return float(_sk.adjusted_rand_score(y_true, y_pred))


def evaluate(y_true, y_pred):
    """All scalar metrics as a dict: ``acc``, ``nmi``, ``ari``, ``many_to_one``."""
    return {'acc': cluster_accuracy(y_true, y_pred),
            'nmi': nmi(y_true, y_pred),
            'ari': ari(y_true, y_pred),
            'many_to_one': many_to_one_accuracy(y_true, y_pred)}


def format_metrics(values):
    """``{'acc': 0.81, ...}`` -> ``'ACC 0.8100  NMI ...'`` (the keys present)."""
    return '  '.join('%s %.4f' % (k.upper(), values[k])
                     for k in ('acc', 'nmi', 'ari', 'many_to_one') if k in values)
