"""Random image transformations of whole batches on the training device.

Every geometric transformation (rotation, shear, scaling, random crop with
resize back to the input size, horizontal flip) is a 2x3 affine matrix per
image; they are multiplied into one matrix and applied in a single bilinear
resampling of the batch (Chainer's spatial transformer grid and sampler, so
NumPy on CPU and CuPy on GPU, never a Python loop over images). Intensity
transformations (binarisation, additive noise, colour jitter) are array
operations on the batch. Random numbers come from a NumPy RandomState (small
per-image parameters; the noise field is drawn on the host too, so CPU runs
are reproducible) and are sent to the batch's device.

Coordinates are Chainer's normalised ones: ``(x, y)`` in ``[-1, 1]``; a
matrix ``A | t`` maps an output pixel to the input point it samples.
"""
import chainer
import chainer.functions as F
import numpy


class Geometric(object):
    """A random affine map per image: ``matrices(n, rng)`` -> ``(n, 2, 3)``."""

    def matrices(self, n, random_state):
        raise NotImplementedError


def _identity(n):
    m = numpy.zeros((n, 2, 3))
    m[:, 0, 0] = m[:, 1, 1] = 1
    return m


def _compose(outer, inner):
    """``outer o inner`` for batches of 2x3 affine matrices."""
    a = outer[:, :, :2] @ inner[:, :, :2]
    t = (outer[:, :, :2] @ inner[:, :, 2:])[:, :, 0] + outer[:, :, 2]
    return numpy.concatenate([a, t[:, :, None]], axis=2)


class Rotation(Geometric):
    """With probability ``p``, a rotation about the centre, uniform in ``[-degrees, degrees]``."""

    def __init__(self, degrees, p=1.0):
        self.degrees, self.p = float(degrees), float(p)

    def matrices(self, n, random_state):
        angle = numpy.deg2rad(random_state.uniform(-self.degrees, self.degrees, n))
        angle *= random_state.uniform(size=n) < self.p
        m = _identity(n)
        m[:, 0, 0], m[:, 0, 1] = numpy.cos(angle), -numpy.sin(angle)
        m[:, 1, 0], m[:, 1, 1] = numpy.sin(angle), numpy.cos(angle)
        return m


class Shear(Geometric):
    """Horizontal and vertical shear, each factor uniform in ``[-amount, amount]``."""

    def __init__(self, amount):
        self.amount = float(amount)

    def matrices(self, n, random_state):
        m = _identity(n)
        m[:, 0, 1] = random_state.uniform(-self.amount, self.amount, n)
        m[:, 1, 0] = random_state.uniform(-self.amount, self.amount, n)
        return m


class Scale(Geometric):
    """Zoom by a factor uniform in ``[low, high]`` (above 1: the content grows)."""

    def __init__(self, low, high):
        self.low, self.high = float(low), float(high)

    def matrices(self, n, random_state):
        factor = random_state.uniform(self.low, self.high, n)
        m = _identity(n)
        m[:, 0, 0] = m[:, 1, 1] = 1.0 / factor
        return m


class RandomCrop(Geometric):
    """A crop at a random place, resized back to the input size.

    Its side is a fraction of the image's drawn from ``fractions`` (the IIC
    reference code crops 16, 20 or 24 pixels of 24).
    """

    def __init__(self, fractions):
        self.fractions = numpy.asarray(fractions, dtype=numpy.float64)
        if not ((self.fractions > 0) & (self.fractions <= 1)).all():
            raise ValueError('crop fractions must be in (0, 1], got %r' % (fractions,))

    def matrices(self, n, random_state):
        fraction = self.fractions[random_state.randint(len(self.fractions), size=n)]
        room = 1 - fraction
        m = _identity(n) * fraction[:, None, None]
        m[:, 0, 2] = random_state.uniform(-1, 1, n) * room
        m[:, 1, 2] = random_state.uniform(-1, 1, n) * room
        return m


class HorizontalFlip(Geometric):
    """Mirror left-right with probability ``p``."""

    def __init__(self, p=0.5):
        self.p = float(p)

    def matrices(self, n, random_state):
        m = _identity(n)
        m[:, 0, 0] = numpy.where(random_state.uniform(size=n) < self.p, -1, 1)
        return m


class Binarize(object):
    """With probability ``p`` per image, every value becomes 1 above ``threshold``, else 0."""

    def __init__(self, threshold=0.5, p=0.5):
        self.threshold, self.p = float(threshold), float(p)

    def __call__(self, images, random_state):
        xp = chainer.backend.get_array_module(images)
        chosen = xp.asarray(random_state.uniform(size=len(images)) < self.p)
        chosen = chosen.reshape((-1,) + (1,) * (images.ndim - 1))
        binary = (images > self.threshold).astype(images.dtype)
        return xp.where(chosen, binary, images)


class StrokeWidth(object):
    """Thicker or thinner strokes: a per-image blend with a grey-level dilation or erosion.

    Each image draws ``t`` uniform in ``[-amount, amount]``; ``t > 0`` moves it
    by ``t`` towards its dilation (the maximum over each pixel and its four
    neighbours), ``t < 0`` by ``|t|`` towards its erosion (the minimum). Geometric
    transformations scale strokes with the whole image, so only this changes
    the stroke width relative to the size (a factor IIC otherwise clusters
    MNIST by). Borders repeat the edge pixels.
    """

    def __init__(self, amount=1.0):
        self.amount = float(amount)

    def __call__(self, images, random_state):
        if images.ndim < 3:
            raise ValueError('stroke width needs images (N, [C,] H, W), got a batch of '
                             'shape %s' % (images.shape,))
        xp = chainer.backend.get_array_module(images)
        height, width = images.shape[-2:]
        pad = [(0, 0)] * (images.ndim - 2) + [(1, 1), (1, 1)]
        padded = xp.pad(images, pad, mode='edge')
        shifted = [padded[..., 1:height + 1, 1:width + 1], padded[..., :height, 1:width + 1],
                   padded[..., 2:, 1:width + 1], padded[..., 1:height + 1, :width],
                   padded[..., 1:height + 1, 2:]]
        dilated, eroded = shifted[0].copy(), shifted[0].copy()
        for view in shifted[1:]:
            xp.maximum(dilated, view, out=dilated)
            xp.minimum(eroded, view, out=eroded)
        t = random_state.uniform(-self.amount, self.amount, len(images))
        t = xp.asarray(t.reshape((-1,) + (1,) * (images.ndim - 1)).astype(images.dtype))
        target = xp.where(t > 0, dilated, eroded)
        return images + abs(t) * (target - images)


