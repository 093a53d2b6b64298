import json
import os

import chainer
import numpy
import pytest

from chainclust import DEC, datasets
from chainclust.errors import DataError, ModelFileError, NotFittedError
from chainclust.functions import dec_kl_divergence
from chainclust.models import DECNet
from chainclust.training import ImageAugmenter, target_distribution

TINY = dict(n_clusters=10, hidden_dims=(32, 32, 64), embedding_dim=5,
            pretrain_epochs=2, finetune_epochs=4, batch_size=64, update_interval=20,
            max_iter=60, n_init=3, random_state=0)


@pytest.fixture(scope='module')
def digits():
    return datasets.load('digits').subset(600, random_state=0)


@pytest.fixture(scope='module')
def fitted(digits, tmp_path_factory):
    out = str(tmp_path_factory.mktemp('dec'))
    return DEC(out=out, **TINY).fit(digits.x, digits.y), out


def _log(path):
    with open(path) as f:
        return json.load(f)


def test_fit_produces_labels_and_centres(fitted, digits):
    model, _ = fitted
    assert model.labels_.shape == (600,) and model.labels_.dtype == numpy.int64
    assert 0 <= model.labels_.min() and model.labels_.max() < 10
    assert len(numpy.unique(model.labels_)) > 1
    assert model.cluster_centers_.shape == (10, 5)
    q = model.predict_proba(digits.x)
    numpy.testing.assert_allclose(q.sum(axis=1), 1, rtol=1e-5)
    numpy.testing.assert_array_equal(q.argmax(axis=1), model.labels_)
    assert model.transform(digits.x).shape == (600, 5)
    assert set(model.metrics_) >= {'acc', 'nmi', 'ari'}


def test_pretraining_losses_fall(fitted):
    _, out = fitted
    for phase in ['pretrain/layer0', 'pretrain/layer1', 'pretrain/layer2',
                  'pretrain/layer3', 'finetune']:
        log = _log(os.path.join(out, phase, 'log'))
        assert log[-1]['main/loss'] < log[0]['main/loss'], phase


def test_cluster_phase_logs_and_plots(fitted):
    _, out = fitted
    log = _log(os.path.join(out, 'cluster', 'log'))
    assert all('delta_label' in r and 'acc' in r for r in log)
    for name in ('loss.png', 'delta_label.png', 'metrics.png'):
        assert os.path.getsize(os.path.join(out, 'cluster', name)) > 0
    assert not os.path.exists(os.path.join(out, 'cluster', 'snapshot'))


def test_kl_falls_for_a_fixed_target(digits):
    # The clustering step itself: SGD on KL(P||Q) with P held fixed lowers it.
    # (An untrained encoder embeds close to 0, so q ~ p and the loss is small;
    # hence the large step.)
    numpy.random.seed(0)
    net = DECNet((64,), (32,), 5, 4)
    net.normalize.fit(digits.x)
    x = digits.x.astype(numpy.float32)
    net.clustering.set_centers(net.embed(x[:4]).array)
    p = target_distribution(net(x).array)
    optimizer = chainer.optimizers.MomentumSGD(1.0)
    optimizer.setup(net)
    losses = []
    for _ in range(30):
        loss = dec_kl_divergence(net.embed(x), net.clustering.mu, p)
        net.cleargrads()
        loss.backward()
        optimizer.update()
        losses.append(float(loss.array))
    assert losses[-1] < 0.8 * losses[0]


def test_save_load_roundtrip(fitted, digits):
    model, out = fitted
    loaded = DEC.load(out)
    numpy.testing.assert_array_equal(loaded.predict(digits.x), model.labels_)
    numpy.testing.assert_allclose(loaded.cluster_centers_, model.cluster_centers_)
    with open(os.path.join(out, 'model.json')) as f:
        info = json.load(f)
    assert info['method'] == 'dec' and info['input'] == {'shape': [8, 8], 'dtype': 'uint8'}
    assert info['normalization']['mode'] == 'scale255'
    assert len(info['data']['fingerprint']) == 16
    assert info['params']['augment'] == 'auto' and info['augmentation'] == 'affine'
    assert loaded.augment_ == 'affine'
    assert loaded.init_metrics_ == model.init_metrics_


