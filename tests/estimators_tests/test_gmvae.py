"""GMVAE: fit, the ELBO terms, the conv network, sampling, figures, export parity."""
import json
import os

import numpy
import pytest

from chainclust import datasets, GMVAE
from chainclust.errors import NotFittedError, ParameterError
from chainclust.training import ImageAugmenter
from chainclust_export import export_onnx
from chainclust_runtime import Assigner

TINY = dict(n_clusters=6, hidden_dims=(64,), x_dim=6, w_dim=3, prior_hidden=32, epochs=6,
            lr=1e-3, batch_size=50, random_state=0)


@pytest.fixture(scope='module')
def digits():
    return datasets.load('digits').subset(400, random_state=0)


@pytest.fixture(scope='module')
def fitted(digits, tmp_path_factory):
    out = str(tmp_path_factory.mktemp('gmvae'))
    return GMVAE(out=out, **TINY).fit(digits), out


def test_fit_gives_posterior_probabilities_and_labels(fitted, digits):
    model, _ = fitted
    proba = model.predict_proba(digits.x)
    assert proba.shape == (400, 6)
    numpy.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
    numpy.testing.assert_array_equal(proba.argmax(axis=1), model.labels_)
    assert model.transform(digits.x).shape == (400, 6)
    assert model.likelihood_ == 'bernoulli'  # uint8 digits scaled to [0, 1]
    assert len(numpy.unique(model.labels_)) > 1 and model.metrics_['acc'] > 0.2  # chance ~0.13


def test_every_elbo_term_is_logged_and_the_loss_falls(fitted):
    _, out = fitted
    with open(os.path.join(out, 'train', 'log')) as f:
        log = json.load(f)
    for key in ('main/loss', 'main/reconstruction', 'main/conditional_prior', 'main/w_prior',
                'main/z_prior', 'main/z_prior_kl'):
        assert all(numpy.isfinite(entry[key]) for entry in log), key
    assert log[-1]['main/loss'] < log[0]['main/loss']
    for entry in log:  # the constraint: the z-prior term is max(lambda, KL)
        assert entry['main/z_prior'] >= 0.5 - 1e-6
    for name in ('loss.png', 'z_prior.png'):
        assert os.path.getsize(os.path.join(out, 'train', name)) > 0


def test_onnx_parity_at_two_batch_sizes(fitted, digits, tmp_path):
    model, out = fitted
    path = str(tmp_path / 'gmvae.onnx')
    export_onnx(model, path)
    assigner = Assigner(path)
    assert assigner.score == 'proba' and assigner.n_clusters == 6
    for batch in (1, 400):
        x = digits.x[:batch]
        numpy.testing.assert_allclose(assigner.predict_proba(x), model.predict_proba(x),
                                      atol=1e-5)
        numpy.testing.assert_allclose(assigner.transform(x), model.transform(x), atol=1e-5)
        numpy.testing.assert_array_equal(assigner.predict(x), model.predict(x))
    loaded = GMVAE.load(out)
    numpy.testing.assert_array_equal(loaded.predict(digits.x), model.labels_)
    assert loaded.likelihood_ == 'bernoulli'


def test_real_valued_data_gets_a_gaussian_likelihood_with_learned_variance():
    x = numpy.random.RandomState(0).normal(size=(120, 5))
    model = GMVAE(**dict(TINY, n_clusters=3, normalize='standard', epochs=2)).fit(x)
    assert model.likelihood_ == 'gaussian' and model.labels_.shape == (120,)
    assert model.net_.decoder[-1].W.shape == (10, 64)  # a mean and a log-variance per feature
    generated, _ = model.sample(4, random_state=0)
    assert generated.shape == (4, 5) and numpy.isfinite(generated).all()


def test_bernoulli_likelihood_refuses_data_outside_the_unit_interval(digits):
    with pytest.raises(ParameterError, match=r"likelihood='bernoulli' needs the normalised "
                                             r"data in \[0, 1\].*normalize='standard'"):
        GMVAE(**dict(TINY, likelihood='bernoulli', normalize='standard')).fit(digits.x)


CONV = dict(TINY, architecture='conv', hidden_dims=(24,), epochs=2, batch_size=32)


@pytest.fixture(scope='module')
def mnist():
    return datasets.load('mnist').subset(96, random_state=0)


@pytest.fixture(scope='module')
def fitted_conv(mnist, tmp_path_factory):
    out = str(tmp_path_factory.mktemp('gmvae-conv'))
    return GMVAE(out=out, **CONV).fit(mnist), out


