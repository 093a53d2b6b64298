"""GMVAE clustering as a scikit-learn estimator."""
from numbers import Integral
import os

import chainer
import numpy
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import StrOptions

from chainclust.estimators.base import check_widths, ClusteringEstimator, non_negative_float
from chainclust.estimators.base import positive_float, positive_int
from chainclust.estimators import starts
from chainclust.errors import ModelFileError, ParameterError
from chainclust.inference import batched_forward
from chainclust.links.conv import minimum_size
from chainclust.models.base import image_layout
from chainclust.models.gmvae import ARCHITECTURES, GMVAELoss, GMVAENet, LIKELIHOODS
from chainclust.models.gmvae import PAPER_CONV_LAYERS, Z_GRADIENTS
from chainclust.optimizers import Adam
from chainclust import plots
from chainclust.training import EpochIntervalTrigger, Phase, random_stream
from chainclust.training.augment import affine_augmentation, AUGMENT_MODES, resolve_augment
from chainclust.training.cluster_metrics import ClusterMetricsReport

NETWORK_VERSION = 2  # 1: the fully connected network before batch norm and Gaussian variance


class GMVAE(starts.MultiStartMixin, ClusteringEstimator):
    """Gaussian-mixture VAE clustering (Dilokthanakul et al. 2016).

    A VAE whose prior on the latent x is a mixture of K Gaussians with means and
    variances given by a network of a second latent w; a sample's cluster is the
    most probable component ``argmax_z p(z | x, w)`` at the posterior means of x
    and w. The z-prior term of the ELBO is ``max(lambda, E[KL(p(z|x,w) || p(z))])``,
    the minimum-information constraint, which keeps the components from
    collapsing onto one early in training (``information_lambda=0`` is the plain
    ELBO). ``architecture='conv'`` is the paper's convolutional MNIST network
    (images only), ``'mlp'`` a fully connected one for any data.

    It is generative too: :meth:`sample` draws new data from the prior or from
    one component. With ``out``, the result folder gets the figures of the
    paper: the z-prior term over training (``train/z_prior.png``), the latent
    space coloured by cluster (``latent.png``, and by label when labels were
    given), for 2-D data the generated points of each component
    (``samples.png``), for grey images one row of generated images per
    component at ``w = 0`` (``samples.png``) and a traversal of w
    (``w_traversal.png``).

    Args:
        n_clusters (int): K, the number of mixture components.
        n_samples (int): M, Monte-Carlo samples of x and w per example.
        information_lambda (float): lambda of the minimum-information constraint.
        z_prior_weight (float): weight of the z-prior term (the paper: 1; the
            authors' code: 0.4 for MNIST, 2.0 for the spiral data).
        z_gradient (str): the gradient used: ``paper``, the exact gradient of
            the objective, or ``reference``, as the authors' code: the
            conditional-prior term's gradient through p(z|x,w) negated while the
            z-prior KL is above lambda.
        architecture (str): the networks: ``mlp``, fully connected (as the
            authors' code: Linear-BN-ReLU recognition layers, Linear-ReLU
            decoder), or ``conv``, the paper's MNIST networks (Conv-BN-ReLU 16x6x6,
            32x6x6, 64x4x4 stride 2, a whole-map layer, mirrored deconvolutions).
        hidden_dims (tuple of int): with ``mlp``, the hidden widths of the
            recognition network (the decoder mirrors them); with ``conv``, the
            last is the width of the layer after the convolutions (the paper: 500).
        x_dim (int): N_x, the size of the latent x (the embedding). The
            paper's MNIST networks used 200; with the fully connected network
            that made every posterior one-hot from the first step and one
            component took every sample (README, "GMVAE on MNIST-10k"), so the
            default is 10.
        w_dim (int): N_w, the size of the latent w (the paper: 150).
        prior_hidden (int): width of the prior network's tanh layer.
        likelihood (str): ``auto`` (Bernoulli for uint8 data and data already in
            [0, 1], such as images; else Gaussian), ``bernoulli`` (pixel
            intensities, after normalisation in [0, 1]) or ``gaussian`` (the
            decoder gives a mean and a variance per feature).
        epochs (int): training epochs (the starts' included).
        n_init (int): independent starts (as k-means' ``n_init``): each trains
            ``init_epochs`` epochs from its own initial weights, and the one
            with the lowest loss (minus the ELBO) in its last epoch goes on for
            the remaining ``epochs - init_epochs`` (with a fresh Adam state).
            1: one start, as the paper.
        init_epochs (int): epochs of each start when ``n_init > 1``.
        lr (float): Adam step size (the paper: 1e-4, over 120,000 steps; after
            10 epochs of 8,000 MNIST images, 1e-3 had reached a Makhzani ACC
            of 0.76 on them, 1e-4 0.52).
        batch_size (int): minibatch size (the paper's 50).
        augment (str): one of ``none`` (the default, as the paper: the data
            as given), ``affine`` (images shifted by up to 10% and rotated by up
            to 10 degrees, as DEC's ``augment``; the ELBO is that of the warped
            image; samples ``(H, W)`` or ``(H, W, C)``, not with
            ``normalize='standard'``, whose per-pixel scales a shift would
            misapply) or ``auto`` (``affine`` for such images). On MNIST-10k
            ``affine`` trailed far behind (README).
        metrics_interval (int): with labels, epochs between the evaluations of
            ACC/NMI/ARI on all samples (and after the last epoch). Monitoring
            only: training is the same.
        normalize, device, communicator, random_state, out, resume, verbose: as for DEC.

    Attributes:
        labels_ (numpy.ndarray): ``(N,)`` most probable component of each sample.
        likelihood_ (str): the likelihood ``auto`` resolved to.
        augment_ (str): ``augment`` resolved: ``'affine'`` or ``'none'``.
        start_losses_ (list of float or None): with ``n_init > 1``, each start's
            loss in its last epoch.
    """

    method = 'gmvae'
    _parameter_constraints = dict(
        ClusteringEstimator._parameter_constraints,
        n_samples=positive_int(), information_lambda=non_negative_float(),
        z_prior_weight=non_negative_float(), z_gradient=[StrOptions(set(Z_GRADIENTS))],
        architecture=[StrOptions(set(ARCHITECTURES))], hidden_dims=[tuple, list],
        x_dim=positive_int(), w_dim=positive_int(), prior_hidden=positive_int(),
        likelihood=[StrOptions(set(('auto',) + LIKELIHOODS))], epochs=positive_int(),
        lr=positive_float(), batch_size=positive_int(),
        augment=[StrOptions(set(AUGMENT_MODES))], metrics_interval=positive_int(),
        **starts.PARAMETER_CONSTRAINTS)

    def __init__(self, n_clusters=10, n_samples=1, information_lambda=0.5,
                 z_prior_weight=1.0, z_gradient='paper', architecture='mlp',
                 hidden_dims=(500,), x_dim=10, w_dim=10,
                 prior_hidden=500, likelihood='auto', epochs=100, n_init=1, init_epochs=10,
                 lr=1e-3, batch_size=50, augment='none', metrics_interval=1, normalize='auto',
                 device='@numpy', communicator=None, random_state=None, out=None, resume='auto', verbose=False):
        self.n_clusters = n_clusters
        self.n_samples = n_samples
        self.information_lambda = information_lambda
        self.z_prior_weight = z_prior_weight
        self.z_gradient = z_gradient
        self.architecture = architecture
        self.hidden_dims = hidden_dims
        self.x_dim = x_dim
        self.w_dim = w_dim
        self.prior_hidden = prior_hidden
        self.likelihood = likelihood
        self.epochs = epochs
        self.n_init = n_init
        self.init_epochs = init_epochs
        self.lr = lr
        self.batch_size = batch_size
        self.augment = augment
        self.metrics_interval = metrics_interval
        self.normalize = normalize
        self.device = device
        self.communicator = communicator
        self.random_state = random_state
        self.out = out
        self.resume = resume
        self.verbose = verbose

    def _check_params(self, n_samples):
        if self.batch_size < 2:
            raise ValueError('batch_size must be >= 2: the networks use batch normalisation')
        check_widths('hidden_dims', self.hidden_dims)
        self._check_starts()
        affine = resolve_augment(self.augment, self.input_shape_) == 'affine'  # images only
        if affine and self.normalize == 'standard':  # ('auto' never resolves to it)
            raise ValueError(
                "augment='affine' warps the raw images, which normalize='standard' then "
                "scales pixel by pixel; choose normalize='minmax' or 'scale255', or "
                "augment='none'")
        if not self.hidden_dims:
            raise ValueError('hidden_dims needs at least one width')
        if self.architecture == 'conv':
            try:
                stored, axes = image_layout(self.input_shape_)
            except ValueError as error:
                raise ValueError("architecture='conv' needs images: %s; use "
                                 "architecture='mlp' for other data" % error)
            size = min(stored[a - 1] for a in axes[2:])
            need = minimum_size(PAPER_CONV_LAYERS)
            if size < need:
                raise ValueError("architecture='conv' needs images of at least %dx%d pixels, "
                                 "got %s" % (need, need, 'x'.join(map(str, self.input_shape_))))

    def _prepare(self, x):
        self.likelihood_ = self.likelihood
        if self.likelihood == 'auto':
            low, high = self._normalised_range(x)
            probabilities = (x.dtype == numpy.uint8 or (x.min() >= 0 and x.max() <= 1)) \
                and low >= 0 and high <= 1
            self.likelihood_ = 'bernoulli' if probabilities else 'gaussian'

    def _build_net(self, rng):
        return GMVAENet(self.input_shape_, tuple(self.hidden_dims), self.x_dim, self.w_dim,
                        self.n_clusters, self.prior_hidden, rng=rng,
                        architecture=self.architecture, likelihood=self.likelihood_)

    def _train(self, run, net, x, y):
        self.augment_ = resolve_augment(self.augment, self.input_shape_)
        xf = numpy.asarray(x, dtype=numpy.float32)
        if self.likelihood_ == 'bernoulli':
            h = batched_forward(net.preprocess, xf, device=run.device)
            if h.min() < 0 or h.max() > 1:
                raise ParameterError(
                    "likelihood='bernoulli' needs the normalised data in [0, 1], they span "
                    "[%.4g, %.4g] with normalize=%r; choose normalize='minmax' or "
                    "likelihood='gaussian'" % (h.min(), h.max(), self.normalization_))
        self._train_starts(run, net, xf, y)

    def _train_phase(self, run, net, xf, y, name, epochs, extra):
        """Train ``net`` for ``epochs`` epochs as phase ``name``; returns the phase."""
        noise = run.sample_random_state(name + '/noise')
        loss = GMVAELoss(net, self.n_samples, self.information_lambda, noise,
                         self.z_prior_weight, self.z_gradient)
        keys = ['main/loss', 'main/reconstruction', 'main/conditional_prior', 'main/w_prior',
                'main/z_prior', 'main/z_prior_kl']
        params = {'n_clusters': self.n_clusters, 'n_samples': self.n_samples,
                  'information_lambda': self.information_lambda,
                  'z_prior_weight': self.z_prior_weight, 'z_gradient': self.z_gradient,
                  'architecture': self.architecture, 'hidden_dims': list(self.hidden_dims),
                  'x_dim': self.x_dim, 'w_dim': self.w_dim, 'prior_hidden': self.prior_hidden,
                  'likelihood': self.likelihood_, 'epochs': self.epochs, 'lr': self.lr,
                  'batch_size': self.batch_size}
        params.update(extra)
        converter, states = None, {'noise': noise}
        if self.augment_ == 'affine':  # keyed only when used: earlier folders still resume
            params['augment'] = self.augment_
            converter, states['augment'] = affine_augmentation(run, name, self.input_shape_)
        monitor = None if y is None else ClusterMetricsReport(
            net, xf, y, run.device, EpochIntervalTrigger(self.metrics_interval, epochs))
        # metrics.png always: a snapshot then resumes whether or not labels are given
        plot_list = [('loss.png', keys[:5]), ('z_prior.png', keys[4:]),
                     ('metrics.png', ClusterMetricsReport.keys_for())]
        extensions = []
        if monitor is not None:
            extensions.append((monitor, {}))
            keys = keys + monitor.keys()
        # Full batches only: batch normalisation of a last batch of one is degenerate.
        order = 'drop_last' if len(xf) > self.batch_size else 'shuffle'
        phase = Phase(name, loss, xf, Adam(alpha=self.lr), (epochs, 'epoch'), self.batch_size,
                      params=params, order=order, converter=converter, random_states=states,
                      report_keys=keys, plots=plot_list, extensions=extensions)
        run.run(phase)
        return phase

    def predict_proba(self, X):
        """``p(z | x, w)`` ``(N, K)`` at the posterior means of x and w."""
        return self.cluster_scores(X)

    def sample(self, n_samples=1, cluster=None, random_state=None):
        """Generate new data: ``w ~ N(0, I)``, ``z``, ``x ~ p(x | w, z)``, decoded.

        Args:
            n_samples (int): how many samples.
            cluster (int or None): draw every sample from this component; by
                default components are drawn uniformly, as the prior says.
            random_state (None, int or numpy.random.RandomState): the draws.

        Returns:
            tuple: ``(X, components)``: ``X`` ``(n_samples, *input_shape)``
            float32, the decoder's mean in the units of the training data, and
            ``components`` ``(n_samples,)`` int64.
        """
        self._check_fitted()
        if isinstance(n_samples, bool) or not isinstance(n_samples, Integral) \
                or n_samples < 1:
            raise ParameterError('n_samples must be an int >= 1, got %r' % (n_samples,))
        n = int(n_samples)
        if cluster is not None and (isinstance(cluster, bool)
                                    or not isinstance(cluster, Integral)
                                    or not 0 <= cluster < self.n_clusters):
            raise ParameterError('cluster must be an int in [0, %d), got %r'
                                 % (self.n_clusters, cluster))
        rng = check_random_state(random_state)
        components = (numpy.full(n, cluster, dtype=numpy.int64) if cluster is not None
                      else rng.randint(self.n_clusters, size=n).astype(numpy.int64))
        w = rng.standard_normal((n, self.w_dim)).astype(numpy.float32)
        noise = rng.standard_normal((n, self.x_dim)).astype(numpy.float32)
        return self._generate(w, components, noise), components

    def _generate(self, w, components, noise=None):
        """Decoded samples ``(N, *input_shape)`` NumPy (see :meth:`GMVAENet.generate`)."""
        net, device = self.net_, self.net_.device
        send = device.send
        with chainer.using_config('train', False), chainer.no_backprop_mode():
            out = net.generate(send(w), send(components),
                               None if noise is None else send(noise))
        return chainer.backend.CpuDevice().send(out.array)

    def _report(self, out, x, y):
        """The paper's figures (see the class docstring) in the result folder ``out``."""
        net = self.net_
        with chainer.using_config('train', False), chainer.no_backprop_mode():
            mu_x = batched_forward(lambda b: net.posterior(net.preprocess(b))[0], x,
                                   device=net.device)
            mu_w = batched_forward(lambda b: net.posterior(net.preprocess(b))[2], x,
                                   device=net.device)
        shown = plots.project_2d(mu_x)
        how = 'x' if self.x_dim <= 2 else 'first two principal components of x'
        plots.scatter_png(shown, self.labels_, os.path.join(out, 'latent.png'),
                          'posterior means: %s, by cluster' % how, n_colours=self.n_clusters)
        if y is not None:
            plots.scatter_png(shown, y, os.path.join(out, 'latent_labels.png'),
                              'posterior means: %s, by label' % how, colour_name='label')
        rng = random_stream(self._seed(), 'figures')
        k, per_row = self.n_clusters, 10
        rows = numpy.repeat(numpy.arange(k), per_row)
        zeros = numpy.zeros((len(rows), self.w_dim), numpy.float32)
        noise = rng.standard_normal((len(rows), self.x_dim)).astype(numpy.float32)
        image = plots.grey_image_shape(self.input_shape_)
        if self.n_features_in_ == 2:
            generated, components = self.sample(2000, random_state=rng)
            plots.scatter_png(generated.reshape(-1, 2), components,
                              os.path.join(out, 'samples.png'),
                              'generated: w ~ N(0, I), x ~ p(x | w, z), by component z',
                              colour_name='component', n_colours=self.n_clusters)
        elif image is not None:
            flat = self._generate(zeros, rows, noise).reshape(k, per_row, -1)
            plots.image_grid_png(list(flat), ['z=%d' % i for i in range(k)], image,
                                 os.path.join(out, 'samples.png'))
            direction = numpy.linalg.svd(mu_w - mu_w.mean(axis=0),
                                         full_matrices=False)[2][0]
            steps = numpy.linspace(-3, 3, per_row)
            w = numpy.tile(steps[:, None] * direction[None, :], (k, 1))  # row i: z = i
            flat = self._generate(w.astype(numpy.float32), rows).reshape(k, per_row, -1)
            plots.image_grid_png(list(flat), ['z=%d' % i for i in range(k)], image,
                                 os.path.join(out, 'w_traversal.png'))

    def _extra_state(self):
        state = super(GMVAE, self)._extra_state()
        if getattr(self, 'likelihood_', None) is not None:
            state['likelihood'] = self.likelihood_
        if getattr(self, 'augment_', None) is not None:
            state['augmentation'] = self.augment_
        state['network_version'] = NETWORK_VERSION
        return state

    def _restore_state(self, info):
        super(GMVAE, self)._restore_state(info)
        if info.get('network_version') != NETWORK_VERSION:
            raise ModelFileError(
                'this GMVAE model was saved by an earlier chainclust whose GMVAE network was '
                'different (batch-normalised recognition, a learned Gaussian variance came '
                'later); train it again')
        self.likelihood_ = info.get('likelihood')
        self.augment_ = info.get('augmentation', 'none')
