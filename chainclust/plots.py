"""Figures written into result folders (matplotlib's Agg canvas, atomic writes).

Grey images are drawn from flat rows; every function takes the path of the
PNG to write and returns nothing.
"""
import numpy

from chainclust.io import atomic_path


def save_figure(figure, path):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    FigureCanvasAgg(figure)
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format='png', dpi=80)


def usage_histogram_png(counts, path, title):
    """A bar chart of how many samples each code received."""
    from matplotlib.figure import Figure
    figure = Figure(figsize=(8, 3))
    axes = figure.add_subplot(1, 1, 1)
    axes.bar(numpy.arange(len(counts)), counts, width=1.0)
    axes.set_xlabel('code')
    axes.set_ylabel('samples')
    axes.set_title('%s: %d of %d codes used' % (title, int((counts > 0).sum()), len(counts)))
    save_figure(figure, path)


def image_grid_png(rows, names, image_shape, path):
    """Rows of images (each ``(n, H*W)``), one labelled row per entry of ``names``."""
    from matplotlib.figure import Figure
    n = rows[0].shape[0]
    figure = Figure(figsize=(n * 0.6, len(rows) * 0.7))
    low = min(float(images.min()) for images in rows)
    high = max(float(images.max()) for images in rows)
    for r, (images, name) in enumerate(zip(rows, names)):
        for c in range(n):
            axes = figure.add_subplot(len(rows), n, r * n + c + 1)
            axes.imshow(images[c].reshape(image_shape), cmap='gray', vmin=low, vmax=high)
            axes.set_xticks([])
            axes.set_yticks([])
            if c == 0:
                axes.set_ylabel(name, fontsize=6)
    save_figure(figure, path)


def scatter_png(points, colours, path, title, colour_name='cluster', n_colours=None):
    """A 2-D scatter of ``points`` ``(N, 2)`` coloured by integer ``colours`` ``(N,)``.

    ``n_colours``: how many values ``colours`` can take (default: its maximum + 1).
    """
    from matplotlib.figure import Figure
    figure = Figure(figsize=(5.5, 5))
    axes = figure.add_subplot(1, 1, 1)
    colours = numpy.asarray(colours)
    n = int(n_colours or colours.max() + 1)
    cmap = 'tab10' if n <= 10 else 'tab20' if n <= 20 else 'gist_ncar'
    shown = axes.scatter(points[:, 0], points[:, 1], c=colours, s=3, cmap=cmap,
                         vmin=-0.5, vmax=n - 0.5)
    figure.colorbar(shown, ax=axes, label=colour_name)
    axes.set_title(title, fontsize=9)
    save_figure(figure, path)


def project_2d(points):
    """``(N, d)`` -> ``(N, 2)``: the points themselves when d <= 2, else their top-2 PCA."""
    points = numpy.asarray(points, dtype=numpy.float64)
    if points.shape[1] == 1:
        return numpy.hstack([points, numpy.zeros_like(points)])
    if points.shape[1] == 2:
        return points
    centred = points - points.mean(axis=0)
    _, _, vt = numpy.linalg.svd(centred, full_matrices=False)
    return centred @ vt[:2].T


def grey_image_shape(sample_shape):
    """``(H, W)`` when samples of ``sample_shape`` are grey images, else ``None``.

    Grey images are ``(H, W)``, ``(H, W, 1)`` or ``(1, H, W)`` with H, W >= 2.
    """
    shape = tuple(int(s) for s in sample_shape)
    if len(shape) == 3 and shape[2] == 1:
        shape = shape[:2]
    elif len(shape) == 3 and shape[0] == 1:
        shape = shape[1:]
    return shape if len(shape) == 2 and min(shape) >= 2 else None


