"""``chainclust-assign MODEL.onnx DATA -o labels.npy``: label data with onnxruntime."""
import argparse
import os
import signal
import sys
import time

from chainclust_runtime.assigner import Assigner
from chainclust_runtime.errors import ChainclustError, DataError
from chainclust_runtime.stream import label_writer, open_chunks


def assign_file(model, data, output, batch_size=4096, label_column=None,
                progress=None):
    """Label every row of ``data`` with ``model`` and write ``output`` atomically.

    Args:
        model (Assigner or str): the assigner or its ``.onnx`` path.
        data (str): input file (``.npy`` is streamed; see :mod:`stream`).
        output (str): ``.npy``, ``.csv`` or ``.txt``.
        batch_size (int): rows per inference call.
        label_column: CSV only; a label column to drop from the features.
        progress: callable ``(done, total)`` called after each chunk.

    Returns:
        int: the number of rows labelled.
    """
    if batch_size < 1:
        raise ChainclustError('batch size must be >= 1, got %d' % batch_size)
    for path, what in ((data, 'input data'), (getattr(model, 'path', model), 'model')):
        if isinstance(path, str) and _same_file(output, path):
            raise DataError('the output %s is the %s %s; choose another -o (nothing was '
                            'written)' % (output, what, path))
    assigner = model if isinstance(model, Assigner) else Assigner(model)
    n_rows, chunks = open_chunks(data, batch_size, label_column)
    if n_rows == 0:
        raise DataError('%s holds no rows: nothing to label (an existing %s is kept)'
                        % (data, output))
    done = 0
    with label_writer(output, n_rows) as write:
        for chunk in chunks:
            write(assigner._labels(chunk, str(data), done))
            done += len(chunk)
            if progress is not None:
                progress(done, n_rows)
    return done


def exit_on_sigterm():
    """Turn SIGTERM into SystemExit, so that ``finally`` blocks remove temporary files."""
    def handler(signum, frame):
        raise SystemExit(128 + signum)
    if hasattr(signal, 'SIGTERM'):
        signal.signal(signal.SIGTERM, handler)


def _same_file(a, b):
    """``True`` if paths ``a`` and ``b`` name one file (links and spellings included)."""
    a, b = os.fspath(a), os.fspath(b)
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)  # hard links
    except OSError:
        return False  # one of them does not exist yet


class ProgressBar(object):
    """A one-line progress bar on stderr: rows, percentage, rows/s."""

    def __init__(self, stream=sys.stderr, width=30):
        self.stream, self.width, self.start = stream, width, time.perf_counter()

    def __call__(self, done, total):
        fraction = done / float(max(total, 1))
        rate = done / max(time.perf_counter() - self.start, 1e-9)
        bar = '#' * int(self.width * fraction)
        self.stream.write('\r[%-*s] %d/%d rows (%3.0f%%, %.0f rows/s)'
                          % (self.width, bar, done, total, 100 * fraction, rate))
        if done >= total:
            self.stream.write('\n')
        self.stream.flush()


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog='chainclust-assign',
        description='Label data with an exported chainclust ONNX model.')
    parser.add_argument('model', help='the .onnx file from `chainclust export`')
    parser.add_argument('data', help='.npy (streamed), .npz, .csv, MNIST IDX or a '
                                     'folder of images')
    parser.add_argument('-o', '--output', required=True,
                        help='labels file: .npy, .csv or .txt (written atomically)')
    parser.add_argument('--batch-size', type=int, default=4096)
    parser.add_argument('--label-column', default=None,
                        help='CSV only: a label column to leave out of the features')
    parser.add_argument('-q', '--quiet', action='store_true', help='no progress bar')
    args = parser.parse_args(argv)
    exit_on_sigterm()
    try:
        n = assign_file(args.model, args.data, args.output, args.batch_size,
                        args.label_column, None if args.quiet else ProgressBar())
    except ChainclustError as e:
        sys.stderr.write('chainclust-assign: error: %s\n' % e)
        return 1
    if not args.quiet:
        sys.stderr.write('wrote %d labels to %s\n' % (n, args.output))
    return 0


if __name__ == '__main__':  # pragma: no cover
    sys.exit(main())
