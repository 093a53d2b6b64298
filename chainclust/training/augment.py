"""Random shifts and rotations of image batches (the augmentation of DEC-DA).

Guo, Zhu, Liu and Yin, "Deep Embedded Clustering with Data Augmentation"
(ACML 2018) train the autoencoder on randomly shifted (up to 10% of the
width and height) and rotated (up to 10 degrees) images. Here the warp is one
vectorised bilinear resampling of the whole batch in NumPy, with the edge
pixels repeated outside the image (Keras' ``fill_mode='nearest'``), so it is
right for any normalisation of the pixels.
"""
import chainer
import numpy

AUGMENT_MODES = ('auto', 'affine', 'none')


def is_image_shape(shape):
    """``True`` for a sample shape ``(H, W)`` or ``(H, W, C)`` with ``C`` in 1, 3, 4."""
    shape = tuple(shape)
    return (len(shape) in (2, 3) and min(shape[:2]) >= 2
            and (len(shape) == 2 or shape[2] in (1, 3, 4)))


def random_affine(images, random_state, max_shift=0.1, max_rotation=10.0):
    """Shift and rotate each image of a batch by its own random amount.

    Args:
        images (numpy.ndarray): ``(B, H, W)`` or ``(B, H, W, C)`` floats.
        random_state (numpy.random.RandomState): draws the transforms.
        max_shift (float): largest shift, as a fraction of ``H`` and of ``W``.
        max_rotation (float): largest rotation about the centre, in degrees.

    Returns:
        numpy.ndarray: the warped batch, same shape and dtype.
    """
    b, h, w = images.shape[:3]
    dtype = images.dtype
    angle = numpy.deg2rad(random_state.uniform(-max_rotation, max_rotation, b))
    shift_y = random_state.uniform(-max_shift, max_shift, b) * h
    shift_x = random_state.uniform(-max_shift, max_shift, b) * w
    cos = numpy.cos(angle).astype(dtype)[:, None, None]
    sin = numpy.sin(angle).astype(dtype)[:, None, None]
    cy, cx = (h - 1) / 2.0, (w - 1) / 2.0
    rows = (numpy.arange(h, dtype=dtype) - cy)[None, :, None]
    cols = (numpy.arange(w, dtype=dtype) - cx)[None, None, :]
    # Inverse map: the source of output pixel (r, c), clamped to the edges.
    src_y = numpy.clip(cos * rows - sin * cols + (cy - shift_y).astype(dtype)[:, None, None],
                       0, h - 1)
    src_x = numpy.clip(sin * rows + cos * cols + (cx - shift_x).astype(dtype)[:, None, None],
                       0, w - 1)
    y0 = numpy.minimum(numpy.floor(src_y), h - 2)
    x0 = numpy.minimum(numpy.floor(src_x), w - 2)
    wy, wx = src_y - y0, src_x - x0
    index = (y0 * w + x0).astype(numpy.intp) + (numpy.arange(b) * (h * w))[:, None, None]
    flat = images.reshape(b * h * w, -1)
    if images.ndim == 4:
        wy, wx = wy[..., None], wx[..., None]
    else:
        flat = flat[:, 0]

    def tap(offset):
        return flat[index + offset].reshape(wy.shape[:3] + flat.shape[1:])

    top = tap(0) + wx * (tap(1) - tap(0))
    bottom = tap(w) + wx * (tap(w + 1) - tap(w))
    return (top + wy * (bottom - top)).astype(dtype, copy=False).reshape(images.shape)


class ImageAugmenter(object):
    """Random affine augmentation of flattened image batches.

    Args:
        image_shape (tuple): the shape of one sample, ``(H, W)`` or ``(H, W, C)``.
        random_state (numpy.random.RandomState): draws the transforms.
        max_shift (float): largest shift, a fraction of the height and width.
        max_rotation (float): largest rotation in degrees.
    """

    def __init__(self, image_shape, random_state, max_shift=0.1, max_rotation=10.0):
        if not is_image_shape(image_shape):
            raise ValueError('augmentation needs image samples (H, W) or (H, W, C), '
                             'got samples of shape %s' % (tuple(image_shape),))
        self.image_shape = tuple(int(s) for s in image_shape)
        self.random_state = random_state
        self.max_shift, self.max_rotation = max_shift, max_rotation

    def __call__(self, x):
        """``(B, prod(image_shape))`` NumPy floats -> augmented, same shape."""
        images = x.reshape((len(x),) + self.image_shape)
        return random_affine(images, self.random_state, self.max_shift,
                             self.max_rotation).reshape(x.shape)


def resolve_augment(augment, input_shape):
    """``augment`` (one of :data:`AUGMENT_MODES`) resolved for samples of ``input_shape``.

    ``auto`` is ``affine`` for image samples (:func:`is_image_shape`) and
    ``none`` otherwise; ``affine`` for samples that are not images is refused.

    Returns:
        str: ``'affine'`` or ``'none'``.
    """
    if augment not in AUGMENT_MODES:
        raise ValueError('augment must be one of %s, got %r' % (AUGMENT_MODES, augment))
    image = is_image_shape(input_shape)
    if augment == 'auto':
        return 'affine' if image else 'none'
    if augment == 'affine' and not image:
        raise ValueError("augment='affine' needs image samples (H, W) or (H, W, C), "
                         'got samples of shape %s' % (tuple(input_shape),))
    return augment


def affine_augmentation(run, name, input_shape):
    """The converter and random stream of a phase trained on shifted and rotated images.

    Args:
        run (chainclust.training.Run): the run; the stream is its ``name + '/augment'``.
        name (str): the phase's name.
        input_shape (tuple): the shape of one sample, ``(H, W)`` or ``(H, W, C)``.

    Returns:
        tuple: ``(converter, random_state)``; register the random state with the
        phase (``random_states={'augment': random_state}``) so that it travels in
        snapshots.
    """
    random_state = run.sample_random_state(name + '/augment')
    return augmenting_converter(ImageAugmenter(input_shape, random_state)), random_state


def augmenting_converter(transform):
    """A Chainer converter that applies ``transform`` to each batch's inputs.

    The batch is concatenated on the CPU, ``transform`` replaces the first
    array (the samples; targets such as DEC's ``p`` pass unchanged), and the
    result is sent to the updater's device.
    """
    @chainer.dataset.converter()
    def convert(batch, device=None):
        arrays = chainer.dataset.concat_examples(batch)
        if isinstance(arrays, tuple):
            arrays = (transform(arrays[0]),) + tuple(arrays[1:])
        else:
            arrays = transform(arrays)
        return arrays if device is None else device.send(arrays)
    return convert
