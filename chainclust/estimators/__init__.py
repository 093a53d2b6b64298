"""Estimators in scikit-learn's shape: fit, predict, fit_predict, transform."""
from chainclust.estimators.base import ClusteringEstimator, read_model_info  # NOQA
from chainclust.estimators.dec import DEC  # NOQA
from chainclust.estimators.vqae import VQAE  # NOQA

ESTIMATORS = {DEC.method: DEC, VQAE.method: VQAE}
