"""Read users' data files (NumPy only; Pillow for images).

Formats, chosen by the path:

* ``.npy``: one array (never unpickled; memory-mapped on request);
* ``.npz``: arrays ``x`` (or ``X``, ``data``, ``images``) and optionally ``y``
  (or ``labels``, ``target``); a single-array file is taken as ``x``;
* MNIST IDX (``*-ubyte``, ``*.idx``, ``*.idx3``..., optionally ``.gz``);
* ``.csv`` / ``.tsv`` of numbers, with an optional header row and an optional
  label column;
* a folder of images (PNG, JPEG, BMP, GIF, TIFF): either images directly inside
  (unlabelled) or one sub-folder per class (labelled by sorted folder name).

Labels may also come from a separate file (``.npy``, ``.csv``/``.txt`` with one
integer per line, or IDX).
"""
import csv
import gzip
import os
import zipfile

import numpy

from chainclust_runtime.errors import DataError
from chainclust_runtime.validation import check_labels, check_samples

IMAGE_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.bmp', '.gif', '.tif', '.tiff')
_X_KEYS = ('x', 'X', 'data', 'images')
_Y_KEYS = ('y', 'labels', 'target')
_IDX_DTYPES = {0x08: '>u1', 0x09: '>i1', 0x0B: '>i2', 0x0C: '>i4',
               0x0D: '>f4', 0x0E: '>f8'}


def read_data(path, label_column=None, mmap=False):
    """Read samples, and labels when the file holds them, from ``path``.

    Args:
        path (str): a file or folder in one of the formats above.
        label_column (str or int or None): CSV only; the column (header name or
            0-based index) holding labels, removed from the features.
        mmap (bool): memory-map ``.npy`` files instead of reading them.

    Returns:
        tuple: ``(x, y)``, ``y`` being ``None`` when the file has no labels.
        Nothing is validated beyond the format; see
        :func:`chainclust_runtime.validation.check_samples`.

    Raises:
        DataError: missing file, unknown or corrupt format, ragged rows,
            inconsistent image sizes.
    """
    path = os.fspath(path)
    _check_exists(path)
    kind = _kind(path)
    if label_column is not None and kind not in ('csv', 'tsv', 'txt'):
        raise DataError('--label-column applies to CSV files only, not %s' % path)
    if kind == 'images':
        return _load_image_folder(path)
    if kind == 'npy':
        return _load_npy(path, mmap), None
    if kind == 'npz':
        return _load_npz(path)
    if kind == 'idx':
        return _load_idx(path), None
    if kind in ('csv', 'tsv', 'txt'):
        return _load_csv(path, kind, label_column)
    raise DataError('%s: unknown data format (use .npy, .npz, .csv, MNIST IDX or a '
                    'folder of images)' % path)


def read_labels(path):
    """Read integer labels from ``.npy``, ``.csv``/``.txt`` or IDX ``path``."""
    path = os.fspath(path)
    _check_exists(path)
    kind = _kind(path)
    if kind == 'npy':
        y = _load_npy(path)
    elif kind == 'idx':
        y = _load_idx(path)
    elif kind in ('csv', 'txt'):
        table, _ = _read_table(path, kind)
        if table.shape[1] != 1:
            raise DataError('%s: a labels file must have one column, found %d'
                            % (path, table.shape[1]))
        y = table[:, 0]
    else:
        raise DataError('%s: unknown labels format (use .npy, .csv, .txt or IDX)'
                        % path)
    return check_labels(y, len(y), name='labels in %s' % path)


def _check_exists(path):
    if not os.path.exists(path):
        raise DataError('no such file or folder: %s' % path)


