"""Atomic file writes: a file is either the old one or the complete new one."""
import contextlib
import json
import os
import tempfile

from chainclust_runtime.stream import remove_stale_temporaries, TMP_PREFIX


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``; move it into place on success."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    suffix = os.path.splitext(path)[1]  # keep the extension: numpy.savez adds one
    remove_stale_temporaries(directory)  # left by writers that were killed
    fd, tmp = tempfile.mkstemp(dir=directory, prefix='%s%d-' % (TMP_PREFIX, os.getpid()),
                               suffix=suffix)
    os.close(fd)
    try:
        yield tmp
        os.chmod(tmp, default_file_mode())  # mkstemp makes it private (0600)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def default_file_mode():
    """The mode a new file gets under the current umask (usually 0644)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_json(path, obj):
    """Write ``obj`` as indented JSON to ``path`` atomically."""
    with atomic_path(path) as tmp:
        with open(tmp, 'w') as f:
            json.dump(obj, f, indent=2, sort_keys=True)
            f.write('\n')


def save_npy(path, array):
    """``numpy.save`` to ``path`` atomically."""
    import numpy
    with atomic_path(path) as tmp:
        numpy.save(tmp, array, allow_pickle=False)


def load_npz(path, obj, strict=True):
    """Load a ``save_npz`` file into ``obj`` without ever unpickling.

    Chainer's own ``serializers.load_npz`` passes ``allow_pickle=True`` to
    NumPy; this reads the same files with ``allow_pickle=False``.

    Raises:
        ModelFileError: the file is missing, not an npz, holds Python objects,
            or does not match ``obj``.
    """
    import zipfile

    import numpy
    from chainer.serializers import NpzDeserializer

    from chainclust.errors import ModelFileError
    try:
        with numpy.load(path, allow_pickle=False) as f:
            NpzDeserializer(f, strict=strict).load(obj)
    except FileNotFoundError:
        raise ModelFileError('no such file: %s' % path)
    except (zipfile.BadZipFile, OSError, EOFError) as e:
        raise ModelFileError('%s is not a valid .npz file (%s)' % (path, e))
    except ValueError as e:
        if 'pickle' in str(e).lower():
            raise ModelFileError('%s is not a chainclust parameter file' % path)
        raise ModelFileError('%s does not match the model (%s)' % (path, e))
    except KeyError as e:
        raise ModelFileError('%s does not match the model (missing %s)' % (path, e))
