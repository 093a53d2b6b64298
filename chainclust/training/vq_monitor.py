"""Periodic records of VQ-AE training: codebook usage, image grids, TensorBoard."""
import os

import chainer
from chainer.training import extension
import numpy

from chainclust.inference import batched_forward
from chainclust.plots import image_grid_png, usage_histogram_png


class VQMonitor(extension.Extension):
    """Every ``interval`` epochs, record how the codebook is used.

    Reports ``used_codes`` and ``dead_codes`` (codes no training sample
    chose), writes ``usage_epochNNN.png`` and, for image data,
    ``images_epochNNN.png`` (inputs, reconstructions ``D(E)`` and quantized
    reconstructions ``D(Q)`` of fixed samples) into ``out``; with a
    TensorBoard ``writer`` the same go there as a histogram and images.

    Args:
        net (VQAENet): the network.
        x (numpy.ndarray): all training samples (raw, float32).
        out (str): folder for the PNGs.
        interval (int): epochs between records.
        image_shape (tuple or None): ``(H, W)`` when samples are grey images.
        writer: a ``tensorboardX.SummaryWriter`` or ``None``.
        n_images (int): samples in the image grid.
        device: the Chainer device of ``net``.
    """

    root_only = True  # writes files or reports for the log: rank 0 alone runs it

    priority = extension.PRIORITY_WRITER

    def __init__(self, net, x, out, interval, image_shape=None, writer=None,
                 n_images=16, device=None):
        self.trigger = (int(interval), 'epoch')
        self._net, self._x, self._out = net, x, out
        self._image_shape, self._writer, self._device = image_shape, writer, device
        self._sample = x[numpy.linspace(0, len(x) - 1, min(n_images, len(x))).astype(int)]

    def usage(self):
        """Samples per code over the whole dataset, ``(K,)`` int64."""
        distances = batched_forward(self._net, self._x, device=self._device)
        return numpy.bincount(distances.argmin(axis=1),
                              minlength=self._net.codebook.n_codes)

    def __call__(self, trainer):
        epoch, iteration = trainer.updater.epoch, trainer.updater.iteration
        counts = self.usage()
        used = int((counts > 0).sum())
        chainer.report({'used_codes': used, 'dead_codes': len(counts) - used})
        os.makedirs(self._out, exist_ok=True)
        usage_histogram_png(counts, os.path.join(self._out, 'usage_epoch%03d.png' % epoch),
                            'epoch %d' % epoch)
        rows = None
        if self._image_shape is not None:
            rows = self.reconstructions()
            image_grid_png(rows, ['input', 'D(E)', 'D(Q)'], self._image_shape,
                           os.path.join(self._out, 'images_epoch%03d.png' % epoch))
        if self._writer is not None:
            index = numpy.repeat(numpy.arange(len(counts)), counts)
            self._writer.add_histogram('codebook/usage', index, iteration,
                                       bins=min(len(counts), 512))
            self._writer.add_scalar('codebook/used_codes', used, iteration)
            if rows is not None:
                for name, images in zip(('input', 'reconstruction', 'quantized'), rows):
                    grid = images.reshape((-1,) + tuple(self._image_shape))
                    low, high = rows[0].min(), rows[0].max()
                    grid = (grid - low) / max(high - low, 1e-8)
                    self._writer.add_images('images/' + name, grid[:, None].clip(0, 1),
                                            iteration, dataformats='NCHW')

    def reconstructions(self):
        """``[inputs, D(E), D(Q)]`` of the fixed samples, normalised, flattened."""
        net = self._net

        def forward(x):
            xn = net.preprocess(x)
            e = net.encode(xn)
            q, _ = net.codebook(e)
            return chainer.functions.concat(
                (xn, net.autoencoder.decode(e), net.autoencoder.decode(q)))
        out = batched_forward(forward, self._sample, device=self._device)
        return numpy.split(out, 3, axis=1)


class TensorBoardReport(extension.Extension):
    """Every iteration, write the trainer's scalar observations to TensorBoard."""

    root_only = True  # writes files or reports for the log: rank 0 alone runs it

    trigger = (1, 'iteration')
    priority = extension.PRIORITY_READER

    def __init__(self, writer, keys):
        self._writer, self._keys = writer, tuple(keys)

    def __call__(self, trainer):
        for key in self._keys:
            value = trainer.observation.get(key)
            if value is not None:
                value = value.array if isinstance(value, chainer.Variable) else value
                self._writer.add_scalar(key, float(chainer.backend.CpuDevice().send(value)),
                                        trainer.updater.iteration)
