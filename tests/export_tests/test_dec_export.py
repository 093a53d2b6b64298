"""DEC -> ONNX: parity with Chainer, metadata, errors, and the CLI round trip."""
import json
import os

from click.testing import CliRunner
import numpy
import onnx
import pytest

from chainclust import DEC, datasets
from chainclust.cli import main
from chainclust.errors import NotFittedError
from chainclust_export import ExportError, export_onnx
from chainclust_runtime import Assigner

TINY = dict(n_clusters=6, hidden_dims=(32, 32, 64), embedding_dim=5, pretrain_epochs=2,
            finetune_epochs=3, batch_size=64, update_interval=20, max_iter=40, n_init=2,
            random_state=0)


@pytest.fixture(scope='module')
def digits():
    return datasets.load('digits').subset(500, random_state=1)


@pytest.fixture(scope='module')
def exported(digits, tmp_path_factory):
    model = DEC(**TINY).fit(digits.x, digits.y)
    path = str(tmp_path_factory.mktemp('onnx') / 'dec.onnx')
    export_onnx(model, path)
    return model, path


def test_parity_with_chainer(exported, digits):
    model, path = exported
    assigner = Assigner(path)
    numpy.testing.assert_allclose(assigner.transform(digits.x), model.transform(digits.x),
                                  atol=1e-5, rtol=0)
    numpy.testing.assert_allclose(assigner.predict_proba(digits.x),
                                  model.predict_proba(digits.x), atol=1e-5, rtol=0)
    numpy.testing.assert_array_equal(assigner.predict(digits.x), model.predict(digits.x))


def test_float_input_model(digits, tmp_path):
    x = digits.x.reshape(len(digits.x), -1).astype(numpy.float32) / 16.0
    model = DEC(**dict(TINY, max_iter=20)).fit(x)
    export_onnx(model, str(tmp_path / 'f.onnx'))
    assigner = Assigner(str(tmp_path / 'f.onnx'))
    assert assigner.input_dtype == numpy.float32 and assigner.input_shape == (64,)
    numpy.testing.assert_allclose(assigner.transform(x), model.transform(x), atol=1e-5)
    numpy.testing.assert_array_equal(assigner.predict(x), model.predict(x))


def test_graph_structure(exported):
    _, path = exported
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    assert model.opset_import[0].version >= 17
    assert [i.name for i in model.graph.input] == ['input']
    assert [o.name for o in model.graph.output] == ['label', 'proba', 'embedding']
    batch = model.graph.input[0].type.tensor_type.shape.dim[0]
    assert batch.dim_param == 'batch'
    assert model.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.UINT8
    meta = {p.key: p.value for p in model.metadata_props}
    assert meta['chainclust.method'] == 'dec' and meta['chainclust.n_clusters'] == '6'
    assert json.loads(meta['chainclust.input_shape']) == [8, 8]
    assert set(json.loads(meta['chainclust.metrics'])) >= {'acc', 'nmi', 'ari'}
    assert oct(os.stat(path).st_mode & 0o777) != oct(0o600)


@pytest.fixture(scope='module')
def trained_exported(digits, tmp_path_factory):
    """A model trained long enough that its assignments are decisive: int8 rounding
    legitimately flips near-ties, so agreement means something only away from them."""
    model = DEC(**dict(TINY, pretrain_epochs=20, finetune_epochs=20, max_iter=200))
    model.fit(digits.x, digits.y)
    path = str(tmp_path_factory.mktemp('onnx-trained') / 'dec.onnx')
    export_onnx(model, path)
    assert Assigner(path).predict_proba(digits.x).max(axis=1).mean() > 0.25  # not near-uniform (1/K = 0.167)
    return model, path


def test_int8_variant_keeps_interface_and_mostly_agrees(trained_exported, digits, tmp_path):
    model, fp32_path = trained_exported
    path = str(tmp_path / 'int8.onnx')
    with pytest.raises(ExportError, match='needs calibration data'):
        export_onnx(model, path, quantize='int8')
    export_onnx(model, path, quantize='int8', calibration=digits.x)
    assigner = Assigner(path)
    assert assigner.metadata['quantization'] == 'int8-static'
    assert assigner.n_clusters == 6
    labels = assigner.predict(digits.x)
    agreement = (labels == Assigner(fp32_path).predict(digits.x)).mean()
    assert agreement > 0.9
    one_by_one = numpy.concatenate([assigner.predict(digits.x[i:i + 1])
                                    for i in range(len(digits.x))])
    numpy.testing.assert_array_equal(one_by_one, labels)  # no batch dependence
    assert os.path.getsize(path) < 0.7 * os.path.getsize(fp32_path)  # int8 weights


def test_export_errors(exported, tmp_path):
    model, _ = exported
    with pytest.raises(ExportError, match='opset'):
        export_onnx(model, str(tmp_path / 'a.onnx'), opset=11)
    with pytest.raises(ExportError, match='no such folder'):
        export_onnx(model, str(tmp_path / 'missing' / 'a.onnx'))
    with pytest.raises(NotFittedError):
        export_onnx(DEC(), str(tmp_path / 'b.onnx'))
    with pytest.raises(ExportError, match='quantize'):
        export_onnx(model, str(tmp_path / 'c.onnx'), quantize='int4')


def test_cli_train_export_assign_round_trip(tmp_path):
    runner = CliRunner()
    out = str(tmp_path / 'result')
    args = ['train', 'dec', '--data', 'digits', '--limit', '300', '--clusters', '5',
            '--out', out, '--hidden-dims', '16,16,32', '--embedding-dim', '4',
            '--pretrain-epochs', '1', '--finetune-epochs', '2', '--batch-size', '64',
            '--update-interval', '10', '--max-iter', '20', '--quiet']
    assert runner.invoke(main, args).exit_code == 0
    onnx_path = str(tmp_path / 'model.onnx')
    result = runner.invoke(main, ['export', out, '--onnx', onnx_path])
    assert result.exit_code == 0, result.output
    data = datasets.load('digits')
    numpy.save(tmp_path / 'new.npy', data.x[:123])
    labels = str(tmp_path / 'labels.npy')
    result = runner.invoke(main, ['assign', onnx_path, str(tmp_path / 'new.npy'), '-o',
                                  labels, '--batch-size', '50', '--quiet'])
    assert result.exit_code == 0, result.output
    expected = DEC.load(out).predict(data.x[:123])
    numpy.testing.assert_array_equal(numpy.load(labels, allow_pickle=False), expected)


def test_cli_errors(tmp_path):
    runner = CliRunner()
    result = runner.invoke(main, ['export', str(tmp_path), '--onnx', str(tmp_path / 'x')])
    assert result.exit_code == 1 and 'not a chainclust result folder' in result.output
    (tmp_path / 'x.onnx').write_bytes(b'junk')
    numpy.save(tmp_path / 'd.npy', numpy.zeros((2, 8, 8), numpy.uint8))
    result = runner.invoke(main, ['assign', str(tmp_path / 'x.onnx'),
                                  str(tmp_path / 'd.npy'), '-o', str(tmp_path / 'l.npy')])
    assert result.exit_code == 1 and 'not a valid ONNX model' in result.output
    assert 'Traceback' not in result.output
