"""chainclust's estimators are scikit-learn estimators: checks, clone, Pipeline, GridSearchCV."""
import numpy
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from chainclust import Autoencoder, DEC, datasets, GMVAE, VQAE

TINY_DEC = dict(n_clusters=3, hidden_dims=(8,), embedding_dim=2, finetune_epochs=2,
                batch_size=16, update_interval=5, max_iter=10, n_init=1, random_state=0)
# Full batches of 8 (VQ-AE drops incomplete ones); no usage plots (monitor_interval).
TINY_VQAE = dict(n_clusters=3, hidden_dims=(8,), code_dim=2, pretrain_epochs=1, epochs=1,
                 batch_size=8, monitor_interval=1000, random_state=0)

TINY_GMVAE = dict(n_clusters=3, hidden_dims=(8,), x_dim=2, w_dim=2, prior_hidden=8, epochs=1,
                  batch_size=16, random_state=0)

# The family reconstructs with a sigmoid: the suite's Gaussian tables are min-max scaled.
TINY_AE = dict(n_clusters=3, kind='deep', latent_dim=2, epochs=5, batch_size=16, n_init=1,
               normalize='minmax', random_state=0)


# Every check of scikit-learn's suite runs; none is expected to fail. (IIC clusters
# images only, and the suite feeds tables.)
@parametrize_with_checks([DEC(**TINY_DEC), VQAE(**TINY_VQAE), GMVAE(**TINY_GMVAE),
                          Autoencoder(**TINY_AE)])
def test_scikit_learn_checks(estimator, check):
    check(estimator)


@pytest.fixture(scope='module')
def digits():
    return datasets.load('digits').subset(300, random_state=0)


def test_clone_keeps_parameters_not_fitted_state(digits):
    model = DEC(**TINY_DEC).fit(digits.x)
    copy = clone(model)
    assert copy.get_params() == model.get_params()
    assert not hasattr(copy, 'labels_') and hasattr(model, 'labels_')
    assert copy.set_params(n_clusters=5).n_clusters == 5 and model.n_clusters == 3


def test_pipeline_fits_and_predicts(digits):
    x = digits.x.reshape(len(digits.x), -1).astype(numpy.float64)
    pipeline = Pipeline([('scale', StandardScaler()),
                         ('dec', DEC(**dict(TINY_DEC, n_clusters=10, normalize='none')))])
    labels = pipeline.fit_predict(x)
    assert labels.shape == (300,) and len(numpy.unique(labels)) > 1
    numpy.testing.assert_array_equal(pipeline.predict(x), labels)
    assert pipeline.transform(x).shape == (300, 2)
    assert pipeline.get_params()['dec__n_clusters'] == 10


def test_grid_search_with_a_clustering_scorer(digits):
    x = digits.x.reshape(len(digits.x), -1)
    search = GridSearchCV(DEC(**TINY_DEC), {'n_clusters': [5, 10]},
                          scoring='adjusted_rand_score', cv=2)
    search.fit(x, digits.y)
    assert search.best_params_['n_clusters'] in (5, 10)
    assert numpy.isfinite(search.cv_results_['mean_test_score']).all()
    assert search.best_estimator_.labels_.shape == (300,)


@pytest.mark.parametrize('cls,params', [(DEC, TINY_DEC), (VQAE, TINY_VQAE)])
def test_random_state_forms_and_the_global_generator(cls, params, digits):
    params = dict(params, batch_size=64)
    numpy.random.seed(123)
    before = numpy.random.get_state()[1].copy()
    as_int = cls(**params).fit(digits.x).labels_
    numpy.testing.assert_array_equal(numpy.random.get_state()[1], before)  # untouched
    as_state = cls(**dict(params, random_state=numpy.random.RandomState(0))).fit(digits.x)
    again = cls(**dict(params, random_state=numpy.random.RandomState(0))).fit(digits.x)
    numpy.testing.assert_array_equal(as_state.labels_, again.labels_)
    numpy.testing.assert_array_equal(cls(**params).fit(digits.x).labels_, as_int)
    cls(**dict(params, random_state=None)).fit(digits.x)  # works, not reproducible
    numpy.testing.assert_array_equal(numpy.random.get_state()[1], before)  # still untouched


@pytest.mark.parametrize('params,message', [
    ({'n_clusters': 0}, "'n_clusters' parameter of DEC must be an int in the range"),
    ({'tol': 1.5}, "'tol' parameter of DEC must be a float in the range"),
    ({'augment': 'flip'}, "'augment' parameter of DEC must be a str among"),
    ({'resume': 'sometimes'}, "'resume' parameter of DEC must be a str among"),
    ({'hidden_dims': (8, 0)}, 'hidden_dims must be positive integers'),
])
def test_declarative_validation(params, message, digits):
    with pytest.raises(ValueError, match=message):
        DEC(**dict(TINY_DEC, **params)).fit(digits.x)
