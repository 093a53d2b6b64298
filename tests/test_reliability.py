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
