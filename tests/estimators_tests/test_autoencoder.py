"""The autoencoder family: each member trains, its parts behave as their sources say."""
import chainer
import numpy
import pytest

from chainclust import Autoencoder, datasets
from chainclust.errors import ParameterError
from chainclust.models.autoencoders import AutoencoderLoss, AutoencoderNet, GaussianBottleneck
from chainclust.models.autoencoders import geometric_widths, KINDS, StackedLayerLoss
from chainclust_export import export_onnx
from chainclust_runtime import Assigner

TINY = dict(n_clusters=10, latent_dim=6, batch_size=50, n_init=2, random_state=0)


@pytest.fixture(scope='module')
def digits():
    return datasets.load('digits').subset(400, random_state=1)


def test_geometric_widths_follow_the_study():
    assert geometric_widths(1024, 20) == (1024, 341, 113, 20)
    assert geometric_widths(1024, 40) == (1024, 512, 256, 40)  # the VAE encoder
    assert geometric_widths(1024, 2) == (1024, 128, 16, 2)  # the study's float bug gives 7
    assert geometric_widths(784, 20) == (784, 261, 87, 20)
    assert geometric_widths(10, 20) == (10, 10, 10, 20)


@pytest.fixture(scope='module')
def trained(digits):
    """Every kind trained once (stacked three times as long: a third per layer)."""
    return {kind: Autoencoder(kind=kind, epochs=30 if KINDS[kind].stacked else 10,
                              **TINY).fit(digits.x) for kind in KINDS}


@pytest.mark.parametrize('kind', list(KINDS))
def test_every_kind_learns_to_reconstruct(kind, digits, trained):
    # the BCE of soft targets is at least their entropy: measure the excess over it
    t = digits.x.reshape(len(digits.x), -1) / 255.0
    with numpy.errstate(divide='ignore', invalid='ignore'):
        floor = -numpy.nan_to_num(t * numpy.log(t) + (1 - t) * numpy.log(1 - t)).sum(1).mean()
    untrained = Autoencoder(kind=kind, epochs=0, **dict(TINY, n_init=1)).fit(digits.x)
    model = trained[kind]
    before = untrained.reconstruction_error(digits.x).mean() - floor
    after = model.reconstruction_error(digits.x).mean() - floor
    assert after < 0.75 * before, (kind, before, after)
    assert model.transform(digits.x).shape == (400, 6)
    assert model.cluster_centers_.shape == (10, 6)
    assert model.reconstruct(digits.x[:3]).shape == (3, 8, 8)
    # the k-means labels cluster the digits better than chance
    from chainclust import metrics
    assert metrics.nmi(digits.y, model.labels_) > 0.2


def test_kinds_are_built_from_parts_not_copies():
    parts = {kind: type(AutoencoderNet((64,), kind, 4, 3).autoencoder.bottleneck).__name__
             for kind in KINDS}
    assert parts == {'shallow': 'IdentityBottleneck', 'deep': 'IdentityBottleneck',
                     'stacked': 'IdentityBottleneck', 'sparse': 'SparseBottleneck',
                     'denoising': 'IdentityBottleneck', 'vae': 'GaussianBottleneck',
                     'beta_vae_strict': 'GaussianBottleneck',
                     'beta_vae_loose': 'GaussianBottleneck', 'vq_vae': 'ScalarVQBottleneck'}
    ae = AutoencoderNet((64,), 'shallow', 4, 3).autoencoder
    assert ae.encoder.widths == (64, 4) and ae.decoder.widths == (4, 64)
    ae = AutoencoderNet((64,), 'vae', 4, 3).autoencoder
    assert ae.encoder.widths[-1] == 8 and ae.decoder.widths[0] == 4


