"""Regression tests of the trainer side: dtypes normalised at load, export checks, CLI errors."""
import os

from click.testing import CliRunner
import numpy
import pytest

from chainclust import DEC, datasets
from chainclust.cli import main
from chainclust.errors import ParameterError
from chainclust_export import export_onnx
from chainclust_export.errors import ExportError
from chainclust_runtime import Assigner

TINY = dict(n_clusters=3, hidden_dims=(8,), embedding_dim=2, finetune_epochs=1,
            batch_size=32, update_interval=5, max_iter=5, n_init=1, random_state=0)


@pytest.fixture(scope='module')
def digits():
    return datasets.load('digits').subset(150, random_state=0)


def test_big_endian_data_trains_and_exports_like_native(digits, tmp_path):
    x = digits.x.astype(numpy.float32)
    native = DEC(**TINY).fit(x)
    swapped = DEC(**TINY).fit(x.astype('>f4'))
    numpy.testing.assert_array_equal(swapped.labels_, native.labels_)
    assert swapped.input_dtype_ == 'float32'
    export_onnx(swapped, str(tmp_path / 'm.onnx'))
    numpy.testing.assert_array_equal(Assigner(str(tmp_path / 'm.onnx')).predict(x),
                                     native.labels_)


def test_bool_data_trains_and_exports(digits, tmp_path):
    x = digits.x > 128
    model = DEC(**TINY).fit(x)
    assert model.input_dtype_ == 'float32'
    export_onnx(model, str(tmp_path / 'm.onnx'))
    numpy.testing.assert_array_equal(Assigner(str(tmp_path / 'm.onnx')).predict(x),
                                     model.labels_)


def test_export_opset_range_and_load_check(digits, tmp_path):
    model = DEC(**TINY).fit(digits.x)
    path = str(tmp_path / 'm.onnx')
    with pytest.raises(ExportError, match=r'opset must be in 17\.\.\d+'):
        export_onnx(model, path, opset=99)
    assert not os.path.exists(path)
    from chainclust_export.exporter import _check_loads
    (tmp_path / 'bad.onnx').write_bytes(b'not a model')
    with pytest.raises(ExportError, match='cannot load the exported model'):
        _check_loads(str(tmp_path / 'bad.onnx'), 17)


def test_parameter_errors_are_chainclust_and_scikit_learn_errors(digits):
    from sklearn.utils._param_validation import InvalidParameterError
    with pytest.raises(ParameterError) as error:
        DEC(**dict(TINY, tol=5.0)).fit(digits.x)
    assert isinstance(error.value, InvalidParameterError)
    with pytest.raises(ParameterError, match='more than the 150 samples'):
        DEC(**dict(TINY, n_clusters=500)).fit(digits.x)


def test_unexpected_errors_keep_their_traceback(monkeypatch):
    def broken(*args, **kwargs):
        raise KeyError('internal')
    monkeypatch.setattr(datasets, 'load', broken)
    result = CliRunner().invoke(main, ['train', 'dec', '--data', 'digits', '-q'])
    assert result.exit_code == 1
    assert 'Traceback' in result.output and "KeyError: 'internal'" in result.output
    assert 'this is a bug in chainclust' in result.output


def test_export_refuses_opset_99_on_the_command_line(tmp_path, digits):
    out = str(tmp_path / 'r')
    DEC(out=out, **TINY).fit(digits.x)
    result = CliRunner().invoke(main, ['export', out, '--onnx', str(tmp_path / 'm.onnx'),
                                       '--opset', 99])
    assert result.exit_code != 0 and 'opset' in result.output
    assert 'Traceback' not in result.output and not os.path.exists(str(tmp_path / 'm.onnx'))


@pytest.fixture
def trained_on_a_file(digits, tmp_path):
    path = str(tmp_path / 'data.npy')
    numpy.save(path, digits.x)
    out = str(tmp_path / 'r')
    DEC(out=out, **TINY).fit(datasets.load(path))
    return path, out


def test_evaluate_warns_when_the_recorded_data_changed(trained_on_a_file):
    path, out = trained_on_a_file
    result = CliRunner().invoke(main, ['evaluate', out])
    assert result.exit_code == 0 and 'warning' not in result.output
    x = numpy.load(path)
    x[0] = 255 - x[0]
    numpy.save(path, x)
    result = CliRunner().invoke(main, ['evaluate', out])
    assert result.exit_code == 0
    assert 'warning: %s changed since training (fingerprint ' % path in result.output


def test_evaluate_refuses_what_the_runtime_refuses(trained_on_a_file, tmp_path):
    path, out = trained_on_a_file
    numpy.save(str(tmp_path / 'scaled.npy'), numpy.load(path) / 255.0)
    result = CliRunner().invoke(main, ['evaluate', out, '--data', str(tmp_path / 'scaled.npy')])
    assert result.exit_code == 1
    assert 'X must hold whole values in 0..255 like the uint8 training data' in result.output
    model = DEC.load(out)
    with pytest.raises(Exception, match='whole values in 0..255'):
        model.predict(numpy.load(path) / 255.0)
    numpy.testing.assert_array_equal(model.predict(numpy.load(path).astype(float)),
                                     model.predict(numpy.load(path)))


