"""The autoencoder family as a scikit-learn estimator: train one member, k-means its codes."""
from numbers import Integral
import os

import chainer
import numpy
from sklearn.cluster import KMeans
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import StrOptions

from chainclust import plots
from chainclust.estimators.base import ClusteringEstimator, non_negative_int, positive_float
from chainclust.estimators.base import positive_int
from chainclust.errors import DataError, ParameterError
from chainclust.inference import batched_forward
from chainclust.models.autoencoders import AutoencoderLoss, AutoencoderNet, KINDS
from chainclust.models.autoencoders import per_sample_binary_cross_entropy, StackedLayerLoss
from chainclust.optimizers import Adam
from chainclust.training import Phase
from chainclust.training.random_states import random_stream

REPORT_KEYS = ('main/loss', 'main/reconstruction', 'main/penalty')
UNIT_RANGE_SLACK = 1e-6


def train_autoencoder(run, net, xf, kind, epochs, lr, batch_size, prefix='', params=None):
    """Train the family member ``net`` on raw samples ``xf`` as phases of ``run``.

    End to end for ``epochs`` epochs, or, for a stacked member, greedily: stage
    ``i`` trains encoder layer ``i`` and its mirror for ``epochs // n_layers``
    epochs (the last stage takes the remainder), earlier layers frozen.
    Shared by :class:`Autoencoder` and DEC's family backbones.

    Args:
        run (TrainingRun): where the phases run.
        net: a network with ``preprocess`` and a
            :class:`~chainclust.models.autoencoders.FamilyAutoencoder` as
            ``autoencoder`` (the family's own network or DEC's).
        xf (numpy.ndarray): raw float32 samples.
        kind (str): a key of :data:`~chainclust.models.autoencoders.KINDS`.
        prefix (str): prefix of the phase names (e.g. ``'backbone/'``).
        params (dict): hyper-parameters recorded with the phases.
    """
    spec = KINDS[kind]
    params = dict(params or {}, kind=kind, epochs=epochs, lr=lr, batch_size=batch_size)
    # Full batches only: batch normalisation of a last batch of one is degenerate.
    order = 'drop_last' if len(xf) > batch_size else 'shuffle'

    def phase(name, loss, n_epochs, keys, random_states=None):
        return Phase(prefix + name, loss, xf, Adam(alpha=lr),
                     (n_epochs, 'epoch'), batch_size, params=params, order=order,
                     random_states=random_states, report_keys=keys,
                     plots=[('loss.png', keys)])

    if spec.stacked:
        n = net.autoencoder.encoder.n_layers
        for stage in range(n):
            n_epochs = epochs // n + (epochs % n if stage == n - 1 else 0)
            run.run(phase('stage%d' % stage, StackedLayerLoss(net, stage), n_epochs,
                          list(REPORT_KEYS[:2])))
        return
    noise = run.sample_random_state(prefix + 'train/noise')
    run.run(phase('train', AutoencoderLoss(net, spec.noise, noise), epochs,
                  list(REPORT_KEYS), random_states={'noise': noise}))


def check_unit_range(low, high, normalize):
    """The family reconstructs with a sigmoid: normalised data must lie in [0, 1]."""
    if low < -UNIT_RANGE_SLACK or high > 1 + UNIT_RANGE_SLACK:
        raise ParameterError(
            'the autoencoder family reconstructs with a sigmoid and binary cross-entropy: the '
            'normalised data must lie in [0, 1], they span [%.4g, %.4g] with normalize=%r; '
            "choose normalize='minmax'" % (low, high, normalize))


