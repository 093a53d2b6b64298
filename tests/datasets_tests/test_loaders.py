import gzip
import os

import numpy
import pytest

from chainclust import datasets
from chainclust.errors import DataError


def test_embedded_mnist():
    data = datasets.load('mnist')
    assert data.x.shape == (10000, 28, 28) and data.x.dtype == numpy.uint8
    assert numpy.bincount(data.y).tolist() == [1001, 1127, 991, 1032, 980, 863,
                                                1014, 1070, 944, 978]
    assert data.x.max() == 255 and data.x.min() == 0


def test_embedded_digits():
    data = datasets.load('digits')
    assert data.x.shape == (1797, 8, 8) and data.y.shape == (1797,)


def test_npy_and_separate_labels(tmp_path):
    x = numpy.random.RandomState(0).rand(20, 3).astype(numpy.float32)
    numpy.save(tmp_path / 'x.npy', x)
    numpy.save(tmp_path / 'y.npy', numpy.arange(20) % 2)
    data = datasets.load(str(tmp_path / 'x.npy'), labels=str(tmp_path / 'y.npy'))
    numpy.testing.assert_array_equal(data.x, x)
    assert data.y.dtype == numpy.int64 and data.y.sum() == 10


def test_npz_with_labels(tmp_path):
    numpy.savez(tmp_path / 'd.npz', x=numpy.ones((4, 2)), y=[0, 1, 0, 1])
    data = datasets.load(str(tmp_path / 'd.npz'))
    assert data.x.shape == (4, 2) and data.y.tolist() == [0, 1, 0, 1]


def test_npz_object_array_is_refused(tmp_path):
    numpy.savez(tmp_path / 'o.npz', x=numpy.array([{'a': 1}, None], dtype=object))
    with pytest.raises(DataError, match='never unpickles'):
        datasets.load(str(tmp_path / 'o.npz'))


def test_npy_object_array_is_refused(tmp_path):
    numpy.save(tmp_path / 'o.npy', numpy.array([{'a': 1}], dtype=object),
               allow_pickle=True)
    with pytest.raises(DataError, match='never unpickles'):
        datasets.load(str(tmp_path / 'o.npy'))


def _write_idx(path, array, compress):
    codes = {numpy.dtype('uint8'): 0x08, numpy.dtype('>f4'): 0x0D}
    header = bytes([0, 0, codes[array.dtype], array.ndim])
    header += numpy.array(array.shape, dtype='>u4').tobytes()
    opener = gzip.open if compress else open
    with opener(path, 'wb') as f:
        f.write(header + array.tobytes())


@pytest.mark.parametrize('compress', [False, True])
def test_idx(tmp_path, compress):
    x = numpy.arange(2 * 3 * 4, dtype=numpy.uint8).reshape(2, 3, 4)
    name = 'train-images-idx3-ubyte' + ('.gz' if compress else '')
    _write_idx(str(tmp_path / name), x, compress)
    _write_idx(str(tmp_path / 'labels-idx1-ubyte'), numpy.array([3, 4], numpy.uint8), False)
    data = datasets.load(str(tmp_path / name), labels=str(tmp_path / 'labels-idx1-ubyte'))
    numpy.testing.assert_array_equal(data.x, x)
    assert data.y.tolist() == [3, 4]


def test_idx_float_big_endian(tmp_path):
    x = numpy.array([[1.5, -2.0], [3.0, 4.25]], dtype='>f4')
    _write_idx(str(tmp_path / 'f.idx'), x, False)
    numpy.testing.assert_array_equal(datasets.load(str(tmp_path / 'f.idx')).x, x)


def test_idx_truncated(tmp_path):
    x = numpy.zeros((2, 2, 2), numpy.uint8)
    _write_idx(str(tmp_path / 't.idx'), x, False)
    with open(tmp_path / 't.idx', 'ab') as f:
        f.write(b'\x00')
    with pytest.raises(DataError, match='promises'):
        datasets.load(str(tmp_path / 't.idx'))


def test_idx_bad_magic(tmp_path):
    (tmp_path / 'x-ubyte').write_bytes(b'\x01\x02\x03\x04')
    with pytest.raises(DataError, match='magic'):
        datasets.load(str(tmp_path / 'x-ubyte'))


def test_csv_header_and_label_column(tmp_path):
    (tmp_path / 'd.csv').write_text('a,label,b\n1,0,2\n3,1,4\n')
    data = datasets.load(str(tmp_path / 'd.csv'), label_column='label')
    numpy.testing.assert_array_equal(data.x, [[1, 2], [3, 4]])
    assert data.y.tolist() == [0, 1]
    data = datasets.load(str(tmp_path / 'd.csv'), label_column=-1)
    assert data.x.shape == (2, 2) and data.y.tolist() == [2, 4]


def test_csv_ragged(tmp_path):
    (tmp_path / 'r.csv').write_text('1,2,3\n4,5\n')
    with pytest.raises(DataError, match='row 2 has 2 columns, expected 3'):
        datasets.load(str(tmp_path / 'r.csv'))


