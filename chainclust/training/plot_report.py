"""Chainer's PlotReport, drawing at most every few seconds instead of at every point."""
import os
import time
import warnings

from chainer.training import extensions
import numpy

from chainclust.io import atomic_path


class PlotReport(extensions.PlotReport):
    """:class:`chainer.training.extensions.PlotReport` with the drawing throttled.

    Points are recorded at every ``trigger`` as Chainer records them (the
    mean of each key over the interval, kept in snapshots); the figure is
    drawn once ``min_interval`` seconds of training have passed, again each
    time as long has passed since the last drawing, and always when training
    ends or stops. The interval grows with the cost of a drawing, so that
    drawing takes at most ``max_share`` of the training time: Matplotlib takes
    about 0.2 s a figure (0.5 s more for its import at the first), so a phase
    that logs every iteration spent most of its time drawing with Chainer's
    PlotReport, and a figure at the first point of a short phase cost a tenth
    of it. The PNG is written atomically (a reader never sees half a file).

    Args:
        min_interval (float): seconds before the first drawing and between two.
        max_share (float): the largest share of the time spent drawing.
        Other arguments are PlotReport's (``postprocess`` is not supported).
    """

    def __init__(self, y_keys, x_key='iteration', trigger=(1, 'epoch'), file_name='plot.png',
                 min_interval=10.0, max_share=0.02, **kwargs):
        if kwargs.get('postprocess') is not None:
            raise TypeError('chainclust.training.plot_report.PlotReport takes no postprocess')
        super(PlotReport, self).__init__(y_keys, x_key, trigger, file_name=file_name, **kwargs)
        self.min_interval, self.max_share = float(min_interval), float(max_share)
        self._next_draw = None
        self._stale = False
        self._out = None

    def initialize(self, trainer):
        self._next_draw = time.monotonic() + self.min_interval

    def __call__(self, trainer):
        keys, summary = self._y_keys, self._summary
        summary.add({k: trainer.observation[k] for k in keys if k in trainer.observation})
        if not (trainer.is_before_training or self._trigger(trainer)):
            return
        stats = {name: float(value) for name, value in summary.compute_mean().items()}
        stats['epoch'], stats['iteration'] = trainer.updater.epoch, trainer.updater.iteration
        for k in keys:
            if k in stats:
                self._data[k].append((stats[self._x_key], stats[k]))
        self._init_summary()
        self._out, self._stale = trainer.out, True
        if self._next_draw is None:  # called without initialize
            self.initialize(trainer)
        start = time.monotonic()
        if start >= self._next_draw:
            self.draw()
            spent = time.monotonic() - start
            self._next_draw = start + max(self.min_interval, spent / self.max_share)

    def finalize(self):
        """Draw the last points. Runs in the Trainer's ``finally``: a failure to draw is
        a warning, so it never hides the error that ended training."""
        if not self._stale:
            return
        try:
            self.draw()
        except Exception as error:  # noqa: BLE001 - a figure is a by-product
            warnings.warn('%s could not be drawn: %s: %s'
                          % (self._file_name, type(error).__name__, error))

    def draw(self):
        """Write the figure of every point recorded so far."""
        import matplotlib.pyplot as plt
        figure = plt.figure()
        try:
            axes = figure.add_subplot(111)
            axes.set_xlabel(self._x_key)
            if self._grid:
                axes.grid()
            for k in self._y_keys:
                if self._data[k]:
                    xy = numpy.array(self._data[k])
                    axes.plot(xy[:, 0], xy[:, 1], marker=self._marker, label=k)
            if axes.has_data():
                legend = axes.legend(bbox_to_anchor=(1.05, 1), loc=2, borderaxespad=0.)
                with atomic_path(os.path.join(self._out, self._file_name)) as tmp:
                    figure.savefig(tmp, format='png', bbox_extra_artists=(legend,),
                                   bbox_inches='tight')
        finally:
            plt.close(figure)
        self._stale = False