def test_conv_network_is_the_papers_and_mirrors_the_image(fitted_conv, mnist):
    model, _ = fitted_conv
    net = model.net_
    assert net.layout == 'image' and net.image_shape == (1, 28, 28)
    assert net.recognition.sizes == [(28, 28), (23, 23), (18, 18), (9, 9)]
    assert [c.W.shape for c in net.recognition.convs] == [(16, 1, 6, 6), (32, 16, 6, 6),
                                                          (64, 32, 4, 4)]
    assert net.recognition.whole.W.shape == (24, 64, 9, 9)
    generated, components = model.sample(5, random_state=0)
    assert generated.shape == (5, 28, 28) and generated.dtype == numpy.float32
    assert components.shape == (5,)
    # Bernoulli means, mapped back from [0, 1] to the uint8 data's 0..255
    assert generated.min() >= 0 and generated.max() <= 255
    assert model.predict_proba(mnist.x).shape == (96, 6)


def test_conv_onnx_parity_at_batch_1_and_64(fitted_conv, mnist, tmp_path):
    model, _ = fitted_conv
    path = str(tmp_path / 'gmvae-conv.onnx')
    export_onnx(model, path)
    assigner = Assigner(path)
    for batch in (1, 64):
        x = mnist.x[:batch]
        numpy.testing.assert_allclose(assigner.predict_proba(x), model.predict_proba(x),
                                      atol=1e-4)
        numpy.testing.assert_allclose(assigner.transform(x), model.transform(x),
                                      rtol=1e-4, atol=1e-4)


def test_conv_works_for_odd_sized_colour_images(tmp_path):
    x = numpy.random.RandomState(0).rand(40, 27, 25, 3).astype(numpy.float32)
    model = GMVAE(**dict(CONV, epochs=1, n_clusters=3)).fit(x)
    assert model.net_.image_shape == (3, 27, 25)
    generated, _ = model.sample(2, cluster=1, random_state=0)
    assert generated.shape == (2, 27, 25, 3)
    path = str(tmp_path / 'odd.onnx')
    export_onnx(model, path)
    numpy.testing.assert_allclose(Assigner(path).predict_proba(x[:7]),
                                  model.predict_proba(x[:7]), atol=1e-4)


@pytest.mark.parametrize('x, message', [
    (numpy.zeros((20, 30)), "architecture='conv' needs images"),
    (numpy.zeros((20, 8, 8)), 'at least 12x12 pixels, got 8x8'),
])
def test_conv_refuses_data_it_cannot_take(x, message):
    with pytest.raises(ParameterError, match=message):
        GMVAE(**CONV).fit(x)


def test_figures_of_the_paper_are_written(fitted_conv):
    _, out = fitted_conv
    for name in ('latent.png', 'latent_labels.png', 'samples.png', 'w_traversal.png',
                 os.path.join('train', 'z_prior.png'), os.path.join('train', 'metrics.png')):
        assert os.path.getsize(os.path.join(out, name)) > 1000, name
    with open(os.path.join(out, 'train', 'log')) as f:
        log = json.load(f)
    for key in ('cluster/acc', 'cluster/many_to_one', 'cluster/nmi', 'cluster/ari'):
        assert all(0 <= entry[key] <= 1 for entry in log if key != 'cluster/ari'), key


def test_sample_draws_from_the_component_asked_for(fitted):
    model, _ = fitted
    first, components = model.sample(30, cluster=2, random_state=3)
    assert (components == 2).all() and first.shape == (30, 8, 8)
    again, _ = model.sample(30, cluster=2, random_state=3)
    numpy.testing.assert_array_equal(first, again)
    mixed, components = model.sample(300, random_state=0)
    assert len(numpy.unique(components)) == 6
    # Bernoulli means in [0, 1], mapped back through the recorded x / 255 of uint8 data
    assert model.normalization_ == 'scale255'
    assert 0 <= mixed.min() and mixed.max() <= 255
    for bad in (-1, 6, 1.5, True):
        with pytest.raises(ParameterError, match='cluster must be an int in'):
            model.sample(3, cluster=bad)
    for bad in (0, 2.5, True):
        with pytest.raises(ParameterError, match='n_samples must be an int >= 1'):
            model.sample(bad)
    with pytest.raises(NotFittedError):
        GMVAE().sample(2)


def test_two_dimensional_data_gets_scatter_figures(tmp_path):
    data = datasets.load('pinwheel').subset(300, random_state=0)
    out = str(tmp_path / 'pinwheel')
    model = GMVAE(out=out, **dict(TINY, n_clusters=5, x_dim=2, w_dim=2, epochs=2)).fit(data)
    assert model.likelihood_ == 'gaussian'
    for name in ('latent.png', 'latent_labels.png', 'samples.png'):
        assert os.path.getsize(os.path.join(out, name)) > 1000
    assert not os.path.exists(os.path.join(out, 'w_traversal.png'))