def _kind(path):
    if os.path.isdir(path):
        return 'images'
    name = os.path.basename(path).lower()
    if name.endswith('.gz'):
        name = name[:-3]
    if name.endswith('.npy'):
        return 'npy'
    if name.endswith('.npz'):
        return 'npz'
    if name.endswith('.csv'):
        return 'csv'
    if name.endswith('.tsv'):
        return 'tsv'
    if name.endswith('.txt'):
        return 'txt'
    if 'ubyte' in name or name.rsplit('.', 1)[-1].startswith('idx'):
        return 'idx'
    return None


def _load_npy(path, mmap=False):
    with open(path, 'rb') as f:
        magic = f.read(6)
    if magic[:2] == b'\x1f\x8b':  # gzip
        return _load_gzipped_npy(path)
    if magic != b'\x93NUMPY':
        raise DataError('%s is not a valid .npy file (no NumPy header)' % path)
    return _read_npy(path, path, '.npy file', mmap_mode='r' if mmap else None)


def _read_npy(source, path, what, **kwargs):
    """``numpy.load`` of ``source`` (never unpickling), errors naming ``path``."""
    try:
        return numpy.load(source, allow_pickle=False, **kwargs)
    except ValueError as e:
        if 'pickle' in str(e).lower():
            raise DataError('%s holds Python objects; chainclust never unpickles '
                            'files, save a numeric array instead' % path)
        raise DataError('%s is not a valid %s (%s)' % (path, what, e))
    except (OSError, EOFError) as e:
        raise DataError('%s is not a valid %s (%s)' % (path, what, e))


def _load_gzipped_npy(path):
    """A gzip-compressed ``.npy`` (``x.npy.gz``), read into memory."""
    import gzip
    import io
    try:
        with gzip.open(path, 'rb') as f:
            raw = f.read()
    except (OSError, EOFError) as e:
        raise DataError('%s is gzip-compressed but cannot be decompressed (%s)' % (path, e))
    if raw[:6] != b'\x93NUMPY':
        raise DataError('%s is gzip-compressed, but not a compressed .npy file' % path)
    return _read_npy(io.BytesIO(raw), path, 'compressed .npy file')


def _load_npz(path):
    try:
        with numpy.load(path, allow_pickle=False) as f:
            keys = list(f.keys())
            x_key = next((k for k in _X_KEYS if k in keys), None)
            if x_key is None and len(keys) == 1:
                x_key = keys[0]
            if x_key is None:
                raise DataError('%s: no data array; name it one of %s (found %s)'
                                % (path, ', '.join(_X_KEYS), ', '.join(keys) or
                                   'nothing'))
            y_key = next((k for k in _Y_KEYS if k in keys), None)
            x = f[x_key]
            y = f[y_key] if y_key is not None else None
    except DataError:
        raise
    except ValueError as e:
        if 'pickle' in str(e).lower():
            raise DataError('%s holds Python objects; chainclust never unpickles '
                            'files, save numeric arrays instead' % path)
        raise DataError('%s is not a valid .npz file (%s)' % (path, e))
    except (OSError, EOFError, zipfile.BadZipFile) as e:
        raise DataError('%s is not a valid .npz file (%s)' % (path, e))
    return x, y