class Noise(object):
    """Additive Gaussian noise of standard deviation ``sigma``, clipped to ``clip``."""

    def __init__(self, sigma, clip=(0.0, 1.0)):
        self.sigma, self.clip = float(sigma), clip

    def __call__(self, images, random_state):
        xp = chainer.backend.get_array_module(images)
        noise = random_state.standard_normal(images.shape).astype(images.dtype)
        out = images + xp.asarray(noise) * images.dtype.type(self.sigma)
        return out if self.clip is None else xp.clip(out, *self.clip).astype(images.dtype)


class ColourJitter(object):
    """Per-image brightness and contrast factors uniform in ``[1 - amount, 1 + amount]``."""

    def __init__(self, amount):
        self.amount = float(amount)

    def __call__(self, images, random_state):
        xp = chainer.backend.get_array_module(images)
        n = len(images)
        shape = (n,) + (1,) * (images.ndim - 1)
        contrast = random_state.uniform(1 - self.amount, 1 + self.amount, n)
        brightness = random_state.uniform(1 - self.amount, 1 + self.amount, n)
        mean = images.mean(axis=tuple(range(1, images.ndim)), keepdims=True)
        contrast = xp.asarray(contrast.reshape(shape).astype(images.dtype))
        brightness = xp.asarray(brightness.reshape(shape).astype(images.dtype))
        return ((images - mean) * contrast + mean) * brightness


def warp(images, matrices):
    """Resample ``images`` ``(N, C, H, W)`` with per-image affine ``matrices`` ``(N, 2, 3)``.

    Bilinear, zeros outside the image; the output has the input's size.
    """
    xp = chainer.backend.get_array_module(images)
    theta = xp.asarray(matrices.astype(images.dtype))
    with chainer.no_backprop_mode():
        grid = F.spatial_transformer_grid(theta, images.shape[2:])
        return F.spatial_transformer_sampler(images, grid).array


class Transform(object):
    """A composition: geometric parts as one warp, then the intensity parts in order.

    Args:
        geometric (sequence of Geometric): applied to the output coordinates
            in order (so the first listed acts last on the image content).
        intensity (sequence): callables ``(images, random_state) -> images``.
        names (sequence of str): what it is made of, for logs and reports.
    """

    def __init__(self, geometric=(), intensity=(), names=()):
        self.geometric, self.intensity = list(geometric), list(intensity)
        self.names = tuple(names)

    def __call__(self, images, random_state):
        """Transform a batch ``(N, C, H, W)`` (NumPy or CuPy); returns a new array."""
        if self.geometric:
            m = _identity(len(images))
            for part in self.geometric:
                m = _compose(m, part.matrices(len(images), random_state))
            images = warp(images, m)
        for part in self.intensity:
            images = part(images, random_state)
        return images


# name -> factory; the order is the order of application (geometric ones
# all go into one warp). Settings after the IIC reference code (xu-ji/IIC:
# rotation of up to 25 degrees half of the time, crops of 16/20/24 of 24 pixels,
# brightness and contrast jitter of 0.4) and its affine option (shear of about
# 10 degrees, scale 0.9-1.1); binarisation and noise as the issue asks.
AUGMENTATIONS = {
    'rotation': lambda: Rotation(25, p=0.5),
    'shear': lambda: Shear(0.17),
    'scale': lambda: Scale(0.9, 1.1),
    'crop': lambda: RandomCrop((2 / 3., 5 / 6., 1.0)),
    'flip': lambda: HorizontalFlip(0.5),
    'stroke': lambda: StrokeWidth(1.0),
    'binarize': lambda: Binarize(0.5, p=0.25),
    'noise': lambda: Noise(0.1),
    'jitter': lambda: ColourJitter(0.4),
}


def parse_augment(text):
    """``'all'``, ``'none'`` or comma-separated names -> ``'all'`` or a list of names.

    Raises:
        ValueError: an unknown name.
    """
    text = str(text).strip().lower()
    if text == 'all':
        return 'all'
    if text in ('none', ''):
        return []
    names = [name.strip() for name in text.split(',') if name.strip()]
    unknown = [name for name in names if name not in AUGMENTATIONS]
    if unknown:
        raise ValueError('unknown augmentation %s; choose from %s, all or none'
                         % (', '.join(repr(n) for n in unknown), ', '.join(AUGMENTATIONS)))
    return [name for name in AUGMENTATIONS if name in names]


def make_transform(names, unit_range=True):
    """The :class:`Transform` made of the augmentations ``names`` (see :data:`AUGMENTATIONS`).

    ``unit_range``: the images lie in [0, 1] (noise is then clipped to it).
    """
    parts = [AUGMENTATIONS[name]() for name in names]
    for part in parts:
        if isinstance(part, Noise) and not unit_range:
            part.clip = None
    return Transform([p for p in parts if isinstance(p, Geometric)],
                     [p for p in parts if not isinstance(p, Geometric)], names)
