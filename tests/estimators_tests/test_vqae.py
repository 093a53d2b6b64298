import glob
import json
import os

from click.testing import CliRunner
import numpy
import pytest

from chainclust import datasets, VQAE
from chainclust.cli import main
from chainclust.errors import DataError

TINY = dict(n_clusters=8, hidden_dims=(32, 16), code_dim=6, pretrain_epochs=3, epochs=6,
            batch_size=100, monitor_interval=3, random_state=0)


@pytest.fixture(scope='module')
def digits():
    return datasets.load('digits').subset(500, random_state=3)


@pytest.fixture(scope='module')
def fitted(digits, tmp_path_factory):
    out = str(tmp_path_factory.mktemp('vqae'))
    return VQAE(out=out, **TINY).fit(digits.x, digits.y), out


def _log(path):
    with open(path) as f:
        return json.load(f)


def test_labels_are_nearest_codes(fitted, digits):
    model, _ = fitted
    distances = model.distances(digits.x)
    assert distances.shape == (500, 8)
    numpy.testing.assert_array_equal(model.labels_, distances.argmin(axis=1))
    assert model.usage_.sum() == 500 and model.dead_codes_ == int((model.usage_ == 0).sum())
    numpy.testing.assert_array_equal(model.codebook_usage(digits.x), model.usage_)
    assert model.cluster_centers_.shape == (8, 6)
    assert model.transform(digits.x).shape == (500, 6)


def test_every_step_is_recorded(fitted):
    _, out = fitted
    log = _log(os.path.join(out, 'train', 'log'))
    assert len(log) == 6 * 5  # 6 epochs x 5 full batches, one entry per step
    for key in ('main/loss', 'main/reconstruction', 'main/quantizing',
                'main/reconstructed_quantized'):
        assert all(key in entry for entry in log), key
    # The encoder keeps learning to reconstruct; the decoder also learns to
    # reconstruct from the codes (the quantizing error may grow meanwhile, as
    # the encoder's outputs spread and the codebook follows them).
    for key in ('main/reconstruction', 'main/reconstructed_quantized'):
        assert log[-1][key] < log[0][key], key
    with_usage = [entry for entry in log if 'used_codes' in entry]
    assert [entry['epoch'] for entry in with_usage] == [3, 6]
    assert all(entry['used_codes'] + entry['dead_codes'] == 8 for entry in with_usage)


def test_periodic_images_and_histograms(fitted):
    _, out = fitted
    records = os.path.join(out, 'train', 'records')
    assert sorted(os.listdir(records)) == ['images_epoch003.png', 'images_epoch006.png',
                                           'usage_epoch003.png', 'usage_epoch006.png']
    for name in os.listdir(records):
        with open(os.path.join(records, name), 'rb') as f:
            assert f.read(8) == b'\x89PNG\r\n\x1a\n'


def test_codebook_initialised_from_encoder_outputs(digits):
    # With no VQ training the codebook is exactly the pretrained encoder's
    # outputs for n_codes distinct training samples.
    model = VQAE(**dict(TINY, epochs=0)).fit(digits.x)
    codes = model.cluster_centers_
    embeddings = model.transform(digits.x)
    hits = [numpy.abs(embeddings - code).max(axis=1).min() for code in codes]
    assert max(hits) < 1e-6
    assert set(model.init_codebook_stats_) == {'mean', 'std'}


@pytest.mark.parametrize('metric,variant,init', [
    ('cosine', 'study', 'pretrained'),
    ('euclidean', 'vqvae', 'untrained'),
    ('cosine', 'vqvae', 'pretrained'),
])
def test_variants(digits, tmp_path, metric, variant, init):
    model = VQAE(**dict(TINY, metric=metric, variant=variant, init=init,
                        out=str(tmp_path))).fit(digits.x)
    log = _log(os.path.join(str(tmp_path), 'train', 'log'))
    assert ('main/commitment' in log[0]) == (variant == 'vqvae')
    assert os.path.exists(os.path.join(str(tmp_path), 'pretrain')) == (init == 'pretrained')
    assert model.labels_.shape == (500,)


def test_tensorboard_events(digits, tmp_path):
    VQAE(**dict(TINY, epochs=3, tensorboard=True, out=str(tmp_path))).fit(digits.x)
    assert glob.glob(os.path.join(str(tmp_path), 'tensorboard', 'events.out.tfevents.*'))


def test_save_load(fitted, digits):
    model, out = fitted
    loaded = VQAE.load(out)
    numpy.testing.assert_array_equal(loaded.predict(digits.x), model.labels_)
    with open(os.path.join(out, 'model.json')) as f:
        info = json.load(f)
    assert info['method'] == 'vqae' and info['params']['metric'] == 'euclidean'
    assert 'init_codebook_stats' in info and 'dead_codes' in info
    assert loaded.dead_codes_ == model.dead_codes_
    numpy.testing.assert_array_equal(loaded.usage_, model.usage_)
    assert loaded.init_codebook_stats_ == model.init_codebook_stats_
    assert loaded.summary() == model.summary()


def test_reproducible(digits):
    a = VQAE(**dict(TINY, epochs=2)).fit(digits.x)
    b = VQAE(**dict(TINY, epochs=2)).fit(digits.x)
    numpy.testing.assert_array_equal(a.cluster_centers_, b.cluster_centers_)


@pytest.mark.parametrize('params,message', [
    ({'metric': 'l1'}, 'metric'), ({'variant': 'x'}, 'variant'), ({'init': 'x'}, 'init'),
    ({'n_clusters': 0}, 'n_clusters'), ({'batch_size': 10000}, 'batch_size'),
])
def test_bad_parameters(digits, params, message):
    with pytest.raises(ValueError, match=message):
        VQAE(**dict(TINY, **params)).fit(digits.x)


def test_predict_bad_input(fitted):
    with pytest.raises(DataError, match='shape'):
        fitted[0].predict(numpy.zeros((2, 4, 4)))


def test_cli(tmp_path):
    out = str(tmp_path / 'r')
    result = CliRunner().invoke(main, [
        'train', 'vqae', '--data', 'digits', '--limit', '300', '--codes', '6', '--metric',
        'cosine', '--hidden-dims', '16,8', '--code-dim', '4', '--pretrain-epochs', '1',
        '--epochs', '2', '--batch-size', '100', '--out', out, '--quiet'])
    assert result.exit_code == 0, result.output
    assert 'VQAE:' in result.output and 'codes used:' in result.output
    result = CliRunner().invoke(main, ['evaluate', out])
    assert result.exit_code == 0 and 'VQAE: 300 samples' in result.output
