"""Estimators in scikit-learn's shape: fit, predict, fit_predict, transform.

:data:`ESTIMATORS` is the registry: method name -> estimator class. The
command line (``chainclust train METHOD``), ``evaluate`` and ``export`` are
made from it; a new method adds one entry here.
"""
from chainclust.estimators.autoencoder import Autoencoder
from chainclust.estimators.base import ClusteringEstimator, read_model_info  # NOQA
from chainclust.estimators.dec import DEC
from chainclust.estimators.gmvae import GMVAE
from chainclust.estimators.iic import IIC
from chainclust.estimators.vqae import VQAE

ESTIMATORS = {cls.method: cls for cls in (DEC, VQAE, GMVAE, IIC, Autoencoder)}
