"""GMVAE (fully connected variant): fit, the ELBO terms, export parity, persistence."""
import json
import os

import numpy
import pytest

from chainclust import datasets, GMVAE
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


def test_real_valued_data_gets_a_gaussian_likelihood():
    x = numpy.random.RandomState(0).normal(size=(120, 5))
    model = GMVAE(**dict(TINY, n_clusters=3, normalize='standard', epochs=2)).fit(x)
    assert model.likelihood_ == 'gaussian' and model.labels_.shape == (120,)
