import numpy
import pytest

from chainclust import metrics


def test_accuracy_is_permutation_invariant():
    y = numpy.array([0, 0, 1, 1, 2, 2])
    assert metrics.cluster_accuracy(y, numpy.array([2, 2, 0, 0, 1, 1])) == 1.0


def test_accuracy_hand_computed():
    y_true = numpy.array([0, 0, 0, 1, 1, 1])
    y_pred = numpy.array([1, 1, 0, 0, 0, 0])
    # best matching: cluster 1 -> class 0 (2 hits), cluster 0 -> class 1 (3 hits)
    assert metrics.cluster_accuracy(y_true, y_pred) == pytest.approx(5 / 6.)


def test_more_clusters_than_classes():
    y_true = numpy.array([0, 0, 1, 1])
    y_pred = numpy.array([0, 1, 2, 3])
    # one-to-one matching can cover only two of four clusters
    assert metrics.cluster_accuracy(y_true, y_pred) == 0.5
    # each cluster is pure, so many-to-one is perfect
    assert metrics.many_to_one_accuracy(y_true, y_pred) == 1.0


def test_fewer_clusters_than_classes():
    y_true = numpy.array([0, 1, 2, 2, 0])
    y_pred = numpy.array([0, 0, 1, 1, 1])
    # one-to-one: cluster 1 -> class 2 (2 hits), cluster 0 -> class 0 (1 hit)
    assert metrics.cluster_accuracy(y_true, y_pred) == pytest.approx(3 / 5.)
    assert metrics.many_to_one_accuracy(y_true, y_pred) == pytest.approx(3 / 5.)


def test_confusion_matrix_orientation():
    counts = metrics.confusion_matrix([0, 1, 1], [2, 0, 0])
    assert counts.shape == (3, 2)
    assert counts[2, 0] == 1 and counts[0, 1] == 2 and counts.sum() == 3


def test_against_brute_force():
    import itertools
    rng = numpy.random.RandomState(0)
    y_true, y_pred = rng.randint(0, 4, 50), rng.randint(0, 4, 50)
    best = max((numpy.asarray(perm)[y_pred] == y_true).mean()
               for perm in itertools.permutations(range(4)))
    assert metrics.cluster_accuracy(y_true, y_pred) == pytest.approx(best)


def test_nmi_ari_extremes():
    y = numpy.arange(100) % 5
    assert metrics.nmi(y, (y + 1) % 5) == pytest.approx(1.0)
    assert metrics.ari(y, (y + 1) % 5) == pytest.approx(1.0)
    r = numpy.random.RandomState(1).randint(0, 5, 100000)
    assert abs(metrics.ari(numpy.arange(100000) % 5, r)) < 0.01


def test_evaluate_keys():
    assert set(metrics.evaluate([0, 1], [1, 0])) == {'acc', 'nmi', 'ari', 'many_to_one'}


@pytest.mark.parametrize('y_true,y_pred,message', [
    ([0, 1], [0], 'has 2 labels but'),
    ([], [], 'empty'),
    ([0.5, 1], [0, 1], 'integers'),
    ([0, -1], [0, 1], 'negative'),
    ([[0, 1]], [[0, 1]], '1-D'),
])
def test_bad_labels(y_true, y_pred, message):
    with pytest.raises(ValueError, match=message):
        metrics.cluster_accuracy(y_true, y_pred)