def test_rerun_resumes_finished_phases(fitted, digits):
    model, out = fitted
    again = DEC(out=out, **TINY).fit(digits.x, digits.y)
    numpy.testing.assert_array_equal(again.labels_, model.labels_)


def test_reproducible_on_cpu(digits):
    small = dict(TINY, max_iter=20)
    a = DEC(**small).fit(digits.x)
    b = DEC(**small).fit(digits.x)
    numpy.testing.assert_array_equal(a.labels_, b.labels_)
    numpy.testing.assert_array_equal(a.cluster_centers_, b.cluster_centers_)


def test_predict_before_fit():
    with pytest.raises(NotFittedError, match='not fitted'):
        DEC().predict(numpy.zeros((2, 4)))


@pytest.mark.parametrize('x,message', [
    (numpy.zeros((3, 7, 7)), 'shape'),
    (numpy.full((3, 8, 8), numpy.nan), 'NaN'),
    (numpy.zeros((0, 8, 8)), 'empty'),
])
def test_predict_bad_input(fitted, x, message):
    with pytest.raises(DataError, match=message):
        fitted[0].predict(x)


@pytest.mark.parametrize('params,message', [
    ({'n_clusters': 0}, 'n_clusters'),
    ({'dropout': 1.0}, 'dropout'),
    ({'tol': -0.1}, 'tol'),
    ({'n_clusters': 1000}, 'more than'),
    ({'alpha': 0}, 'alpha'),
    ({'augment': 'flip'}, "'augment' parameter of DEC must be a str among"),
])
def test_bad_parameters(digits, params, message):
    with pytest.raises(ValueError, match=message):
        DEC(**dict(TINY, **params)).fit(digits.x)


def test_zero_pretrain_epochs_skip_greedy_pretraining(digits, tmp_path):
    DEC(out=str(tmp_path), **dict(TINY, pretrain_epochs=0, max_iter=20)).fit(digits.x)
    assert not os.path.exists(str(tmp_path / 'pretrain'))
    assert os.path.exists(str(tmp_path / 'finetune' / 'log'))


def test_augmentation_follows_the_data(digits, monkeypatch):
    seen = []
    real = ImageAugmenter.__call__

    def spy(self, x):
        seen.append(x.shape)
        return real(self, x)
    monkeypatch.setattr(ImageAugmenter, '__call__', spy)
    short = dict(TINY, max_iter=20)
    images = DEC(**short).fit(digits.x)
    assert images.augment_ == 'affine' and seen  # 8x8 images: augmented
    assert all(shape[1] == 64 for shape in seen)
    del seen[:]
    vectors = DEC(**short).fit(digits.x.reshape(len(digits.x), -1))
    assert vectors.augment_ == 'none' and not seen
    plain = DEC(augment='none', **short).fit(digits.x)
    assert plain.augment_ == 'none' and not seen
    with pytest.raises(ValueError, match=r"augment='affine' needs image samples.*\(64,\)"):
        DEC(augment='affine', **short).fit(digits.x.reshape(len(digits.x), -1))


def test_fit_rejects_bad_labels(digits):
    with pytest.raises(DataError, match='y has 3 entries'):
        DEC(**TINY).fit(digits.x, [0, 1, 2])


def test_load_errors(tmp_path, fitted):
    with pytest.raises(ModelFileError, match='no such result folder'):
        DEC.load(str(tmp_path / 'missing'))
    with pytest.raises(ModelFileError, match='not a chainclust result folder'):
        DEC.load(str(tmp_path))
    (tmp_path / 'model.json').write_text('{not json')
    with pytest.raises(ModelFileError, match='corrupt'):
        DEC.load(str(tmp_path))
    (tmp_path / 'model.json').write_text('{"format": "something-else"}')
    with pytest.raises(ModelFileError, match='not a chainclust model'):
        DEC.load(str(tmp_path))
    _, out = fitted
    info = json.load(open(os.path.join(out, 'model.json')))
    info['params']['hidden_dims'] = [16, 16, 16]
    (tmp_path / 'model.json').write_text(json.dumps(info))
    import shutil
    shutil.copy(os.path.join(out, 'model.npz'), str(tmp_path / 'model.npz'))
    with pytest.raises(ModelFileError, match='does not match the model'):
        DEC.load(str(tmp_path))
    (tmp_path / 'model.npz').write_bytes(b'garbage')
    with pytest.raises(ModelFileError):
        DEC.load(str(tmp_path))
