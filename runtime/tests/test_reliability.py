"""Regression tests: assign never loses or half-writes a file, never labels garbage silently."""
import os
import subprocess
import sys

import numpy
import pytest

from chainclust_runtime import Assigner, DataError
from chainclust_runtime.cli import assign_file
from chainclust_runtime.stream import remove_stale_temporaries, TMP_PREFIX

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'data')
MODEL = os.path.join(DATA, 'dec_digits.onnx')


def _digits():
    return numpy.load(os.path.join(DATA, 'digits_x.npy'), allow_pickle=False)


def test_empty_input_is_an_error_and_keeps_the_output(tmp_path):
    numpy.save(tmp_path / 'empty.npy', numpy.zeros((0, 8, 8), numpy.uint8))
    out = tmp_path / 'labels.npy'
    numpy.save(out, numpy.arange(5))
    with pytest.raises(DataError, match='holds no rows: nothing to label'):
        assign_file(MODEL, str(tmp_path / 'empty.npy'), str(out))
    numpy.testing.assert_array_equal(numpy.load(out), numpy.arange(5))


@pytest.mark.parametrize('spelling', ['same', 'dotted', 'symlink', 'hardlink'])
def test_output_naming_the_input_is_refused(tmp_path, spelling):
    data = tmp_path / 'data.npy'
    numpy.save(data, _digits()[:20])
    before = data.read_bytes()
    output = {'same': str(data),
              'dotted': os.path.join(str(tmp_path), '.', 'sub', '..', 'data.npy'),
              'symlink': str(tmp_path / 'link.npy'),
              'hardlink': str(tmp_path / 'hard.npy')}[spelling]
    (tmp_path / 'sub').mkdir()
    if spelling == 'symlink':
        os.symlink(str(data), output)
    if spelling == 'hardlink':
        os.link(str(data), output)
    with pytest.raises(DataError, match='is the input data'):
        assign_file(MODEL, str(data), output)
    assert data.read_bytes() == before
    with pytest.raises(DataError, match='is the model'):
        assign_file(MODEL, str(data), MODEL)


def test_output_that_is_a_folder(tmp_path):
    numpy.save(tmp_path / 'data.npy', _digits()[:5])
    (tmp_path / 'out.npy').mkdir()
    with pytest.raises(DataError, match='is a folder'):
        assign_file(MODEL, str(tmp_path / 'data.npy'), str(tmp_path / 'out.npy'))


def test_values_beyond_float32_are_refused_with_the_row_in_the_file(tmp_path):
    x = _digits().astype(numpy.float64)
    x[150, 2, 3] = 1e39  # finite in float64, inf in float32; in the third chunk of 64
    numpy.save(tmp_path / 'big.npy', x)
    with pytest.raises(DataError, match=r'beyond the float32 range \(first at sample 150: '):
        assign_file(MODEL, str(tmp_path / 'big.npy'), str(tmp_path / 'l.npy'), batch_size=64)
    assert not os.path.exists(str(tmp_path / 'l.npy'))
    with pytest.raises(DataError, match='first at sample 150'):
        Assigner(MODEL).predict(x)


def test_leftovers_of_dead_writers_are_removed(tmp_path):
    dead = subprocess.run([sys.executable, '-c', 'import os; print(os.getpid())'],
                          stdout=subprocess.PIPE, text=True, check=True).stdout.strip()
    stale = tmp_path / ('%s%s-abc.npy' % (TMP_PREFIX, dead))
    live = tmp_path / ('%s%d-abc.npy' % (TMP_PREFIX, os.getpid()))
    other = tmp_path / '.tmp-someone-else.npy'
    for path in (stale, live, other):
        path.write_bytes(b'x')
    remove_stale_temporaries(str(tmp_path))
    assert not stale.exists() and live.exists() and other.exists()


def test_sigterm_during_assign_leaves_no_temporary(tmp_path):
    numpy.save(tmp_path / 'data.npy', _digits())
    code = '''
import os, signal, sys
from chainclust_runtime import cli
real = cli.Assigner._labels
def labels(self, *args):
    os.kill(os.getpid(), signal.SIGTERM)  # as if the user stopped the job here
    return real(self, *args)
cli.Assigner._labels = labels
sys.exit(cli.main([sys.argv[1], sys.argv[2], '-o', sys.argv[3], '-q']))
'''
    out = tmp_path / 'labels.npy'
    result = subprocess.run([sys.executable, '-c', code, MODEL, str(tmp_path / 'data.npy'),
                             str(out)])
    assert result.returncode == 128 + 15
    assert sorted(os.listdir(str(tmp_path))) == ['data.npy']


def test_missing_onnxruntime_names_the_extra(monkeypatch):
    from chainclust_runtime import ChainclustError
    monkeypatch.setitem(sys.modules, 'onnxruntime', None)  # import onnxruntime fails
    with pytest.raises(ChainclustError, match=r"pip install 'chainclust\[cpu\]'"):
        Assigner(MODEL)


@pytest.mark.parametrize('dtype', ['>f4', '>f8', '>i2'])
def test_big_endian_input_labels_like_native(dtype):
    x = _digits()
    native = Assigner(MODEL).predict(x)
    numpy.testing.assert_array_equal(Assigner(MODEL).predict(x.astype(dtype)), native)


def test_eight_threads_share_one_assigner():
    from concurrent.futures import ThreadPoolExecutor
    x = _digits()
    assigner = Assigner(MODEL)
    expected = assigner.predict(x)
    chunks = [x[i::8] for i in range(8)]
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(assigner.predict, chunks * 4))
    for i, labels in enumerate(results):
        numpy.testing.assert_array_equal(labels, expected[i % 8::8])


def test_two_processes_writing_one_output(tmp_path):
    numpy.save(tmp_path / 'data.npy', numpy.repeat(_digits(), 20, axis=0))  # 4,000 rows
    out = str(tmp_path / 'labels.npy')
    command = [sys.executable, '-m', 'chainclust_runtime.cli', MODEL,
               str(tmp_path / 'data.npy'), '-o', out, '-q', '--batch-size', '64']
    first, second = subprocess.Popen(command), subprocess.Popen(command)
    assert first.wait() == 0 and second.wait() == 0
    labels = numpy.load(out)
    numpy.testing.assert_array_equal(labels, Assigner(MODEL).predict(
        numpy.load(str(tmp_path / 'data.npy'))))
    assert sorted(os.listdir(str(tmp_path))) == ['data.npy', 'labels.npy']