class Autoencoder(ClusteringEstimator):
    """One autoencoder of the family (after Krokotsch's ae_bakeoff), then k-means on its codes.

    Every member shares a fully connected architecture: three layers each side,
    two ``Linear -> BatchNorm -> ReLU`` and a plain ``Linear`` (the code; the
    reconstruction through a sigmoid), widths shrinking geometrically from the
    input to the code; the loss is the binary cross-entropy summed over
    features and averaged over the batch plus the member's own term. ``kind``:

    * ``shallow``: one layer each side (ReLU code, sigmoid output);
    * ``deep``: plain;
    * ``stacked``: greedy layer-wise training, earlier layers frozen;
    * ``sparse``: sigmoid code, KL sparsity penalty (p = 0.25, beta = 1);
    * ``denoising``: input corrupted by Gaussian noise of scale 0.5 (clipped to [0, 1]);
    * ``vae``, ``beta_vae_strict`` (beta = 2), ``beta_vae_loose`` (beta = 0.5);
    * ``vq_vae``: 512 learned scalars per code dimension, straight-through, commitment 1.

    After training, k-means (``n_init`` restarts) on the deterministic codes
    gives ``n_clusters`` centres; a sample's cluster is its nearest centre.
    The data must lie in [0, 1] after normalisation (images: ``normalize='auto'``).

    Args:
        n_clusters (int): k-means centres in the code space.
        kind (str): the member: shallow, deep, stacked, sparse, denoising, vae,
            beta_vae_strict (beta 2), beta_vae_loose (beta 0.5) or vq_vae.
        latent_dim (int): code size (ae_bakeoff: 20; 2 for anomaly detection).
        epochs (int): training epochs (stacked: split over the layers).
        lr (float): Adam step size.
        batch_size (int): minibatch size (full batches only).
        n_init (int): k-means restarts.
        normalize, device, communicator, random_state, out, resume, verbose: as for :class:`DEC`.

    Attributes:
        labels_ (numpy.ndarray): ``(N,)`` nearest centre of each training sample.
        cluster_centers_ (numpy.ndarray): ``(K, latent_dim)``.
        reconstruction_error_ (float): mean summed BCE on the training samples.
    """

    method = 'autoencoder'
    _parameter_constraints = dict(
        ClusteringEstimator._parameter_constraints,
        kind=[StrOptions(set(KINDS))], latent_dim=positive_int(), epochs=non_negative_int(),
        lr=positive_float(), batch_size=positive_int(), n_init=positive_int())

    def __init__(self, n_clusters=10, kind='deep', latent_dim=20, epochs=60, lr=1e-3,
                 batch_size=256, n_init=10, normalize='auto', device='@numpy', communicator=None,
                 random_state=None, out=None, resume='auto', verbose=False):
        self.n_clusters = n_clusters
        self.kind = kind
        self.latent_dim = latent_dim
        self.epochs = epochs
        self.lr = lr
        self.batch_size = batch_size
        self.n_init = n_init
        self.normalize = normalize
        self.device = device
        self.communicator = communicator
        self.random_state = random_state
        self.out = out
        self.resume = resume
        self.verbose = verbose

    # -- building ----------------------------------------------------------
    def _check_params(self, n_samples):
        super(Autoencoder, self)._check_params(n_samples)
        if self.batch_size < 2:
            raise ValueError('batch_size must be >= 2: the network uses batch normalisation')

    def _prepare(self, x):
        check_unit_range(*self._normalised_range(x), normalize=self.normalize)

    def _build_net(self, rng):
        return AutoencoderNet(self.input_shape_, self.kind, self.latent_dim, self.n_clusters,
                              rng=rng)

    def _train(self, run, net, x, y):
        xf = numpy.asarray(x, dtype=numpy.float32)
        train_autoencoder(run, net, xf, self.kind, self.epochs, self.lr, self.batch_size,
                          params={'latent_dim': self.latent_dim})
        dist = run.distribution
        codes = dist.map_rows(lambda a: batched_forward(net.embed, a, device=run.device), xf)
        net.centres.set_codes(dist.root_computes(lambda: KMeans(
            self.n_clusters, n_init=self.n_init,
            random_state=run.random_state('kmeans')).fit(codes).cluster_centers_))

    def _after_fit(self, x):
        self.reconstruction_error_ = float(self.reconstruction_error(x).mean())

    # -- inference ---------------------------------------------------------
    def encode(self, X):
        """Deterministic codes ``(N, latent_dim)`` (the Gaussian's mean, the VQ codes)."""
        return self.transform(X)

    def decode(self, Z):
        """Codes ``(N, latent_dim)`` -> reconstructions ``(N, *input_shape)`` in data units."""
        self._check_fitted()
        z = numpy.asarray(Z, dtype=numpy.float32)
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ParameterError('codes must have shape (N, %d), got %s'
                                 % (self.latent_dim, z.shape))
        net = self.net_
        return batched_forward(lambda b: net.postprocess(net.decode(b)), z, device=net.device)

    def reconstruct(self, X):
        """``decode(encode(X))``: ``(N, *input_shape)`` in data units."""
        return self.decode(self.encode(X))

    def reconstruction_error(self, X, random_state=None):
        """Each sample's binary cross-entropy summed over its features ``(N,)``.

        Deterministic codes by default; with ``random_state`` the Gaussian
        members decode a posterior sample instead (as ae_bakeoff measures).
        High values flag anomalies.
        """
        x = self._check_input(X)
        net, autoencoder = self.net_, self.net_.autoencoder
        rng = None if random_state is None else check_random_state(random_state)

        def error(b):
            target = net.preprocess(b)
            h = autoencoder.encoder(target)
            code = (autoencoder.bottleneck(h, rng)[0] if rng is not None and net.generative
                    else autoencoder.bottleneck.embed(h))
            return per_sample_binary_cross_entropy(autoencoder.decoder(code), target)
        return batched_forward(error, x, device=net.device)

    def sample(self, n_samples=1, random_state=None):
        """Decoded draws from the prior ``(n_samples, *input_shape)`` (generative members:
        ``vae``, the beta-VAEs, ``vq_vae``)."""
        self._check_fitted()
        if not self.net_.generative:
            raise ParameterError('a %s autoencoder has no prior to sample from (the VAEs '
                                 'and the VQ-VAE have one)' % self.kind)
        if isinstance(n_samples, bool) or not isinstance(n_samples, Integral) \
                or n_samples < 1:
            raise ParameterError('n_samples must be an int >= 1, got %r' % (n_samples,))
        codes = self.net_.autoencoder.bottleneck.sample_prior(int(n_samples),
                                                  check_random_state(random_state))
        return self.decode(codes)

    def interpolate(self, a, b, steps=10):
        """Decoded points on the line between two samples' encoder outputs, taken
        before the bottleneck (ae_bakeoff): ``(steps, *input_shape)``."""
        if isinstance(steps, bool) or not isinstance(steps, Integral) or steps < 2:
            raise ParameterError('steps must be an int >= 2, got %r' % (steps,))
        a, b = numpy.asarray(a), numpy.asarray(b)
        if a.shape != b.shape:
            raise DataError('a and b must be samples of the same shape, got %s and %s'
                            % (a.shape, b.shape))
        x = self._check_input(numpy.stack([a, b]))
        net, autoencoder = self.net_, self.net_.autoencoder
        with chainer.using_config('train', False), chainer.no_backprop_mode():
            h = autoencoder.encoder(net.preprocess(net.device.send(x.astype(numpy.float32))))
            t = net.xp.linspace(0, 1, int(steps), dtype=h.dtype)[:, None]
            line = h.array[0][None] * (1 - t) + h.array[1][None] * t
            out = net.postprocess(net.decode(autoencoder.bottleneck.embed(line)))
        return chainer.backend.CpuDevice().send(out.array)

    @property
    def cluster_centers_(self):
        self._check_fitted()
        return chainer.backend.CpuDevice().send(self.net_.centres.W.array).copy()

    def summary(self):
        lines = super(Autoencoder, self).summary()
        if getattr(self, 'reconstruction_error_', None) is not None:
            lines.append('reconstruction BCE (summed per sample, training data): %.2f'
                         % self.reconstruction_error_)
        return lines

    def _report(self, out, x, y):
        """``reconstructions.png``, ``samples.png`` (generative members) and ``latent.png``."""
        rng = random_stream(self._seed(), 'figures')
        image = plots.grey_image_shape(self.input_shape_)
        if image is not None:
            shown = x[rng.choice(len(x), min(16, len(x)), replace=False)]
            rows = [shown.reshape(len(shown), -1),
                    self.reconstruct(shown).reshape(len(shown), -1)]
            plots.image_grid_png(rows, ['input', 'reconstruction'], image,
                                 os.path.join(out, 'reconstructions.png'))
            if self.net_.generative:
                plots.image_grid_png([self.sample(16, rng).reshape(16, -1)], ['prior'], image,
                                     os.path.join(out, 'samples.png'))
        codes = self.encode(x)
        how = 'codes' if self.latent_dim <= 2 else 'first two principal components of the codes'
        plots.scatter_png(plots.project_2d(codes), self.labels_ if y is None else y,
                          os.path.join(out, 'latent.png'),
                          '%s autoencoder: %s, by %s' % (self.kind, how,
                                                          'cluster' if y is None else 'label'),
                          colour_name='cluster' if y is None else 'label')

    def _extra_state(self):
        state = super(Autoencoder, self)._extra_state()
        if getattr(self, 'reconstruction_error_', None) is not None:
            state['reconstruction_error'] = self.reconstruction_error_
        return state

    def _restore_state(self, info):
        super(Autoencoder, self)._restore_state(info)
        self.reconstruction_error_ = info.get('reconstruction_error')
