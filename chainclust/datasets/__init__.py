"""Data: embedded datasets, users' files, validation."""
from chainclust.datasets.dataset import Dataset, check_labels, check_samples  # NOQA
from chainclust.datasets.embedded import load_digits, load_mnist, load_pinwheel  # NOQA
from chainclust.datasets.synthetic import make_pinwheel  # NOQA
from chainclust.datasets.loaders import load, load_labels, reload  # NOQA
