"""Gaussian-mixture VAE (Dilokthanakul et al. 2016): network and ELBO loss.

Generative model: ``w ~ N(0, I)``, ``z ~ Mult(1/K)``, ``x | z, w ~ N(mu_z(w),
diag var_z(w))``, ``y | x ~ Bernoulli(decoder(x))`` (or, for real-valued data, a
Gaussian whose mean and diagonal log-variance the decoder outputs, as the
authors' code does). Recognition: ``q(x | y) q(w | y) p(z | x, w)``, the z
posterior computed from the prior network's K Gaussians.
"""
import chainer
import chainer.functions as F
import chainer.links as L

from chainclust.functions import conditional_prior_kl, gaussian_mixture_posterior
from chainclust.functions import z_prior_kl
from chainclust.links import BatchNormMLP, MLP
from chainclust.links.conv import ConvEncoder, DeconvDecoder
from chainclust.models.base import ClusteringNet

LIKELIHOODS = ('bernoulli', 'gaussian')
Z_GRADIENTS = ('paper', 'reference')
LOGVAR_BOUND = 10.0  # log-variances are kept in (-10, 10): exp never overflows


def bounded(logvar):
    """A smooth bound of a log-variance to ``(-LOGVAR_BOUND, LOGVAR_BOUND)``."""
    return LOGVAR_BOUND * F.tanh(logvar / LOGVAR_BOUND)


ARCHITECTURES = ('mlp', 'conv')
# The paper's MNIST recognition network (appendix): Conv-BN-ReLU layers
# (channels, ksize, stride, pad) before the whole-map layer of ``hidden[-1]`` units.
PAPER_CONV_LAYERS = ((16, 6, 1, 0), (32, 6, 1, 0), (64, 4, 2, 1))


