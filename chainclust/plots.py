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


def scatter_png(points, colours, path, title, colour_name='cluster'):
    """A 2-D scatter of ``points`` ``(N, 2)`` coloured by integer ``colours`` ``(N,)``."""
    from matplotlib.figure import Figure
    figure = Figure(figsize=(5.5, 5))
    axes = figure.add_subplot(1, 1, 1)
    colours = numpy.asarray(colours)
    n = max(int(colours.max()) + 1, 10)
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
