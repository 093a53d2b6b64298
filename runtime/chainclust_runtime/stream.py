"""Chunked reading of inputs and atomic writing of labels, for bounded memory."""
import contextlib
import os
import tempfile

import numpy

from chainclust_runtime.errors import DataError
from chainclust_runtime.readers import _check_exists, _kind, read_data


def _npy_layout(path):
    """``(shape, dtype, data offset, fortran_order)`` of an ``.npy`` file."""
    with open(path, 'rb') as f:
        try:
            version = numpy.lib.format.read_magic(f)
            reader = {(1, 0): numpy.lib.format.read_array_header_1_0,
                      (2, 0): numpy.lib.format.read_array_header_2_0}[version]
            shape, fortran, dtype = reader(f)
        except (ValueError, KeyError) as e:
            raise DataError('%s is not a valid .npy file (%s)' % (path, e))
        if dtype.hasobject:
            raise DataError('%s holds Python objects; chainclust never unpickles files'
                            % path)
        return shape, dtype, f.tell(), fortran


def open_chunks(path, batch_size, label_column=None):
    """``(n_rows, iterator over arrays of at most batch_size rows)``.

    ``.npy`` files are memory-mapped one chunk at a time and unmapped after
    use, so resident memory stays near one chunk whatever the file size;
    other formats are read whole and then sliced.
    """
    path = os.fspath(path)
    _check_exists(path)
    if _kind(path) == 'npy' and not path.lower().endswith('.gz'):
        shape, dtype, offset, fortran = _npy_layout(path)
        if len(shape) == 0:
            raise DataError('%s holds a single number (a 0-d array), not samples' % path)
        if fortran:
            x, _ = read_data(path)
            return len(x), (x[i:i + batch_size] for i in range(0, len(x), batch_size))
        row = int(numpy.prod(shape[1:], dtype=numpy.int64)) * dtype.itemsize
        expected = offset + shape[0] * row
        if os.path.getsize(path) < expected:
            raise DataError('%s is truncated: the header promises %d bytes'
                            % (path, expected))

        def chunks():
            for start in range(0, shape[0], batch_size):
                n = min(batch_size, shape[0] - start)
                chunk = numpy.memmap(path, dtype=dtype, mode='r',
                                     offset=offset + start * row, shape=(n,) + shape[1:])
                yield numpy.array(chunk)
                del chunk  # unmap: pages already read leave the resident set
        return shape[0], chunks()
    x, _ = read_data(path, label_column)
    x = numpy.asarray(x)
    if x.ndim == 0:
        raise DataError('%s holds a scalar, not samples' % path)
    return len(x), (x[i:i + batch_size] for i in range(0, len(x), batch_size))


TMP_PREFIX = '.tmp-chainclust-'


def remove_stale_temporaries(directory):
    """Remove ``.tmp-chainclust-PID-*`` files of processes that no longer run.

    A killed writer (SIGKILL, power loss) cannot remove its temporary file;
    the next writer in the same folder does.
    """
    for name in os.listdir(directory):
        if not name.startswith(TMP_PREFIX):
            continue
        pid = name[len(TMP_PREFIX):].split('-', 1)[0]
        if pid.isdigit() and not _running(int(pid)):
            try:
                os.remove(os.path.join(directory, name))
            except OSError:
                pass


def _running(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. another user's process
        return True
    return True


@contextlib.contextmanager
def label_writer(path, n_rows):
    """Yield ``write(labels_chunk)``; the file appears complete or not at all.

    ``.npy`` gets an int64 array of ``n_rows``; ``.csv``/``.txt`` one label per
    line (``.csv`` with a ``label`` header).
    """
    path = os.fspath(path)
    suffix = os.path.splitext(path)[1].lower()
    if suffix not in ('.npy', '.csv', '.txt'):
        raise DataError('output must end in .npy, .csv or .txt, got %s' % path)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise DataError('no such folder for the output: %s' % directory)
    if os.path.isdir(path):
        raise DataError('the output %s is a folder; give a file name ending in .npy, .csv '
                        'or .txt' % path)
    remove_stale_temporaries(directory)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix='%s%d-' % (TMP_PREFIX, os.getpid()),
                               suffix=suffix)
    os.close(fd)
    written = [0]
    try:
        if suffix == '.npy':
            out = numpy.lib.format.open_memmap(tmp, mode='w+', dtype=numpy.int64,
                                               shape=(n_rows,))

            def write(labels):
                out[written[0]:written[0] + len(labels)] = labels
                written[0] += len(labels)
            yield write
            out.flush()
            del out
        else:
            with open(tmp, 'w') as f:
                if suffix == '.csv':
                    f.write('label\n')

                def write(labels):
                    f.write(''.join('%d\n' % v for v in labels))
                    written[0] += len(labels)
                yield write
        if written[0] != n_rows:
            raise DataError('wrote %d labels for %d rows' % (written[0], n_rows))
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private (0600)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
