"""The runtime alone (numpy + onnxruntime): labels what the trainer exported.

Fixtures in data/ come from tools/make_runtime_fixture.py: a DEC model trained
and exported by chainclust, with Chainer's labels, embeddings and soft
assignments for 200 digits.
"""
import os
import subprocess
import sys

import numpy
import pytest

from chainclust_runtime import Assigner, DataError, ModelFileError
from chainclust_runtime.cli import assign_file, main

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'data')
MODEL = os.path.join(DATA, 'dec_digits.onnx')


def _load(name):
    return numpy.load(os.path.join(DATA, name), allow_pickle=False)


@pytest.fixture(scope='module')
def assigner():
    return Assigner(MODEL)


def test_labels_embeddings_and_proba_match_chainer(assigner):
    x = _load('digits_x.npy')
    numpy.testing.assert_array_equal(assigner.predict(x), _load('digits_labels.npy'))
    numpy.testing.assert_allclose(assigner.transform(x), _load('digits_embedding.npy'),
                                  atol=1e-5)
    numpy.testing.assert_allclose(assigner.predict_proba(x), _load('digits_proba.npy'),
                                  atol=1e-5)


def test_metadata(assigner):
    assert assigner.n_clusters == 10
    assert assigner.input_shape == (8, 8) and assigner.input_dtype == numpy.uint8
    assert assigner.metadata['method'] == 'dec' and assigner.score == 'proba'
    assert assigner.metadata['normalization']['mode'] == 'scale255'
    assert len(assigner.metadata['data']['fingerprint']) == 16
    with pytest.raises(ModelFileError, match='distances'):
        assigner.distances(_load('digits_x.npy'))


def test_any_batch_size(assigner):
    x = _load('digits_x.npy')
    expected = _load('digits_labels.npy')
    for n in (1, 7, 200):
        numpy.testing.assert_array_equal(assigner.predict(x[:n]), expected[:n])


def test_a_single_image_is_a_batch_of_one(assigner):
    x = _load('digits_x.npy')
    expected = _load('digits_labels.npy')
    for i in (0, 5):
        numpy.testing.assert_array_equal(assigner.predict(x[i]), expected[i:i + 1])
        assert assigner.predict_proba(x[i]).shape == (1, 10)
    with pytest.raises(DataError, match='shape'):
        assigner.predict(x[0, :7])
    with pytest.raises(DataError, match='must be a numeric array with one shape'):
        assigner.predict([[1, 2], [3]])  # ragged: a clear message, not NumPy's


def test_whole_valued_input_of_other_dtypes_is_cast(assigner):
    x = _load('digits_x.npy')
    for dtype in (numpy.int64, numpy.float64):
        numpy.testing.assert_array_equal(assigner.predict(x.astype(dtype)),
                                         _load('digits_labels.npy'))


@pytest.mark.parametrize('x,message', [
    (numpy.zeros((3, 7, 7), numpy.uint8), 'shape'),
    (numpy.full((2, 8, 8), numpy.nan), 'NaN'),
    (numpy.zeros((0, 8, 8), numpy.uint8), 'empty'),
    (numpy.full((2, 8, 8), 300), 'whole values in 0..255'),
    (numpy.full((2, 8, 8), 0.5), 'not levels divided by 255'),
])
def test_bad_input(assigner, x, message):
    with pytest.raises(DataError, match=message):
        assigner.predict(x)


def test_bad_model_files(tmp_path):
    with pytest.raises(ModelFileError, match='no such model file'):
        Assigner(str(tmp_path / 'missing.onnx'))
    (tmp_path / 'junk.onnx').write_bytes(b'not a model at all')
    with pytest.raises(ModelFileError, match='not a valid ONNX model'):
        Assigner(str(tmp_path / 'junk.onnx'))
    with pytest.raises(ModelFileError, match='not a chainclust assigner'):
        Assigner(os.path.join(DATA, 'foreign.onnx'))


@pytest.mark.parametrize('suffix', ['.npy', '.csv', '.txt'])
def test_assign_file_streams_in_chunks(tmp_path, suffix):
    out = str(tmp_path / ('labels' + suffix))
    seen = []
    n = assign_file(MODEL, os.path.join(DATA, 'digits_x.npy'), out, batch_size=64,
                    progress=lambda done, total: seen.append((done, total)))
    assert n == 200 and seen == [(64, 200), (128, 200), (192, 200), (200, 200)]
    if suffix == '.npy':
        got = numpy.load(out, allow_pickle=False)
    else:
        got = numpy.loadtxt(out, dtype=numpy.int64, skiprows=1 if suffix == '.csv' else 0)
    numpy.testing.assert_array_equal(got, _load('digits_labels.npy'))
    assert oct(os.stat(out).st_mode & 0o777) != oct(0o600)


def test_failed_assign_keeps_existing_output(tmp_path):
    x = _load('digits_x.npy').astype(numpy.float64)
    x[150] = numpy.nan  # only the third chunk is bad
    numpy.save(tmp_path / 'bad.npy', x)
    out = tmp_path / 'labels.npy'
    numpy.save(out, numpy.arange(3))
    with pytest.raises(DataError, match='NaN'):
        assign_file(MODEL, str(tmp_path / 'bad.npy'), str(out), batch_size=64)
    numpy.testing.assert_array_equal(numpy.load(out), numpy.arange(3))
    assert sorted(os.listdir(tmp_path)) == ['bad.npy', 'labels.npy']


def test_truncated_npy(tmp_path):
    data = open(os.path.join(DATA, 'digits_x.npy'), 'rb').read()
    (tmp_path / 'cut.npy').write_bytes(data[:-100])
    with pytest.raises(DataError, match='truncated'):
        assign_file(MODEL, str(tmp_path / 'cut.npy'), str(tmp_path / 'o.npy'))


def test_command_line(tmp_path, capsys):
    out = str(tmp_path / 'labels.csv')
    assert main([MODEL, os.path.join(DATA, 'digits_x.npy'), '-o', out, '-q']) == 0
    assert main([MODEL, str(tmp_path / 'none.npy'), '-o', out]) == 1
    assert 'error: no such file' in capsys.readouterr().err
    assert main([MODEL, os.path.join(DATA, 'digits_x.npy'), '-o',
                 str(tmp_path / 'labels.json')]) == 1


def test_never_imports_chainer():
    code = ('import sys, numpy, chainclust_runtime; '
            'from chainclust_runtime.cli import main; '
            "sys.exit(any(m.split('.')[0] in ('chainer', 'cupy', 'chainclust') "
            'for m in sys.modules))')
    subprocess.run([sys.executable, '-c', code], check=True)
