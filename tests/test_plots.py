"""Figure helpers: what they choose to draw."""
import numpy

from chainclust import plots


def test_cluster_examples_span_each_cluster_not_its_first_members(monkeypatch):
    drawn = {}
    monkeypatch.setattr(plots, 'image_grid_png',
                        lambda rows, names, shape, path: drawn.update(rows=rows, names=names))
    images = numpy.arange(30, dtype=numpy.float32)[:, None] * numpy.ones((30, 4))
    labels = numpy.array([0] * 20 + [1] * 7 + [2] * 3)  # sorted, as a dataset ordered by class
    plots.cluster_examples_png(images, labels, (2, 2), 'unused.png', per_row=5)
    assert drawn['names'] == ['0 (20)', '1 (7)', '2 (3)']
    first, second, third = (row[:, 0] for row in drawn['rows'])
    assert first[0] == 0 and first[-1] == 19 and len(set(first)) == 5  # spread over 0-19
    assert second[0] == 20 and second[-1] == 26 and len(set(second)) == 5
    assert list(third[:3]) == [27, 28, 29] and len(third) == 5  # padded with blanks