def test_csv_non_numeric(tmp_path):
    (tmp_path / 'n.csv').write_text('1,2\n3,x\n')
    with pytest.raises(DataError, match='non-numeric'):
        datasets.load(str(tmp_path / 'n.csv'))


def test_csv_nan(tmp_path):
    (tmp_path / 'nan.csv').write_text('1,2\n3,nan\n')
    with pytest.raises(DataError, match='NaN/inf'):
        datasets.load(str(tmp_path / 'nan.csv'))


def test_empty_csv(tmp_path):
    (tmp_path / 'e.csv').write_text('\n')
    with pytest.raises(DataError, match='empty'):
        datasets.load(str(tmp_path / 'e.csv'))


def test_image_folder_with_classes(tmp_path):
    from PIL import Image
    rng = numpy.random.RandomState(0)
    for cls in ('cat', 'dog'):
        os.makedirs(tmp_path / cls)
        for i in range(3):
            Image.fromarray(rng.randint(0, 255, (5, 4), numpy.uint8)).save(
                tmp_path / cls / ('%d.png' % i))
    data = datasets.load(str(tmp_path))
    assert data.x.shape == (6, 5, 4) and data.y.tolist() == [0, 0, 0, 1, 1, 1]


def test_image_folder_inconsistent_sizes(tmp_path):
    from PIL import Image
    Image.fromarray(numpy.zeros((5, 4), numpy.uint8)).save(tmp_path / 'a.png')
    Image.fromarray(numpy.zeros((6, 4), numpy.uint8)).save(tmp_path / 'b.png')
    with pytest.raises(DataError, match='different sizes'):
        datasets.load(str(tmp_path))


def test_corrupt_image(tmp_path):
    (tmp_path / 'a.png').write_bytes(b'not a png')
    with pytest.raises(DataError, match='cannot read image'):
        datasets.load(str(tmp_path))


def test_empty_folder(tmp_path):
    with pytest.raises(DataError, match='no images'):
        datasets.load(str(tmp_path))


def test_missing_file():
    with pytest.raises(DataError, match='no such file'):
        datasets.load('/nonexistent/data.npy')


def test_unknown_format(tmp_path):
    (tmp_path / 'x.parquet').write_bytes(b'PAR1')
    with pytest.raises(DataError, match='unknown data format'):
        datasets.load(str(tmp_path / 'x.parquet'))


def test_corrupt_npy(tmp_path):
    (tmp_path / 'c.npy').write_bytes(b'garbage')
    with pytest.raises(DataError, match='not a valid .npy'):
        datasets.load(str(tmp_path / 'c.npy'))


@pytest.mark.parametrize('array,message', [
    (numpy.zeros((0, 3)), 'empty'),
    (numpy.array([[1.0, numpy.inf]]), 'NaN/inf'),
    (numpy.array([1.0, 2.0]), 'shape'),
    (numpy.array([['a', 'b']]), 'numeric'),
])
def test_bad_arrays(tmp_path, array, message):
    numpy.save(tmp_path / 'bad.npy', array)
    with pytest.raises(DataError, match=message):
        datasets.load(str(tmp_path / 'bad.npy'))


def test_labels_wrong_length(tmp_path):
    numpy.save(tmp_path / 'x.npy', numpy.zeros((5, 2)))
    numpy.save(tmp_path / 'y.npy', numpy.zeros(4, numpy.int64))
    with pytest.raises(DataError, match='4 entries but the data has 5'):
        datasets.load(str(tmp_path / 'x.npy'), labels=str(tmp_path / 'y.npy'))


def test_label_column_only_for_csv(tmp_path):
    numpy.save(tmp_path / 'x.npy', numpy.zeros((5, 2)))
    with pytest.raises(DataError, match='CSV'):
        datasets.load(str(tmp_path / 'x.npy'), label_column=0)


def test_csv_values_beyond_float32_are_refused_before_the_cast(tmp_path):
    (tmp_path / 'big.csv').write_text('1,2\n3,1e39\n')
    with pytest.raises(DataError, match=r'beyond the float32 range \(first at sample 1: 1e\+39'):
        datasets.load(str(tmp_path / 'big.csv'))


def test_pinwheel_is_seeded_and_balanced():
    data = datasets.load('pinwheel')
    assert data.x.shape == (10000, 2) and data.x.dtype == numpy.float32
    assert numpy.bincount(data.y).tolist() == [2000] * 5
    numpy.testing.assert_array_equal(datasets.load('pinwheel').x, data.x)
    other = datasets.make_pinwheel(500, n_classes=3, random_state=1)
    assert other.x.shape == (500, 2) and set(other.y.tolist()) == {0, 1, 2}
    assert not numpy.allclose(other.x, datasets.make_pinwheel(500, 3, random_state=2).x)
    # the arms are arcs: each class's angles span a wide range at a fairly constant radius
    radius = numpy.hypot(data.x[:, 0], data.x[:, 1])
    assert 8 < numpy.median(radius) < 12
