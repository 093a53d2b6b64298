"""GMVAE clustering as a scikit-learn estimator."""
import chainer
import numpy
from sklearn.utils._param_validation import StrOptions

from chainclust.estimators.base import check_widths, ClusteringEstimator, non_negative_float
from chainclust.estimators.base import positive_float, positive_int
from chainclust.inference import batched_forward
from chainclust.models.gmvae import GMVAELoss, GMVAENet, LIKELIHOODS
from chainclust.training import Phase

ARCHITECTURES = ('mlp',)


class GMVAE(ClusteringEstimator):
    """Gaussian-mixture VAE clustering (Dilokthanakul et al. 2016).

    A VAE whose prior on the latent x is a mixture of K Gaussians with means and
    variances given by a network of a second latent w; a sample's cluster is the
    most probable component ``argmax_z p(z | x, w)`` at the posterior means of x
    and w. The z-prior term of the ELBO is ``max(lambda, E[KL(p(z|x,w) || p(z))])``,
    the minimum-information constraint, which keeps the components from
    collapsing onto one early in training (``information_lambda=0`` is the plain
    ELBO). This is the fully connected variant (the paper's convolutional MNIST
    networks are still to come).

    Args:
        n_clusters (int): K, the number of mixture components.
        n_samples (int): M, Monte-Carlo samples of x and w per example.
        information_lambda (float): lambda of the minimum-information constraint.
        architecture (str): ``mlp``: fully connected recognition and decoder networks.
        hidden_dims (tuple of int): hidden widths of the recognition network (the
            decoder mirrors them).
        x_dim (int): N_x, the size of the latent x (the embedding).
        w_dim (int): N_w, the size of the latent w.
        prior_hidden (int): width of the prior network's tanh layer.
        likelihood (str): ``auto`` (Bernoulli when the normalised training data
            lie in [0, 1], else Gaussian), ``bernoulli`` or ``gaussian``.
        epochs (int): training epochs.
        lr (float): Adam step size.
        batch_size (int): minibatch size.
        normalize, device, random_state, out, resume, verbose: as for DEC.

    Attributes:
        labels_ (numpy.ndarray): ``(N,)`` most probable component of each sample.
        likelihood_ (str): the likelihood ``auto`` resolved to.
    """

    method = 'gmvae'
    _parameter_constraints = dict(
        ClusteringEstimator._parameter_constraints,
        n_samples=positive_int(), information_lambda=non_negative_float(),
        architecture=[StrOptions(set(ARCHITECTURES))], hidden_dims=[tuple, list],
        x_dim=positive_int(), w_dim=positive_int(), prior_hidden=positive_int(),
        likelihood=[StrOptions(set(('auto',) + LIKELIHOODS))], epochs=positive_int(),
        lr=positive_float(), batch_size=positive_int())

    def __init__(self, n_clusters=10, n_samples=1, information_lambda=0.5,
                 architecture='mlp', hidden_dims=(500,), x_dim=200, w_dim=150,
                 prior_hidden=500, likelihood='auto', epochs=50, lr=1e-4, batch_size=100,
                 normalize='auto', device='@numpy', random_state=None, out=None,
                 resume='auto', verbose=False):
        self.n_clusters = n_clusters
        self.n_samples = n_samples
        self.information_lambda = information_lambda
        self.architecture = architecture
        self.hidden_dims = hidden_dims
        self.x_dim = x_dim
        self.w_dim = w_dim
        self.prior_hidden = prior_hidden
        self.likelihood = likelihood
        self.epochs = epochs
        self.lr = lr
        self.batch_size = batch_size
        self.normalize = normalize
        self.device = device
        self.random_state = random_state
        self.out = out
        self.resume = resume
        self.verbose = verbose

    def _check_params(self, n_samples):
        check_widths('hidden_dims', self.hidden_dims)
        if not self.hidden_dims:
            raise ValueError('hidden_dims needs at least one width')

    def _build_net(self, rng):
        return GMVAENet(self.input_shape_, tuple(self.hidden_dims), self.x_dim, self.w_dim,
                        self.n_clusters, self.prior_hidden, rng=rng)

    def _train(self, run, net, x, y):
        xf = numpy.asarray(x, dtype=numpy.float32)
        self.likelihood_ = self.likelihood
        if self.likelihood == 'auto':
            h = batched_forward(net.preprocess, xf, device=run.device)
            inside = h.min() >= 0 and h.max() <= 1
            self.likelihood_ = 'bernoulli' if inside else 'gaussian'
        noise = run.random_state('train/noise')
        loss = GMVAELoss(net, self.n_samples, self.information_lambda, self.likelihood_,
                         noise)
        keys = ['main/loss', 'main/reconstruction', 'main/conditional_prior', 'main/w_prior',
                'main/z_prior', 'main/z_prior_kl']
        params = {'n_clusters': self.n_clusters, 'n_samples': self.n_samples,
                  'information_lambda': self.information_lambda,
                  'architecture': self.architecture, 'hidden_dims': list(self.hidden_dims),
                  'x_dim': self.x_dim, 'w_dim': self.w_dim, 'prior_hidden': self.prior_hidden,
                  'likelihood': self.likelihood_, 'epochs': self.epochs, 'lr': self.lr,
                  'batch_size': self.batch_size}
        run.run(Phase('train', loss, xf, chainer.optimizers.Adam(alpha=self.lr),
                      (self.epochs, 'epoch'), self.batch_size, params=params,
                      random_states={'noise': noise}, report_keys=keys,
                      plots=[('loss.png', keys[:5]), ('z_prior.png', keys[4:])]))

    def predict_proba(self, X):
        """``p(z | x, w)`` ``(N, K)`` at the posterior means of x and w."""
        return self.cluster_scores(X)

    def _extra_state(self):
        state = super(GMVAE, self)._extra_state()
        if getattr(self, 'likelihood_', None) is not None:
            state['likelihood'] = self.likelihood_
        return state

    def _restore_state(self, info):
        super(GMVAE, self)._restore_state(info)
        self.likelihood_ = info.get('likelihood')
