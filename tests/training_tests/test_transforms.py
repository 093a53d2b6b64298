"""Batched random transformations: exact geometry, intensity parts, composition, names."""
import numpy
import pytest

from chainclust.training import transforms as T


def _images(n=4, c=1, h=9, w=7, seed=0):
    return numpy.random.RandomState(seed).rand(n, c, h, w).astype(numpy.float32)


def test_identity_parameters_leave_images_unchanged():
    x = _images()
    transform = T.Transform([T.Rotation(0), T.Shear(0), T.Scale(1, 1), T.RandomCrop([1.0])])
    numpy.testing.assert_allclose(transform(x, numpy.random.RandomState(0)), x, atol=1e-5)


def test_flip_mirrors_and_quarter_turn_rotates_exactly():
    x = _images(c=3, h=8, w=8)
    flipped = T.Transform([T.HorizontalFlip(p=1.0)])(x, numpy.random.RandomState(0))
    numpy.testing.assert_allclose(flipped, x[..., ::-1], atol=1e-5)

    class QuarterTurn(T.Rotation):
        def matrices(self, n, random_state):
            m = numpy.zeros((n, 2, 3))
            m[:, 0, 1], m[:, 1, 0] = -1, 1
            return m
    turned = T.Transform([QuarterTurn(90)])(x, numpy.random.RandomState(0))
    # output (row r, column c) samples input point x' = -y, y' = x: row c, column H-1-r
    for i in range(len(x)):
        for c in range(3):
            numpy.testing.assert_allclose(turned[i, c], x[i, c][:, ::-1].T, atol=1e-5)


def test_each_image_gets_its_own_draw_and_a_seed_repeats_it():
    x = numpy.repeat(_images(n=1), 6, axis=0)
    transform = T.make_transform(['rotation', 'shear', 'scale', 'crop', 'noise', 'jitter'])
    first = transform(x, numpy.random.RandomState(3))
    assert not numpy.allclose(first[0], first[1])
    numpy.testing.assert_array_equal(first, transform(x, numpy.random.RandomState(3)))
    assert first.shape == x.shape and first.dtype == numpy.float32


def test_crop_zooms_in_and_scale_shrinks_content():
    x = numpy.zeros((1, 1, 21, 21), numpy.float32)
    x[0, 0, 10, 10] = 1  # a dot in the centre
    zoomed = T.warp(x, T._identity(1) * 0.5)  # the centre half, resized up: the dot spreads
    assert (zoomed > 0.1).sum() > 1 and zoomed[0, 0, 10, 10] == pytest.approx(1)
    x = numpy.ones((1, 1, 21, 21), numpy.float32)
    small = T.Transform([T.Scale(0.5, 0.5)])(x, numpy.random.RandomState(0))
    assert small[0, 0, 0, 0] == 0 and small[0, 0, 10, 10] == pytest.approx(1)  # zero outside


def test_intensity_parts():
    x = _images(n=50)
    rng = numpy.random.RandomState(0)
    binary = T.Binarize(0.5, p=1.0)(x, rng)
    assert set(numpy.unique(binary)) <= {0.0, 1.0}
    half = T.Binarize(0.5, p=0.5)(x, rng)
    changed = [not numpy.array_equal(half[i], x[i]) for i in range(50)]
    assert 10 < sum(changed) < 40
    noisy = T.Noise(0.1)(x, rng)
    assert noisy.min() >= 0 and noisy.max() <= 1 and not numpy.allclose(noisy, x)
    unclipped = T.Noise(5.0, clip=None)(x, rng)
    assert unclipped.min() < 0
    jittered = T.ColourJitter(0.4)(x, rng)
    assert jittered.shape == x.shape and not numpy.allclose(jittered, x)


def test_names_are_parsed_and_unknown_ones_refused():
    assert T.parse_augment('all') == 'all'
    assert T.parse_augment('none') == []
    assert T.parse_augment(' noise, rotation ') == ['rotation', 'noise']  # canonical order
    with pytest.raises(ValueError, match="unknown augmentation 'twirl'; choose from rotation"):
        T.parse_augment('rotation,twirl')
    assert T.make_transform(['noise'], unit_range=False).intensity[0].clip is None
    with pytest.raises(ValueError, match='crop fractions'):
        T.RandomCrop([0.0])



def _fixed_width(t):
    """A StrokeWidth whose images draw the weights ``t`` (one per image)."""
    class Fixed(numpy.random.RandomState):
        def uniform(self, low, high, size):
            return numpy.resize(numpy.asarray(t, dtype=numpy.float64), size)
    return lambda x: T.StrokeWidth(1.0)(x, Fixed(0))


def test_stroke_width_blends_each_image_with_scipy_grey_dilation_or_erosion():
    from scipy import ndimage
    weights = [1.0, -1.0, 0.3, -0.6]
    x = _images(n=4, c=2, h=9, w=8)
    cross = ndimage.generate_binary_structure(2, 1)
    expected = numpy.stack([
        [image_c + abs(t) * ((ndimage.grey_dilation if t > 0 else ndimage.grey_erosion)(
            image_c, footprint=cross, mode='nearest') - image_c) for image_c in image]
        for image, t in zip(x, weights)])
    numpy.testing.assert_allclose(_fixed_width(weights)(x), expected, atol=1e-6)
    flat = x[:, 0]  # (N, H, W) works the same
    numpy.testing.assert_allclose(_fixed_width(weights)(flat), expected[:, 0], atol=1e-6)


def test_stroke_width_thickens_or_thins_a_line_and_refuses_flat_batches():
    x = numpy.zeros((1, 1, 7, 7), numpy.float32)
    x[0, 0, 2:4, 1:6] = 1  # a stroke two pixels wide
    assert (_fixed_width(1.0)(x) > 0.5).sum() == 5 * 4 + 2 * 2  # grows by a pixel each side
    assert (_fixed_width(-1.0)(x) > 0.5).sum() == 0  # two pixels wide: the cross erodes it away
    batch = numpy.repeat(_images(n=1), 5, axis=0)
    out = T.make_transform(['stroke'])(batch, numpy.random.RandomState(0))
    assert out.dtype == numpy.float32 and not numpy.allclose(out[0], out[1])
    with pytest.raises(ValueError, match=r'stroke width needs images \(N, \[C,\] H, W\)'):
        T.StrokeWidth()(numpy.zeros((4, 49), numpy.float32), numpy.random.RandomState(0))