def test_stacked_stage_trains_one_pair_with_earlier_layers_frozen():
    net = AutoencoderNet((64,), 'stacked', 4, 3, rng=numpy.random.RandomState(0))
    net.normalize.fit(numpy.random.RandomState(1).rand(30, 64).astype('f'), 'none')
    loss = StackedLayerLoss(net, 1)
    net.cleargrads()
    encoder, decoder = net.autoencoder.encoder, net.autoencoder.decoder
    trained = {id(p) for p in loss.params()}
    expected = {id(p) for link in encoder.layer(1) + decoder.layer(1) for p in link.params()}
    assert trained == expected
    frozen_mean = encoder.norms[0].avg_mean.copy()
    inner_mean = encoder.norms[1].avg_mean.copy()
    value = loss(numpy.random.RandomState(2).rand(16, 64).astype('f'))
    value.backward()
    numpy.testing.assert_array_equal(encoder.norms[0].avg_mean, frozen_mean)
    assert not numpy.array_equal(encoder.norms[1].avg_mean, inner_mean)
    assert encoder.linears[0].W.grad is None  # below the pair: no gradient at all
    assert decoder.linears[2].W.grad is not None  # above it: backprop passes through
    with pytest.raises(ValueError, match='stage'):
        StackedLayerLoss(net, 3)


def test_denoising_corrupts_in_training_only_and_stays_in_unit_range():
    net = AutoencoderNet((64,), 'denoising', 4, 3)
    loss = AutoencoderLoss(net, 0.5, numpy.random.RandomState(0))
    x = numpy.full((200, 64), 0.5, numpy.float32)
    noisy = loss.corrupt(x).array
    assert noisy.min() == 0.0 and noisy.max() == 1.0
    assert 0.33 < noisy.std() < 0.38  # 0.5 std(clip(N(0, 1), -1, 1)) = 0.357
    with chainer.using_config('train', False):
        numpy.testing.assert_array_equal(loss.corrupt(x), x)


def test_gaussian_bottleneck_kl_is_the_closed_form():
    bottleneck = GaussianBottleneck(3, beta=2.0)
    rng = numpy.random.RandomState(0)
    mu, log_sd = rng.randn(5, 3), 0.3 * rng.randn(5, 3)
    _, penalty = bottleneck(numpy.concatenate([mu, log_sd], axis=1), rng)
    kl = 0.5 * (numpy.exp(2 * log_sd) + mu ** 2 - 1 - 2 * log_sd).sum(axis=1).mean()
    numpy.testing.assert_allclose(penalty.array, 2.0 * kl, rtol=1e-10)
    huge = numpy.concatenate([mu, numpy.full((5, 3), 1e4)], axis=1)
    z, penalty = bottleneck(huge, rng)
    assert numpy.isfinite(penalty.array) and numpy.isfinite(z.array).all()


def test_vq_codes_come_from_the_codebook(digits, trained):
    model = trained['vq_vae']
    codes = model.encode(digits.x)
    codebook = model.net_.autoencoder.bottleneck.codebook.array
    for j in range(codes.shape[1]):
        assert numpy.isin(codes[:, j], codebook[j]).all()
    assert len(numpy.unique(codes[:, 0])) > 1


def test_sampling_and_interpolation(digits, trained):
    model = trained['vae']
    first = model.sample(5, random_state=3)
    assert first.shape == (5, 8, 8) and numpy.isfinite(first).all()
    numpy.testing.assert_array_equal(model.sample(5, random_state=3), first)
    line = model.interpolate(digits.x[0], digits.x[1], steps=7)
    assert line.shape == (7, 8, 8)
    numpy.testing.assert_allclose(line[0], model.reconstruct(digits.x[:1])[0], rtol=1e-5)
    numpy.testing.assert_allclose(line[-1], model.reconstruct(digits.x[1:2])[0], rtol=1e-5)
    sampled = model.reconstruction_error(digits.x, random_state=0)  # decodes z ~ q(z | x)
    assert not numpy.allclose(sampled, model.reconstruction_error(digits.x))
    numpy.testing.assert_array_equal(model.reconstruction_error(digits.x, random_state=0),
                                     sampled)
    deep = trained['deep']
    with pytest.raises(ParameterError, match='no prior to sample from'):
        deep.sample(3)
    with pytest.raises(ParameterError, match='codes must have shape'):
        deep.decode(numpy.zeros((2, 5)))
    with pytest.raises(ParameterError, match='steps must be an int >= 2'):
        deep.interpolate(digits.x[0], digits.x[1], steps=1)
    from chainclust.errors import DataError
    with pytest.raises(DataError, match='same shape'):
        deep.interpolate(digits.x[0], digits.x[1][:4], steps=3)