def test_auto_likelihood_follows_the_normalisation(digits):
    model = GMVAE(**dict(TINY, normalize='standard', epochs=1)).fit(digits.x)
    assert model.likelihood_ == 'gaussian'  # standardised uint8 pixels are not in [0, 1]


def test_affine_augmentation_trains_on_shifted_images_only_when_asked(digits, monkeypatch,
                                                                     tmp_path):
    seen = []
    real = ImageAugmenter.__call__

    def spy(self, x):
        seen.append(x.shape)
        out = real(self, x)
        assert out.shape == x.shape and not numpy.array_equal(out, x)
        return out
    monkeypatch.setattr(ImageAugmenter, '__call__', spy)
    short = dict(TINY, epochs=1)
    plain = str(tmp_path / 'plain')
    assert GMVAE(out=plain, **short).fit(digits.x).augment_ == 'none' and not seen  # paper
    with open(os.path.join(plain, 'train', 'key.json')) as f:
        assert 'augment' not in json.load(f)['params']  # folders of earlier versions resume
    out = str(tmp_path / 'augmented')
    model = GMVAE(augment='auto', out=out, **short).fit(digits.x)
    assert model.augment_ == 'affine' and GMVAE.load(out).augment_ == 'affine'
    assert seen == [(TINY['batch_size'], 8, 8)] * (len(digits.x) // TINY['batch_size'])
    with open(os.path.join(out, 'train', 'key.json')) as f:
        assert json.load(f)['params']['augment'] == 'affine'
    del seen[:]
    with pytest.raises(ParameterError, match="normalize='standard' then scales pixel by pixel"):
        GMVAE(augment='affine', normalize='standard', likelihood='gaussian', **short).fit(digits.x)
    del seen[:]
    vectors = digits.x.reshape(len(digits.x), -1)
    assert GMVAE(augment='auto', **short).fit(vectors).augment_ == 'none' and not seen
    with pytest.raises(ParameterError, match=r"augment='affine' needs image samples.*\(64,\)"):
        GMVAE(augment='affine', **short).fit(vectors)


def test_batch_norm_needs_two_samples_per_batch(digits):
    with pytest.raises(ParameterError, match='batch_size must be >= 2'):
        GMVAE(**dict(TINY, batch_size=1)).fit(digits.x)


def test_a_model_of_the_earlier_network_is_refused_clearly(fitted, tmp_path):
    import shutil
    from chainclust.errors import ModelFileError
    _, out = fitted
    old = str(tmp_path / 'old')
    shutil.copytree(out, old)
    path = os.path.join(old, 'model.json')
    with open(path) as f:
        info = json.load(f)
    del info['network_version']
    with open(path, 'w') as f:
        json.dump(info, f)
    with pytest.raises(ModelFileError, match='earlier chainclust whose GMVAE network'):
        GMVAE.load(old)


def test_a_failing_figure_warns_and_keeps_the_model(digits, tmp_path, monkeypatch):
    def broken(self, out, x, y):
        raise RuntimeError('no display')
    monkeypatch.setattr(GMVAE, '_report', broken)
    out = str(tmp_path / 'model')
    with pytest.warns(UserWarning, match='figures could not be written.*no display.*saved'):
        model = GMVAE(out=out, **dict(TINY, epochs=1)).fit(digits.x)
    numpy.testing.assert_array_equal(GMVAE.load(out).predict(digits.x), model.labels_)


@pytest.fixture(scope='module')
def mnist_2000():
    return datasets.load('mnist').subset(2000, random_state=0)


@pytest.mark.parametrize('x_dim, w_dim, expect_spread', [(10, 10, True), (200, 150, False)])
def test_a_narrow_latent_keeps_the_components_apart_and_a_wide_one_collapses(
        mnist_2000, x_dim, w_dim, expect_spread):
    # The finding behind the default N_x = 10: with the paper's N_x = 200 the
    # K log-densities differ by tens of nats from the first step, so every
    # posterior is one-hot and the best-fitting component takes nearly every
    # image (it then gets all the gradient); with N_x = 10 all are used.
    model = GMVAE(n_clusters=16, x_dim=x_dim, w_dim=w_dim, epochs=5, random_state=0)
    model.fit(mnist_2000.x, mnist_2000.y)
    largest = numpy.bincount(model.labels_, minlength=16).max() / 2000.0
    if expect_spread:
        assert largest < 0.25 and model.metrics_['many_to_one'] > 0.35  # chance ~0.2
    else:
        assert largest > 0.5
