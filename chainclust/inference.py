"""Batched, gradient-free forward passes from NumPy to NumPy."""
import chainer
import numpy


def batched_forward(fn, x, batch_size=1024, device=None):
    """Apply ``fn`` to ``x`` in batches in test mode; return a NumPy array.

    Args:
        fn: callable taking a device array ``(B, ...)`` and returning a
            Variable or array ``(B, ...)``.
        x (numpy.ndarray): ``(N, ...)`` inputs; cast to float32 batch by batch.
        batch_size (int): rows per call.
        device: a Chainer device or spec; NumPy when ``None``.

    Returns:
        numpy.ndarray: the outputs concatenated along the first axis.
    """
    device = chainer.get_device(device or '@numpy')
    outputs = []
    with chainer.using_config('train', False), chainer.no_backprop_mode():
        for start in range(0, len(x), batch_size):
            batch = numpy.asarray(x[start:start + batch_size], dtype=numpy.float32)
            y = fn(device.send(batch))
            y = y.array if isinstance(y, chainer.Variable) else y
            outputs.append(chainer.backend.CpuDevice().send(y))
    return numpy.concatenate(outputs)