def test_data_outside_the_unit_range_is_refused():
    x = numpy.random.RandomState(0).randn(60, 5)
    with pytest.raises(ParameterError, match=r"must lie in \[0, 1\].*normalize='minmax'"):
        Autoencoder(normalize='standard', epochs=1, batch_size=20, n_clusters=2).fit(x)
    model = Autoencoder(normalize='minmax', epochs=1, batch_size=20, n_clusters=2,
                        latent_dim=2, random_state=0).fit(x)
    assert model.labels_.shape == (60,)


def test_save_load_and_same_seed_same_model(digits, tmp_path):
    out = str(tmp_path / 'sparse')
    model = Autoencoder(kind='sparse', epochs=2, out=out, **TINY).fit(digits.x)
    again = Autoencoder(kind='sparse', epochs=2, **TINY).fit(digits.x)
    numpy.testing.assert_array_equal(model.labels_, again.labels_)
    loaded = Autoencoder.load(out)
    numpy.testing.assert_array_equal(loaded.predict(digits.x), model.labels_)
    assert loaded.reconstruction_error_ == pytest.approx(model.reconstruction_error_)
    for name in ('reconstructions.png', 'latent.png', 'train/loss.png'):
        assert (tmp_path / 'sparse' / name).exists(), name


@pytest.mark.parametrize('kind', list(KINDS))
def test_onnx_assigner_matches_chainer(kind, digits, trained, tmp_path):
    model = trained[kind]
    path = str(tmp_path / 'ae.onnx')
    export_onnx(model, path)
    assigner = Assigner(path)
    for x in (digits.x, digits.x[:1], digits.x[0]):
        batch = x if x.ndim == 3 else x[None]
        numpy.testing.assert_allclose(assigner.transform(x), model.transform(batch),
                                      atol=1e-5, rtol=0)
        numpy.testing.assert_allclose(assigner.distances(x), model.cluster_scores(batch),
                                      atol=1e-4, rtol=0)
        numpy.testing.assert_array_equal(assigner.predict(x), model.predict(batch))


@pytest.mark.parametrize('backbone', ['stacked', 'vae'])
def test_dec_starts_from_a_family_backbone(backbone, digits, tmp_path):
    from chainclust import DEC
    out = str(tmp_path / backbone)
    model = DEC(backbone=backbone, embedding_dim=6, finetune_epochs=9, batch_size=50,
                update_interval=20, max_iter=100, n_init=2, random_state=0,
                out=out).fit(digits.x, digits.y)
    assert type(model.net_.autoencoder).__name__ == 'FamilyAutoencoder'
    assert model.net_.autoencoder.kind == backbone and model.augment_ == 'none'
    assert model.transform(digits.x).shape == (400, 6)
    assert model.init_metrics_['nmi'] > 0.2 and model.metrics_['nmi'] > 0.2
    phases = 'stage0' if backbone == 'stacked' else 'train'
    assert (tmp_path / backbone / 'backbone' / phases / 'done.npz').exists()
    numpy.testing.assert_array_equal(DEC.load(out).predict(digits.x), model.labels_)
    path = str(tmp_path / 'dec.onnx')
    export_onnx(model, path)
    numpy.testing.assert_allclose(Assigner(path).predict_proba(digits.x),
                                  model.predict_proba(digits.x), atol=1e-5)


def test_dec_family_backbone_refuses_what_does_not_apply():
    from chainclust import DEC
    x = numpy.random.RandomState(0).randn(60, 5)
    with pytest.raises(ParameterError, match=r"must lie in \[0, 1\]"):
        DEC(backbone='vae', normalize='standard', n_clusters=2).fit(x)
    with pytest.raises(ParameterError, match="augment='affine' applies to the 'sdae'"):
        DEC(backbone='deep', augment='affine', n_clusters=2).fit(numpy.zeros((60, 8, 8)))
    with pytest.raises(ParameterError, match="backbone='vq_vae' cannot start DEC"):
        DEC(backbone='vq_vae', n_clusters=2).fit(numpy.zeros((60, 8, 8)))
    with pytest.raises(ParameterError, match='batch_size must be >= 2'):
        DEC(backbone='deep', batch_size=1, n_clusters=2).fit(numpy.zeros((60, 8, 8)))
