"""Gaussian-mixture VAE (Dilokthanakul et al. 2016): network and ELBO loss.

Generative model: ``w ~ N(0, I)``, ``z ~ Mult(1/K)``, ``x | z, w ~ N(mu_z(w),
diag var_z(w))``, ``y | x ~ Bernoulli(decoder(x))`` (or a unit-variance Gaussian
for real-valued data). Recognition: ``q(x | y) q(w | y) p(z | x, w)``, the z
posterior computed from the prior network's K Gaussians.
"""
import chainer
import chainer.functions as F
import chainer.links as L

from chainclust.functions import conditional_prior_kl, gaussian_mixture_posterior
from chainclust.functions import z_prior_kl
from chainclust.links import MLP
from chainclust.models.base import ClusteringNet

LIKELIHOODS = ('bernoulli', 'gaussian')
LOGVAR_BOUND = 10.0  # log-variances are kept in (-10, 10): exp never overflows


def bounded(logvar):
    """A smooth bound of a log-variance to ``(-LOGVAR_BOUND, LOGVAR_BOUND)``."""
    return LOGVAR_BOUND * F.tanh(logvar / LOGVAR_BOUND)


class GMVAENet(ClusteringNet):
    """The MLP variant: recognition ``q(x, w | y)``, prior ``p(x | w, z)``, decoder.

    Args:
        sample_shape (tuple): shape of one raw sample (flattened to D inputs).
        hidden (sequence of int): hidden widths of the recognition network (the
            decoder mirrors them).
        x_dim (int): N_x, the size of the latent x (the embedding).
        w_dim (int): N_w, the size of the latent w.
        n_clusters (int): K.
        prior_hidden (int): the prior network's tanh layer.
        rng (numpy.random.RandomState or None): draws the initial weights.

    Its score is ``proba``, ``p(z | x, w)`` at the posterior means of x and w;
    the embedding is the mean of x.
    """

    score = 'proba'

    def __init__(self, sample_shape, hidden, x_dim, w_dim, n_clusters, prior_hidden=500,
                 rng=None):
        super(GMVAENet, self).__init__(sample_shape)
        hidden = tuple(hidden)
        init = chainer.initializers.LeCunNormal(rng=rng)
        self.n_clusters, self.x_dim, self.w_dim = int(n_clusters), int(x_dim), int(w_dim)
        with self.init_scope():
            self.recognition = MLP((self.n_features,) + hidden, final_activation=True,
                                   initialW=init)
            self.x_mean = L.Linear(hidden[-1], x_dim, initialW=init)
            self.x_logvar = L.Linear(hidden[-1], x_dim, initialW=init)
            self.w_mean = L.Linear(hidden[-1], w_dim, initialW=init)
            self.w_logvar = L.Linear(hidden[-1], w_dim, initialW=init)
            self.prior_hidden = L.Linear(w_dim, prior_hidden, initialW=init)
            self.prior_mean = L.Linear(prior_hidden, n_clusters * x_dim, initialW=init)
            self.prior_logvar = L.Linear(prior_hidden, n_clusters * x_dim, initialW=init)
            self.decoder = MLP((x_dim,) + hidden[::-1] + (self.n_features,), initialW=init)

    def posterior(self, h):
        """Network input -> ``(mu_x, logvar_x, mu_w, logvar_w)``, each ``(N, N_x or N_w)``."""
        t = self.recognition(h)
        return (self.x_mean(t), bounded(self.x_logvar(t)),
                self.w_mean(t), bounded(self.w_logvar(t)))

    def prior(self, w):
        """``w`` ``(N, N_w)`` -> the K Gaussians of x: means and log-variances ``(N, K, N_x)``."""
        t = F.tanh(self.prior_hidden(w))
        shape = (w.shape[0], self.n_clusters, self.x_dim)
        return (F.reshape(self.prior_mean(t), shape),
                bounded(F.reshape(self.prior_logvar(t), shape)))

    def encode(self, h):
        return self.x_mean(self.recognition(h))

    def assign(self, x):
        mu_x, _, mu_w, _ = self.posterior(self.preprocess(x))
        mu, logvar = self.prior(mu_w)
        return {'proba': F.exp(gaussian_mixture_posterior(mu_x, mu, logvar)),
                'embedding': mu_x}

    def forward(self, x):
        return self.assign(x)['proba']


def _reparameterize(mean, logvar, random_state):
    noise = random_state.standard_normal(mean.shape).astype(mean.dtype)
    return mean + F.exp(0.5 * logvar) * mean.xp.asarray(noise)


class GMVAELoss(chainer.Chain):
    """The negative ELBO of GMVAE with the minimum-information constraint.

    ``reconstruction + E[KL(q(x|y) || p(x|w,z))] + KL(q(w|y) || N(0, I))
    + max(lambda, E[KL(p(z|x,w) || p(z))])``, the expectations over ``n_samples``
    Monte-Carlo samples of x and w; every term summed over dimensions and
    averaged over the batch. Reports each term (and the z-prior KL before the
    threshold as ``z_prior_kl``).

    Args:
        net (GMVAENet): the network.
        n_samples (int): M.
        information_lambda (float): lambda (0: the plain ELBO).
        likelihood (str): ``'bernoulli'`` (inputs in [0, 1]) or ``'gaussian'``.
        random_state (numpy.random.RandomState): draws the reparameterisation noise;
            register it with the phase so that it travels in snapshots.
    """

    def __init__(self, net, n_samples, information_lambda, likelihood, random_state):
        super(GMVAELoss, self).__init__()
        if likelihood not in LIKELIHOODS:
            raise ValueError('likelihood must be one of %s, got %r' % (LIKELIHOODS, likelihood))
        with self.init_scope():
            self.net = net
        self.n_samples, self.information_lambda = int(n_samples), float(information_lambda)
        self.likelihood, self.random_state = likelihood, random_state

    def forward(self, y):
        net = self.net
        h = net.preprocess(y)
        n = h.shape[0]
        mu_x, logvar_x, mu_w, logvar_w = net.posterior(h)
        w_prior = F.gaussian_kl_divergence(mu_w, logvar_w) / n
        terms = {'reconstruction': 0, 'conditional_prior': 0, 'z_prior': 0, 'z_prior_kl': 0}
        for _ in range(self.n_samples):
            x = _reparameterize(mu_x, logvar_x, self.random_state)
            w = _reparameterize(mu_w, logvar_w, self.random_state)
            mu, logvar = net.prior(w)
            log_pz = gaussian_mixture_posterior(x, mu, logvar)
            logits = net.decoder(x)
            if self.likelihood == 'bernoulli':
                reconstruction = F.bernoulli_nll(h, logits) / n
            else:
                reconstruction = 0.5 * F.sum((logits - h) ** 2) / n
            terms['reconstruction'] += reconstruction
            terms['conditional_prior'] += conditional_prior_kl(log_pz, mu_x, logvar_x, mu,
                                                               logvar)
            terms['z_prior'] += z_prior_kl(log_pz, self.information_lambda)
            with chainer.no_backprop_mode():
                terms['z_prior_kl'] += z_prior_kl(log_pz.array)
        terms = {k: v / self.n_samples for k, v in terms.items()}
        loss = (terms['reconstruction'] + terms['conditional_prior'] + w_prior
                + terms['z_prior'])
        chainer.report(dict(terms, loss=loss, w_prior=w_prior), self)
        return loss