def _load_idx(path):
    opener = gzip.open if path.lower().endswith('.gz') else open
    try:
        with opener(path, 'rb') as f:
            raw = f.read()
    except (OSError, EOFError) as e:
        raise DataError('%s: cannot read IDX file (%s)' % (path, e))
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise DataError('%s is not an IDX file (bad magic number)' % path)
    ndim = raw[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(raw) < header:
        raise DataError('%s: truncated IDX header' % path)
    shape = tuple(int(d) for d in numpy.frombuffer(raw[4:header], dtype='>u4'))
    dtype = numpy.dtype(_IDX_DTYPES[raw[2]])
    expected = int(numpy.prod(shape)) * dtype.itemsize
    if len(raw) - header != expected:
        raise DataError('%s: IDX header promises %d bytes of data, file has %d'
                        % (path, expected, len(raw) - header))
    array = numpy.frombuffer(raw[header:], dtype=dtype).reshape(shape)
    return array.astype(dtype.newbyteorder('='))


def _is_number(text):
    try:
        float(text)
        return True
    except ValueError:
        return False


def _read_table(path, kind):
    delimiter = '\t' if kind == 'tsv' else ','
    opener = gzip.open if path.lower().endswith('.gz') else open
    try:
        with opener(path, 'rt', newline='') as f:
            rows = [row for row in csv.reader(f, delimiter=delimiter)
                    if row and any(cell.strip() for cell in row)]
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise DataError('%s: cannot read as text table (%s)' % (path, e))
    if not rows:
        raise DataError('%s is empty' % path)
    header = None
    if not all(_is_number(cell) for cell in rows[0]):
        header, rows = [cell.strip() for cell in rows[0]], rows[1:]
    if not rows:
        raise DataError('%s has a header but no data rows' % path)
    width = len(header) if header is not None else len(rows[0])
    for i, row in enumerate(rows):
        if len(row) != width:
            raise DataError('%s: row %d has %d columns, expected %d (ragged CSV)'
                            % (path, i + 1 + (header is not None), len(row), width))
    try:
        table = numpy.array([[float(cell) for cell in row] for row in rows],
                            dtype=numpy.float64)
    except ValueError as e:
        raise DataError('%s: non-numeric value (%s)' % (path, e))
    return table, header


def _load_csv(path, kind, label_column):
    table, header = _read_table(path, kind)
    y = None
    if label_column is not None:
        column = label_column
        if isinstance(column, str) and not column.lstrip('-').isdigit():
            if header is None or column not in header:
                raise DataError('%s: no column named %r' % (path, column))
            column = header.index(column)
        column = int(column)
        if not -table.shape[1] <= column < table.shape[1]:
            raise DataError('%s: label column %d out of range (%d columns)'
                            % (path, column, table.shape[1]))
        y = table[:, column]
        table = numpy.delete(table, column, axis=1)
    if table.size:
        check_samples(table, name=path)  # before the cast: 1e39 would become inf
    return table.astype(numpy.float32), y


def _load_image_folder(path):
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover
        raise DataError('reading a folder of images needs Pillow: pip install pillow')

    def images_in(folder):
        return sorted(os.path.join(folder, n) for n in os.listdir(folder)
                      if n.lower().endswith(IMAGE_EXTENSIONS))

    files = images_in(path)
    labels = None
    if not files:
        classes = sorted(n for n in os.listdir(path)
                         if os.path.isdir(os.path.join(path, n)))
        labels = []
        for index, name in enumerate(classes):
            found = images_in(os.path.join(path, name))
            files.extend(found)
            labels.extend([index] * len(found))
    if not files:
        raise DataError('%s holds no images (%s)' % (path, ', '.join(IMAGE_EXTENSIONS)))
    arrays = []
    for f in files:
        try:
            with Image.open(f) as image:
                image = image.convert('L' if image.mode in ('1', 'L', 'P', 'I;16')
                                      else 'RGB')
                arrays.append(numpy.asarray(image, dtype=numpy.uint8))
        except (OSError, ValueError) as e:
            raise DataError('%s: cannot read image (%s)' % (f, e))
    odd = next((i for i, a in enumerate(arrays) if a.shape != arrays[0].shape), None)
    if odd is not None and arrays[0].shape[:2] == arrays[odd].shape[:2]:
        grey, colour = (0, odd) if arrays[0].ndim == 2 else (odd, 0)
        raise DataError('%s mixes greyscale and colour images (%s is greyscale, %s is RGB); '
                        'convert them to one mode first' % (path, files[grey], files[colour]))
    if odd is not None:
        raise DataError('%s: images have different sizes (%s is %s, %s is %s); '
                        'resize them to one size first'
                        % (path, files[0], arrays[0].shape, files[odd], arrays[odd].shape))
    y = None if labels is None else numpy.asarray(labels, dtype=numpy.int64)
    return numpy.stack(arrays), y