def heatmap_png(matrix, path, title, xlabel='', ylabel='', annotate=None):
    """A matrix as a heat map (e.g. IIC's joint P or a confusion matrix).

    Cells are annotated with their values when ``annotate`` is a format such as
    ``'%d'`` and the matrix is at most 20 x 20.
    """
    from matplotlib.figure import Figure
    matrix = numpy.asarray(matrix)
    rows, cols = matrix.shape
    figure = Figure(figsize=(min(2 + 0.45 * cols, 14), min(1.5 + 0.4 * rows, 14)))
    axes = figure.add_subplot(1, 1, 1)
    shown = axes.imshow(matrix, cmap='viridis', aspect='auto')
    figure.colorbar(shown, ax=axes)
    if annotate and rows <= 20 and cols <= 20:
        top = matrix.max() if matrix.size else 0
        for i in range(rows):
            for j in range(cols):
                axes.text(j, i, annotate % matrix[i, j], ha='center', va='center', fontsize=6,
                          color='black' if matrix[i, j] > 0.6 * top else 'white')
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.set_title(title, fontsize=9)
    save_figure(figure, path)


def cluster_examples_png(images, labels, image_shape, path, per_row=10, max_rows=60):
    """A grid of example images per cluster: one row per non-empty cluster.

    Args:
        images (numpy.ndarray): ``(N, ...)`` grey images (any float or int type).
        labels (numpy.ndarray): ``(N,)`` cluster of each image.
        image_shape (tuple): ``(H, W)``.
        per_row (int): examples per cluster, evenly spaced over its members in
            their order (data sorted by class shows the cluster's mix, not its
            first class); fewer if the cluster is smaller.
        max_rows (int): clusters shown at most (the largest).
    """
    counts = numpy.bincount(labels)
    order = [k for k in numpy.argsort(-counts, kind='stable') if counts[k]][:max_rows]
    flat = numpy.asarray(images, dtype=numpy.float32).reshape(len(images), -1)
    rows, names = [], []
    for k in order:
        members = flat[labels == k]
        members = members[numpy.unique(numpy.linspace(0, len(members) - 1, per_row).astype(int))]
        if len(members) < per_row:  # pad with blank images
            members = numpy.vstack([members, numpy.full((per_row - len(members),
                                                         flat.shape[1]), flat.min())])
        rows.append(members)
        names.append('%d (%d)' % (k, counts[k]))
    image_grid_png(rows, names, image_shape, path)


def scatter_panels_png(panels, colours, path, colour_name='label'):
    """One 2-D scatter per ``(title, points (N, 2))`` of ``panels``, all coloured by
    the same integer ``colours`` ``(N,)``, in a grid of up to three columns."""
    from matplotlib.figure import Figure
    columns = min(3, len(panels))
    rows = (len(panels) + columns - 1) // columns
    figure = Figure(figsize=(4 * columns, 3.8 * rows))
    colours = numpy.asarray(colours)
    n = int(colours.max()) + 1
    cmap = 'tab10' if n <= 10 else 'tab20' if n <= 20 else 'gist_ncar'
    for i, (title, points) in enumerate(panels):
        axes = figure.add_subplot(rows, columns, i + 1)
        shown = axes.scatter(points[:, 0], points[:, 1], c=colours, s=2, cmap=cmap,
                             vmin=-0.5, vmax=n - 0.5)
        axes.set_title(title, fontsize=9)
        axes.set_xticks([])
        axes.set_yticks([])
    figure.colorbar(shown, ax=figure.axes, label=colour_name, shrink=0.6)
    save_figure(figure, path)


def roc_png(curves, path, title):
    """ROC curves, one per ``(name, fpr, tpr, auc)`` of ``curves``."""
    from matplotlib.figure import Figure
    figure = Figure(figsize=(5.5, 5))
    axes = figure.add_subplot(1, 1, 1)
    for name, fpr, tpr, auc in curves:
        axes.plot(fpr, tpr, label='%s (AUC %.3f)' % (name, auc), linewidth=1)
    axes.plot([0, 1], [0, 1], color='grey', linestyle=':', linewidth=1)
    axes.set_xlabel('false positive rate')
    axes.set_ylabel('true positive rate')
    axes.set_title(title, fontsize=9)
    axes.legend(fontsize=7, loc='lower right')
    save_figure(figure, path)
