import chainer
import numpy
import pytest
from scipy import ndimage

from chainclust.training import Phase, TrainingRun
from chainclust.training.augment import augmenting_converter
from chainclust.training.augment import ImageAugmenter, augmenting_converter
from chainclust.training.augment import is_image_shape, random_affine


class FixedDraws(object):
    """A stand-in random state whose ``uniform`` returns given values in turn."""

    def __init__(self, *values):
        self.values = list(values)

    def uniform(self, low, high, size):
        value = self.values.pop(0)
        assert low <= value <= high
        return numpy.full(size, value)


@pytest.fixture
def images():
    return numpy.random.RandomState(0).rand(6, 12, 10).astype(numpy.float32)


def test_zero_ranges_leave_images_unchanged(images):
    out = random_affine(images, numpy.random.RandomState(0), 0.0, 0.0)
    assert out.shape == images.shape and out.dtype == images.dtype
    numpy.testing.assert_allclose(out, images, atol=1e-6)


@pytest.mark.parametrize('dy, dx', [(2, -3), (-1, 1), (0.5, 1.25)])
def test_shift_matches_scipy(images, dy, dx):
    h, w = images.shape[1:]
    out = random_affine(images[:1], FixedDraws(0.0, dy / h, dx / w), 0.5, 10)
    expected = ndimage.shift(images[0], (dy, dx), order=1, mode='nearest')
    numpy.testing.assert_allclose(out[0], expected, atol=1e-5)


@pytest.mark.parametrize('degrees', [7.0, -10.0])
def test_rotation_matches_scipy_inside_the_image(images, degrees):
    out = random_affine(images[:1], FixedDraws(degrees, 0.0, 0.0), 0.1, 10)
    # scipy turns the other way in (row, column) coordinates.
    expected = ndimage.rotate(images[0], -degrees, reshape=False, order=1, mode='nearest')
    numpy.testing.assert_allclose(out[0][2:-2, 2:-2], expected[2:-2, 2:-2], atol=1e-5)


def test_channels_share_one_transform():
    rgb = numpy.random.RandomState(1).rand(4, 9, 11, 3).astype(numpy.float32)
    out = random_affine(rgb, numpy.random.RandomState(5))
    for c in range(3):
        numpy.testing.assert_allclose(
            out[..., c], random_affine(rgb[..., c], numpy.random.RandomState(5)), atol=1e-6)


def test_each_image_gets_its_own_transform_and_seeds_reproduce(images):
    same = numpy.repeat(images[:1], 4, axis=0)
    out = random_affine(same, numpy.random.RandomState(3))
    assert not numpy.allclose(out[0], out[1])
    numpy.testing.assert_array_equal(out, random_affine(same, numpy.random.RandomState(3)))
    # Bilinear resampling never leaves the range of the pixels.
    assert out.min() >= images[0].min() - 1e-6 and out.max() <= images[0].max() + 1e-6


def test_image_shapes():
    assert is_image_shape((28, 28)) and is_image_shape((32, 32, 3))
    assert is_image_shape((8, 8, 1))
    assert not is_image_shape((784,))
    assert not is_image_shape((3, 32, 32))  # channels-first is not ours
    assert not is_image_shape((1, 28))


def test_augmenter_works_on_flat_batches(images):
    augment = ImageAugmenter((12, 10), numpy.random.RandomState(0))
    flat = images.reshape(6, -1)
    out = augment(flat)
    assert out.shape == flat.shape and out.dtype == flat.dtype
    assert not numpy.allclose(out, flat)
    with pytest.raises(ValueError, match=r'image samples.*\(784,\)'):
        ImageAugmenter((784,), numpy.random.RandomState(0))


def test_converter_transforms_only_the_samples():
    convert = augmenting_converter(lambda x: -x)
    x = numpy.arange(6, dtype=numpy.float32).reshape(3, 2)
    p = numpy.ones((3, 4), dtype=numpy.float32)
    xs, ps = convert([(x[i], p[i]) for i in range(3)], chainer.get_device('@numpy'))
    numpy.testing.assert_array_equal(xs, -x)
    numpy.testing.assert_array_equal(ps, p)
    numpy.testing.assert_array_equal(convert(list(x)), -x)


class _Recorder(chainer.Chain):
    def __init__(self):
        super(_Recorder, self).__init__()
        with self.init_scope():
            self.w = chainer.Parameter(numpy.zeros(2, dtype=numpy.float32))
        self.seen = []

    def forward(self, x):
        self.seen.append(numpy.array(x))
        loss = chainer.functions.sum((x - self.w) ** 2)
        chainer.report({'loss': loss}, self)
        return loss


def test_phase_trains_on_converted_batches(tmp_path):
    data = numpy.ones((8, 2), dtype=numpy.float32)
    loss = _Recorder()
    with TrainingRun(str(tmp_path), chainer.get_device('@numpy'), 0, {'data': 'x'}) as run:
        run.run(Phase('p', loss, data, chainer.optimizers.SGD(0.1), (1, 'epoch'), 4,
                      converter=augmenting_converter(lambda x: 3 * x), plots=()))
    assert len(loss.seen) == 2
    for batch in loss.seen:
        numpy.testing.assert_array_equal(batch, 3 * numpy.ones((4, 2)))
