"""Load the embedded datasets or users' files as a validated :class:`Dataset`.

The file formats are read by :mod:`chainclust_runtime.readers` (shared with the
Chainer-free runtime): ``.npy``, ``.npz``, MNIST IDX (raw or ``.gz``), CSV/TSV
and folders of images. ``mnist`` and ``digits`` name the embedded datasets.
"""
import os

from chainclust.datasets.dataset import Dataset, check_labels, check_samples
from chainclust.datasets.embedded import EMBEDDED
from chainclust_runtime.readers import read_data, read_labels


def load(source, labels=None, label_column=None):
    """Load samples (and labels, when known) from ``source``.

    Args:
        source (str): ``'mnist'``, ``'digits'`` or a path.
        labels (str or None): a separate labels file (``.npy``, ``.csv``/``.txt``
            with one integer per line, or IDX); overrides labels in ``source``.
        label_column (str or int or None): CSV only; the column (header name or
            0-based index) holding labels, removed from the features.

    Returns:
        Dataset: validated samples ``(N, ...)`` and int64 labels or ``None``.

    Raises:
        DataError: missing file, unknown format, empty or non-finite data,
            ragged rows, inconsistent image sizes, labels of the wrong length.
    """
    source = os.fspath(source)
    if source in EMBEDDED and not os.path.exists(source):
        data = EMBEDDED[source]()
    else:
        x, y = read_data(source, label_column)
        data = Dataset(x, y, source)
    x = check_samples(data.x, name=data.name)
    y = data.y
    if labels is not None:
        y = read_labels(labels)
    if y is not None:
        y = check_labels(y, len(x), name='labels of %s' % data.name)
    origin = {'source': _absolute(source), 'labels': _absolute(labels),
              'label_column': label_column, 'limit': None, 'seed': None}
    return Dataset(x, y, data.name, origin)


def reload(origin):
    """Load the data an estimator recorded (``Dataset.origin``) again."""
    data = load(origin['source'], labels=origin.get('labels'),
                label_column=origin.get('label_column'))
    return data.subset(origin.get('limit'), random_state=origin.get('seed'))


def _absolute(path):
    """An absolute path, or the name of an embedded dataset as it is."""
    if path is None or (path in EMBEDDED and not os.path.exists(path)):
        return path
    return os.path.abspath(os.fspath(path))


load_labels = read_labels
