"""Seeded synthetic data from the papers (no download, no global random state)."""
import numpy

from chainclust.datasets.dataset import Dataset


def make_pinwheel(n_samples=10000, n_classes=5, radial_std=0.3, tangential_std=0.05,
                  rate=0.25, random_state=0):
    """2-D points on ``n_classes`` curved arms (circular arcs) of a pinwheel.

    The synthetic set of GMVAE's section 4.1 (Dilokthanakul et al. 2016), after
    Johnson et al. (2016): each class is a Gaussian blob (``radial_std`` along the
    radius, ``tangential_std`` across it) at distance 1, bent by a rotation that
    grows exponentially with the radius (``rate``), and the classes are rotated
    evenly around the origin.

    Args:
        n_samples (int): points in all; classes get ``n_samples // n_classes``
            each (the remainder goes to the first classes).
        random_state (int or numpy.random.RandomState): seeds the draw.

    Returns:
        Dataset: ``x`` float32 ``(n_samples, 2)``, ``y`` int64 class of each point.
    """
    rng = (random_state if isinstance(random_state, numpy.random.RandomState)
           else numpy.random.RandomState(random_state))
    labels = numpy.arange(n_samples) % n_classes
    features = rng.standard_normal((n_samples, 2)) * [radial_std, tangential_std]
    features[:, 0] += 1.0
    angles = 2 * numpy.pi * labels / n_classes + rate * numpy.exp(features[:, 0])
    cos, sin = numpy.cos(angles), numpy.sin(angles)
    x = numpy.stack([cos * features[:, 0] - sin * features[:, 1],
                     sin * features[:, 0] + cos * features[:, 1]], axis=1)
    order = rng.permutation(n_samples)
    return Dataset((10 * x[order]).astype(numpy.float32), labels[order].astype(numpy.int64),
                   'pinwheel')