class GMVAENet(ClusteringNet):
    """Recognition ``q(x, w | y)``, prior ``p(x | w, z)`` and decoder ``p(y | x)``.

    Args:
        sample_shape (tuple): shape of one raw sample.
        hidden (sequence of int): ``'mlp'``: hidden widths of the recognition
            network (the decoder mirrors them); ``'conv'``: its last entry is
            the width of the whole-map layer after the convolutions (the
            paper's 500).
        x_dim (int): N_x, the size of the latent x (the embedding).
        w_dim (int): N_w, the size of the latent w.
        n_clusters (int): K.
        prior_hidden (int): the prior network's tanh layer.
        rng (numpy.random.RandomState or None): draws the initial weights.
        architecture (str): ``'mlp'`` (flat input; as the authors' fully connected
            networks, Linear-BN-ReLU recognition layers and a Linear-ReLU decoder) or ``'conv'``
            (images; the paper's MNIST networks: :data:`PAPER_CONV_LAYERS` with
            batch norm, then a mirrored deconvolutional decoder).
        likelihood (str): ``'bernoulli'`` (network inputs in [0, 1]; the decoder
            gives logits) or ``'gaussian'`` (the decoder gives means and bounded
            log-variances).

    Its score is ``proba``, ``p(z | x, w)`` at the posterior means of x and w;
    the embedding is the mean of x.
    """

    score = 'proba'

    def __init__(self, sample_shape, hidden, x_dim, w_dim, n_clusters, prior_hidden=500,
                 rng=None, architecture='mlp', likelihood='bernoulli'):
        if architecture not in ARCHITECTURES:
            raise ValueError('architecture must be one of %s, got %r'
                             % (ARCHITECTURES, architecture))
        if likelihood not in LIKELIHOODS:
            raise ValueError('likelihood must be one of %s, got %r' % (LIKELIHOODS, likelihood))
        outputs = 2 if likelihood == 'gaussian' else 1  # Gaussian: means and log-variances
        super(GMVAENet, self).__init__(sample_shape,
                                       'image' if architecture == 'conv' else 'flat')
        hidden = tuple(hidden)
        init = chainer.initializers.LeCunNormal(rng=rng)
        self.n_clusters, self.x_dim, self.w_dim = int(n_clusters), int(x_dim), int(w_dim)
        self.architecture, self.likelihood = architecture, likelihood
        with self.init_scope():
            if architecture == 'conv':
                channels, height, width = self.image_shape
                self.recognition = ConvEncoder(channels, (height, width), PAPER_CONV_LAYERS,
                                               hidden[-1], initialW=init)
            else:
                self.recognition = BatchNormMLP((self.n_features,) + hidden, initialW=init)
            self.x_mean = L.Linear(hidden[-1], x_dim, initialW=init)
            self.x_logvar = L.Linear(hidden[-1], x_dim, initialW=init)
            self.w_mean = L.Linear(hidden[-1], w_dim, initialW=init)
            self.w_logvar = L.Linear(hidden[-1], w_dim, initialW=init)
            self.prior_hidden = L.Linear(w_dim, prior_hidden, initialW=init)
            self.prior_mean = L.Linear(prior_hidden, n_clusters * x_dim, initialW=init)
            self.prior_logvar = L.Linear(prior_hidden, n_clusters * x_dim, initialW=init)
            if architecture == 'conv':
                self.decoder = DeconvDecoder(x_dim, self.recognition, outputs * channels,
                                             initialW=init)
            else:
                self.decoder = MLP((x_dim,) + hidden[::-1] + (outputs * self.n_features,),
                                   initialW=init)

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

    def decode(self, x):
        """Latent x ``(N, N_x)`` -> the parameters of ``p(y | x)`` in network space.

        Returns:
            tuple: ``(logits, None)`` for the Bernoulli likelihood, ``(mean,
            logvar)`` (log-variance bounded) for the Gaussian; each shaped as
            the network input.
        """
        out = self.decoder(x)
        if self.likelihood == 'bernoulli':
            return out, None
        mean, logvar = F.split_axis(out, 2, axis=1)
        return mean, bounded(logvar)

    def reconstruction_nll(self, h, x):
        """``-log p(h | x)`` summed over the batch: network input ``h``, latent ``x``."""
        out, logvar = self.decode(x)
        if logvar is None:
            return F.bernoulli_nll(h, out)
        return F.gaussian_nll(h, out, logvar)

    def generate(self, w, clusters, noise=None):
        """Decode x drawn from the components ``clusters`` of ``p(x | w, z)``.

        Args:
            w: ``(N, N_w)`` values of the latent w (zeros: the prior's mean).
            clusters: ``(N,)`` int component of each sample.
            noise: ``(N, N_x)`` standard normal draws, or ``None`` for the
                components' means.

        Returns:
            chainer.Variable: ``(N, *sample_shape)``, the mean of ``p(y | x)``
            (``sigmoid(logits)`` or the Gaussian's mean) in the raw data's units
            (the recorded normalisation undone).
        """
        mu, logvar = self.prior(w)
        rows = self.xp.arange(len(clusters))
        x = mu[rows, clusters]
        if noise is not None:
            x = x + F.exp(0.5 * logvar[rows, clusters]) * noise
        out, logvar = self.decode(x)
        return self.postprocess(F.sigmoid(out) if logvar is None else out)


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

    ``z_gradient='reference'`` reproduces what the authors' code (Nat-D/GMVAE,
    branch version2, ``main.lua``) does while the z-prior KL is above lambda:
    it multiplies the whole gradient with respect to ``p(z | x, w)`` by -1,
    which flips the sign of the conditional-prior term's gradient through the
    z posterior (the z-prior term's own gradient keeps its sign). That is not
    the paper's formula, but it pushes posterior mass towards every component
    and so keeps components from dying; ``'paper'`` is the exact gradient of
    the objective above.

    Args:
        net (GMVAENet): the network.
        n_samples (int): M.
        information_lambda (float): lambda (0: the plain ELBO).
        z_prior_weight (float): weight of the z-prior term (the reference's
            ``cvWeight``: 0.4 for MNIST, 2.0 for the spiral data; the paper: 1).
        z_gradient (str): ``'paper'`` or ``'reference'`` (see above).
        random_state (numpy.random.RandomState): draws the reparameterisation noise;
            register it with the phase so that it travels in snapshots.
    """

    def __init__(self, net, n_samples, information_lambda, random_state,
                 z_prior_weight=1.0, z_gradient='paper'):
        super(GMVAELoss, self).__init__()
        if z_gradient not in Z_GRADIENTS:
            raise ValueError('z_gradient must be one of %s, got %r' % (Z_GRADIENTS, z_gradient))
        self.z_prior_weight, self.z_gradient = float(z_prior_weight), z_gradient
        with self.init_scope():
            self.net = net
        self.n_samples, self.information_lambda = int(n_samples), float(information_lambda)
        self.random_state = random_state

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
            with chainer.no_backprop_mode():
                kl = z_prior_kl(log_pz.array)
            terms['z_prior_kl'] += kl
            log_pz_conditional = log_pz
            if self.z_gradient == 'reference' and float(kl.array) > self.information_lambda:
                # value unchanged (2a - a is exact), gradient through p(z|x,w) negated
                log_pz_conditional = 2 * log_pz.array - log_pz
            terms['reconstruction'] += net.reconstruction_nll(h, x) / n
            terms['conditional_prior'] += conditional_prior_kl(log_pz_conditional, mu_x,
                                                               logvar_x, mu, logvar)
            terms['z_prior'] += z_prior_kl(log_pz, self.information_lambda)
        terms = {k: v / self.n_samples for k, v in terms.items()}
        loss = (terms['reconstruction'] + terms['conditional_prior'] + w_prior
                + self.z_prior_weight * terms['z_prior'])
        chainer.report(dict(terms, loss=loss, w_prior=w_prior), self)
        return loss