def test_planted_symlink_is_not_followed(digits, tmp_path):
    outside = tmp_path / 'precious.txt'
    outside.write_text('keep me')
    phase = tmp_path / 'r' / 'finetune'
    phase.mkdir(parents=True)
    os.symlink(str(outside), str(phase / 'loss.png'))
    DEC(out=str(tmp_path / 'r'), **TINY).fit(digits.x)
    assert outside.read_text() == 'keep me'
    assert not os.path.islink(str(phase / 'loss.png'))


def test_corrupt_snapshot_says_which_file_to_delete(digits, tmp_path):
    from chainclust.errors import ResumeError
    out = str(tmp_path / 'r')
    DEC(out=out, **TINY).fit(digits.x)
    os.remove(os.path.join(out, 'finetune', 'done.npz'))  # as if killed mid-phase ...
    with open(os.path.join(out, 'finetune', 'snapshot'), 'wb') as f:
        f.write(b'garbage')  # ... while the disk failed
    with pytest.raises(ResumeError, match=r'cannot resume from .*snapshot .*delete it to '
                                          r'train this phase from its start'):
        DEC(out=out, **TINY).fit(digits.x)


def test_gzipped_npy_loads(tmp_path, digits):
    import gzip
    numpy.save(str(tmp_path / 'x.npy'), digits.x)
    with open(str(tmp_path / 'x.npy'), 'rb') as f, gzip.open(str(tmp_path / 'x.npy.gz'),
                                                              'wb') as g:
        g.write(f.read())
    numpy.testing.assert_array_equal(datasets.load(str(tmp_path / 'x.npy.gz')).x, digits.x)
    with gzip.open(str(tmp_path / 'y.npy.gz'), 'wb') as g:
        g.write(b'plain text')
    with pytest.raises(Exception, match='gzip-compressed, but not a compressed .npy'):
        datasets.load(str(tmp_path / 'y.npy.gz'))


def test_mixed_grey_and_colour_images_are_named(tmp_path):
    from PIL import Image
    Image.fromarray(numpy.zeros((8, 8), numpy.uint8)).save(str(tmp_path / 'a.png'))
    Image.fromarray(numpy.zeros((8, 8, 3), numpy.uint8)).save(str(tmp_path / 'b.png'))
    with pytest.raises(Exception, match='mixes greyscale and colour images .*a.png is '
                                        'greyscale, .*b.png is RGB'):
        datasets.load(str(tmp_path))


@pytest.mark.parametrize('edit,named', [
    (lambda i: i.update(params=[1, 2]), 'params'),
    (lambda i: i['input'].update(shape='8x8'), 'input.shape'),
    (lambda i: i['input'].update(dtype='object'), 'input.dtype'),
    (lambda i: i.update(method=3, metrics='good'), 'method, metrics'),
])
def test_model_json_fields_of_the_wrong_type_are_named(digits, tmp_path, edit, named):
    import json
    from chainclust.errors import ModelFileError
    out = str(tmp_path / 'r')
    DEC(out=out, **TINY).fit(digits.x)
    with open(os.path.join(out, 'model.json')) as f:
        info = json.load(f)
    edit(info)
    with open(os.path.join(out, 'model.json'), 'w') as f:
        json.dump(info, f)
    with pytest.raises(ModelFileError, match='fields of the wrong type: ' + named):
        DEC.load(out)


def test_forged_metadata_is_refused(digits, tmp_path):
    import onnx
    from chainclust.errors import ModelFileError
    model = DEC(**TINY).fit(digits.x)
    path = str(tmp_path / 'm.onnx')
    proto = export_onnx(model, path)
    for key, value in (('chainclust.input_shape', '[9, 9]'), ('chainclust.n_clusters', '7'),
                       ('chainclust.input_dtype', 'float32'), ('chainclust.score', 'distance')):
        forged = onnx.ModelProto()
        forged.CopyFrom(proto)
        for prop in forged.metadata_props:
            if prop.key == key:
                prop.value = value
        onnx.save(forged, str(tmp_path / 'forged.onnx'))
        with pytest.raises(ModelFileError, match='does not match its chainclust metadata'):
            Assigner(str(tmp_path / 'forged.onnx'))


def test_cli_int8_export_calibrates_on_the_recorded_data(trained_on_a_file, digits, tmp_path):
    path, out = trained_on_a_file
    onnx_path = str(tmp_path / 'q.onnx')
    result = CliRunner().invoke(main, ['export', out, '--onnx', onnx_path, '--quantize',
                                       'int8'])
    assert result.exit_code == 0, result.output
    assigner = Assigner(onnx_path)
    assert assigner.metadata['quantization'] == 'int8-static'
    labels = assigner.predict(digits.x)
    numpy.testing.assert_array_equal(
        numpy.concatenate([assigner.predict(digits.x[i:i + 7]) for i in range(0, 150, 7)]),
        labels)
    bare = str(tmp_path / 'bare')
    DEC(out=bare, **TINY).fit(digits.x)  # arrays: no recorded source
    result = CliRunner().invoke(main, ['export', bare, '--onnx', onnx_path, '--quantize',
                                       'int8'])
    assert result.exit_code == 1 and '--calibration-data' in result.output
    result = CliRunner().invoke(main, ['export', bare, '--onnx', onnx_path, '--quantize',
                                       'int8', '--calibration-data', path])
    assert result.exit_code == 0, result.output
