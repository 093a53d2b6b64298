"""The autoencoder family, built from parts: dense stacks, a bottleneck, a penalty.

After Krokotsch's ae_bakeoff: every member shares one fully connected
architecture (``Linear -> BatchNorm -> ReLU`` hidden layers, a linear code,
a sigmoid reconstruction, widths shrinking geometrically from the input to the
latent) and differs only in

* its **bottleneck** (:class:`IdentityBottleneck`, :class:`SparseBottleneck`,
  :class:`GaussianBottleneck`, :class:`ScalarVQBottleneck`), which also returns
  the member's own penalty;
* its **schedule**: end to end, or greedy layer-wise (stacked);
* its **input corruption** (denoising).

:data:`KINDS` names the members; :class:`FamilyAutoencoder` builds one by name,
:class:`AutoencoderNet` adds k-means centres (the ``autoencoder`` method), and
DEC uses one as its backbone.
"""
import collections
import math

import chainer
import chainer.functions as F
import chainer.links as L
import numpy

from chainclust.functions import quantizing_error, scalar_quantize, sparsity_kl
from chainclust.functions import straight_through
from chainclust.links import BatchNormalizationReLU, Codebook
from chainclust.models.base import ClusteringNet

LOG_SD_BOUND = 10.0  # |log sigma| of the Gaussian bottleneck: exp stays finite in float32


def geometric_widths(n_inputs, n_outputs, n_layers=3):
    """``(d, d // s, d // s^2, ..., e)``: ae_bakeoff's widths, shrinking by an integer ``s``.

    ``s`` is the largest integer with ``s ** n_layers <= d // e`` (the study
    computes it in floating point, which gives 7 instead of 8 for 1024 -> 2).

    >>> geometric_widths(1024, 20)
    (1024, 341, 113, 20)
    >>> geometric_widths(784, 20)
    (784, 261, 87, 20)
    """
    ratio = max(1, int(n_inputs) // int(n_outputs))
    shrink = max(1, int(round(ratio ** (1.0 / n_layers))))
    while shrink ** n_layers > ratio:
        shrink -= 1
    while (shrink + 1) ** n_layers <= ratio:
        shrink += 1
    hidden = tuple(max(1, int(n_inputs) // shrink ** i) for i in range(1, n_layers))
    return (int(n_inputs),) + hidden + (int(n_outputs),)


class DenseStack(chainer.Chain):
    """``Linear(no bias) -> BatchNorm -> ReLU`` layers, then a plain ``Linear``.

    Args:
        widths (sequence of int): ``(in, h1, ..., out)``.
        final_relu (bool): a ReLU after the last layer too (the shallow encoder).
        initialW: weight initializer.

    ``forward(x, start, stop)`` runs layers ``start`` to ``stop - 1`` only
    (greedy layer-wise training uses parts of the stack); ``(N, in) -> (N, out)``.
    """

    def __init__(self, widths, final_relu=False, initialW=None):
        super(DenseStack, self).__init__()
        widths = tuple(int(w) for w in widths)
        if len(widths) < 2 or min(widths) < 1:
            raise ValueError('widths must list at least two positive sizes, got %r'
                             % (widths,))
        self.widths, self.final_relu = widths, bool(final_relu)
        n = len(widths) - 1
        with self.init_scope():
            self.linears = chainer.ChainList(*[
                L.Linear(a, b, nobias=i < n - 1, initialW=initialW)
                for i, (a, b) in enumerate(zip(widths, widths[1:]))])
            self.norms = chainer.ChainList(*[BatchNormalizationReLU(b) for b in widths[1:-1]])

    @property
    def n_layers(self):
        return len(self.widths) - 1

    def layer(self, i):
        """The links of layer ``i`` (its Linear and, if hidden, its BatchNorm)."""
        links = [self.linears[i]]
        if i < self.n_layers - 1:
            links.append(self.norms[i])
        return links

    def forward(self, x, start=0, stop=None):
        stop = self.n_layers if stop is None else stop
        for i in range(start, stop):
            x = self.linears[i](x)
            if i < self.n_layers - 1:
                x = self.norms[i](x)
            elif self.final_relu:
                x = F.relu(x)
        return x


class IdentityBottleneck(chainer.Chain):
    """The code is the encoder's output; no penalty (shallow, deep, stacked, denoising)."""

    generative = False

    def __init__(self, latent_dim):
        super(IdentityBottleneck, self).__init__()
        self.latent_dim = int(latent_dim)

    @property
    def n_inputs(self):
        return self.latent_dim

    def forward(self, h, random_state=None):
        """Encoder output ``(N, n_inputs)`` -> ``(code (N, latent), penalty or None)``."""
        return h, None

    def embed(self, h):
        """The deterministic code ``(N, latent)`` (test mode, export)."""
        return h


class SparseBottleneck(IdentityBottleneck):
    """A sigmoid code with ``beta * sum_j KL(target || mean activation_j)``.

    Args:
        latent_dim (int): code size.
        target (float): desired mean activation ``p`` (ae_bakeoff: 0.25).
        beta (float): weight of the penalty (ae_bakeoff: 1).
    """

    def __init__(self, latent_dim, target=0.25, beta=1.0):
        super(SparseBottleneck, self).__init__(latent_dim)
        self.target, self.beta = float(target), float(beta)

    def forward(self, h, random_state=None):
        code = F.sigmoid(h)
        return code, self.beta * sparsity_kl(code, self.target)

    def embed(self, h):
        return F.sigmoid(h)


class GaussianBottleneck(IdentityBottleneck):
    """``q(z | x) = N(mu, sigma^2)`` from an encoder output ``[mu, log sigma]``.

    Args:
        latent_dim (int): size of ``z``; the encoder outputs twice that.
        beta (float): weight of ``KL(q(z | x) || N(0, I))`` (1: VAE;
            ae_bakeoff's beta-VAEs use 0.5 and 2).

    The penalty is ``beta`` times the KL summed over dimensions, averaged over
    the batch. ``log sigma`` is clipped to ``+-LOG_SD_BOUND``.
    """

    generative = True

    def __init__(self, latent_dim, beta=1.0):
        super(GaussianBottleneck, self).__init__(latent_dim)
        self.beta = float(beta)

    @property
    def n_inputs(self):
        return 2 * self.latent_dim

    def moments(self, h):
        """``(mu, log sigma)``, each ``(N, latent)``."""
        mu, log_sd = F.split_axis(h, 2, axis=1)
        return mu, F.clip(log_sd, -LOG_SD_BOUND, LOG_SD_BOUND)

    def forward(self, h, random_state=None):
        """A reparameterised sample of ``z`` (drawn from ``random_state``) and the KL."""
        mu, log_sd = self.moments(h)
        noise = random_state.standard_normal(mu.shape).astype(mu.dtype)
        z = mu + F.exp(log_sd) * self.xp.asarray(noise)
        kl = F.gaussian_kl_divergence(mu, 2 * log_sd, reduce='sum') / mu.shape[0]
        return z, self.beta * kl

    def embed(self, h):
        return self.moments(h)[0]

    def sample_prior(self, n, random_state):
        """``n`` codes ``(n, latent)`` from ``N(0, I)``."""
        return random_state.standard_normal((n, self.latent_dim)).astype(numpy.float32)


class ScalarVQBottleneck(IdentityBottleneck):
    """Every code element quantised to the nearest of ``n_codes`` learned scalars of its
    dimension (ae_bakeoff's VQ-VAE: 512 per dimension), straight-through to the encoder.

    Args:
        latent_dim (int): code size d.
        n_codes (int): scalars per dimension K.
        commitment (float): weight of the commitment term (ae_bakeoff: 1).

    Penalty: ``|q - sg(e)|^2 + commitment |e - sg(q)|^2``, summed over
    dimensions and averaged over the batch (the first term trains the codebook,
    the second keeps the encoder near it). Codes start uniform in ``+-1/K``.
    """

    generative = True

    def __init__(self, latent_dim, n_codes=512, commitment=1.0, rng=None):
        super(ScalarVQBottleneck, self).__init__(latent_dim)
        self.n_codes, self.commitment = int(n_codes), float(commitment)
        rng = rng if rng is not None else numpy.random.RandomState(0)
        initial = rng.uniform(-1.0 / n_codes, 1.0 / n_codes, (latent_dim, n_codes))
        with self.init_scope():
            self.codebook = chainer.Parameter(initial.astype(numpy.float32))

    def forward(self, h, random_state=None):
        codes, _ = scalar_quantize(h.array, self.codebook)
        codebook_term = quantizing_error(h.array, codes, squared=True)
        commitment_term = quantizing_error(h, codes.array, squared=True)
        return straight_through(h, codes), codebook_term + self.commitment * commitment_term

    def embed(self, h):
        return scalar_quantize(h, self.codebook)[0]

    def sample_prior(self, n, random_state):
        """``n`` codes: an independent uniform choice of code in every dimension."""
        index = random_state.randint(0, self.n_codes, (n, self.latent_dim))
        codebook = chainer.backend.CpuDevice().send(self.codebook.array)
        return numpy.take_along_axis(codebook[None], index[:, :, None], 2)[:, :, 0]


Kind = collections.namedtuple('Kind', 'description bottleneck shallow stacked noise')
Kind.__doc__ = """A member of the family: how its parts are put together.

    description (str): one line for reports and ``--help``.
    bottleneck: ``bottleneck(latent_dim, rng)`` -> a bottleneck link.
    shallow (bool): one layer each side (ReLU encoder, sigmoid decoder).
    stacked (bool): trained greedily, one encoder/decoder pair at a time.
    noise (float): scale of the Gaussian noise added to the input in training
        (clipped to [0, 1]; the target stays clean), 0 for none.
"""


def _identity(latent_dim, rng):
    return IdentityBottleneck(latent_dim)


KINDS = collections.OrderedDict([
    ('shallow', Kind('one layer each side, the baseline', _identity, True, False, 0.0)),
    ('deep', Kind('three layers each side, trained end to end', _identity, False, False, 0.0)),
    ('stacked', Kind('three layers each side, trained greedily layer by layer (earlier '
                     'layers frozen)', _identity, False, True, 0.0)),
    ('sparse', Kind('sigmoid code with a KL sparsity penalty (p = 0.25, beta = 1)',
                    lambda d, rng: SparseBottleneck(d), False, False, 0.0)),
    ('denoising', Kind('trained to remove Gaussian noise of scale 0.5 from its input',
                       _identity, False, False, 0.5)),
    ('vae', Kind('variational: Gaussian code, KL to N(0, I)',
                 lambda d, rng: GaussianBottleneck(d, 1.0), False, False, 0.0)),
    ('beta_vae_strict', Kind('beta-VAE with beta = 2',
                             lambda d, rng: GaussianBottleneck(d, 2.0), False, False, 0.0)),
    ('beta_vae_loose', Kind('beta-VAE with beta = 0.5',
                            lambda d, rng: GaussianBottleneck(d, 0.5), False, False, 0.0)),
    ('vq_vae', Kind('vector-quantised: 512 learned scalars per code dimension, '
                    'straight-through', lambda d, rng: ScalarVQBottleneck(d, rng=rng),
                    False, False, 0.0)),
])


class FamilyAutoencoder(chainer.Chain):
    """A member of the family: encoder, bottleneck and decoder, assembled by name.

    Args:
        n_features (int): d, the flat input size.
        kind (str): a key of :data:`KINDS`.
        latent_dim (int): code size.
        rng (numpy.random.RandomState or None): draws the initial weights.

    Weights start uniform in ``+-1/sqrt(fan_in)``, biases at 0.
    """

    def __init__(self, n_features, kind, latent_dim, rng=None):
        super(FamilyAutoencoder, self).__init__()
        if kind not in KINDS:
            raise ValueError('kind must be one of %s, got %r' % (', '.join(KINDS), kind))
        self.kind = kind
        spec = KINDS[kind]
        initialW = chainer.initializers.LeCunUniform(scale=1 / math.sqrt(3), rng=rng)
        bottleneck = spec.bottleneck(latent_dim, rng)
        d = int(n_features)
        if spec.shallow:
            encoder_widths = (d, bottleneck.n_inputs)
            decoder_widths = (latent_dim, d)
        else:
            encoder_widths = geometric_widths(d, bottleneck.n_inputs)
            decoder_widths = tuple(reversed(geometric_widths(d, latent_dim)))
        with self.init_scope():
            self.encoder = DenseStack(encoder_widths, final_relu=spec.shallow,
                                      initialW=initialW)
            self.bottleneck = bottleneck
            self.decoder = DenseStack(decoder_widths, initialW=initialW)

    @property
    def latent_dim(self):
        return self.bottleneck.latent_dim

    @property
    def generative(self):
        return self.bottleneck.generative

    def encode(self, h):
        """Network-space input ``(N, d)`` -> deterministic code ``(N, latent)``."""
        return self.bottleneck.embed(self.encoder(h))

    def decode(self, z):
        """Codes ``(N, latent)`` -> reconstructions in network space ``(N, d)``, in [0, 1]."""
        return F.sigmoid(self.decoder(z))


class AutoencoderNet(ClusteringNet):
    """An autoencoder of the family and k-means centres in its code space.

    Args:
        sample_shape (tuple): shape of one raw sample (flattened to d inputs).
        kind (str): a key of :data:`KINDS`.
        latent_dim (int): code size.
        n_clusters (int): K, the number of k-means centres.
        rng (numpy.random.RandomState or None): draws the initial weights.

    ``encode`` gives the deterministic code (the Gaussian's mean, the VQ codes,
    the sparse sigmoid); the score is the ``distance`` ``(N, K)`` to every
    centre, the label the nearest.
    """

    score = 'distance'

    def __init__(self, sample_shape, kind, latent_dim, n_clusters, rng=None):
        super(AutoencoderNet, self).__init__(sample_shape)
        with self.init_scope():
            self.autoencoder = FamilyAutoencoder(self.n_features, kind, latent_dim, rng)
            self.centres = Codebook(n_clusters, latent_dim)

    @property
    def kind(self):
        return self.autoencoder.kind

    @property
    def latent_dim(self):
        return self.autoencoder.latent_dim

    @property
    def generative(self):
        return self.autoencoder.generative

    def encode(self, h):
        return self.autoencoder.encode(h)

    def assign_embedded(self, z):
        return self.centres.distances(z)

    def decode(self, z):
        return self.autoencoder.decode(z)


def per_sample_binary_cross_entropy(logits, target):
    """``(N,)``: each sample's ``sum_features BCE(sigmoid(logits), target)`` (the anomaly
    score), from logits (``softplus(l) - t l``: no log 0 however confident the decoder is)."""
    return F.sum(F.softplus(logits) - target * logits, axis=1)


def binary_cross_entropy(logits, target):
    """:func:`per_sample_binary_cross_entropy` averaged over the batch (the training loss)."""
    return F.mean(per_sample_binary_cross_entropy(logits, target))


class AutoencoderLoss(chainer.Chain):
    """Reconstruction BCE plus the bottleneck's penalty, end to end.

    Args:
        net (ClusteringNet): a network with ``preprocess`` and a
            :class:`FamilyAutoencoder` as ``autoencoder`` (the family's own
            :class:`AutoencoderNet`, or DEC's network with a family backbone).
        noise (float): denoising corruption scale (0: none).
        random_state (numpy.random.RandomState): draws the corruption and the
            Gaussian bottleneck's samples; register it with the phase.

    Reports ``loss``, ``reconstruction`` and ``penalty``.
    """

    def __init__(self, net, noise, random_state):
        super(AutoencoderLoss, self).__init__()
        with self.init_scope():
            self.net = net
        self.noise, self.random_state = float(noise), random_state

    def corrupt(self, x):
        if not self.noise or not chainer.config.train:
            return x
        noise = self.random_state.standard_normal(x.shape).astype(x.dtype) * self.noise
        return F.clip(x + self.net.xp.asarray(noise), 0.0, 1.0)

    def forward(self, x):
        net, autoencoder = self.net, self.net.autoencoder
        target = net.preprocess(x)
        code, penalty = autoencoder.bottleneck(autoencoder.encoder(self.corrupt(target)),
                                               self.random_state)
        reconstruction = binary_cross_entropy(autoencoder.decoder(code), target)
        loss = reconstruction if penalty is None else reconstruction + penalty
        chainer.report({'loss': loss, 'reconstruction': reconstruction,
                        'penalty': 0.0 if penalty is None else penalty}, self)
        return loss


class StackedLayerLoss(chainer.Chain):
    """Greedy stage ``i`` of a stacked autoencoder: encoder layers ``0..i`` and their
    mirror decoder layers reconstruct the input; only layer ``i`` and its mirror
    train, the layers trained before run frozen (test-mode batch norm).

    Args:
        net (ClusteringNet): as for :class:`AutoencoderLoss` (identity bottleneck).
        stage (int): ``i``, from 0 (outermost pair) to ``n_layers - 1``.
    """

    def __init__(self, net, stage):
        super(StackedLayerLoss, self).__init__()
        encoder, decoder = net.autoencoder.encoder, net.autoencoder.decoder
        n = encoder.n_layers
        if not 0 <= stage < n or decoder.n_layers != n:
            raise ValueError('stage must be in 0..%d, got %r' % (n - 1, stage))
        with self.init_scope():  # the optimizer sees only the pair being trained
            self.encoder_layer = chainer.ChainList(*encoder.layer(stage))
            self.decoder_layer = chainer.ChainList(*decoder.layer(n - 1 - stage))
        self._net, self.stage = net, stage

    def forward(self, x):
        net, i = self._net, self.stage
        encoder, decoder = net.autoencoder.encoder, net.autoencoder.decoder
        n = encoder.n_layers
        target = net.preprocess(x)
        with chainer.using_config('train', False), chainer.no_backprop_mode():
            h = encoder(target, 0, i)
        h = encoder(h, i, i + 1)
        h = decoder(h, n - 1 - i, n - i)
        with chainer.using_config('train', False):
            logits = decoder(h, n - i, n)
        loss = binary_cross_entropy(logits, target)
        chainer.report({'loss': loss, 'reconstruction': loss}, self)
        return loss


__all__ = ['AutoencoderLoss', 'AutoencoderNet', 'DenseStack', 'FamilyAutoencoder',
           'GaussianBottleneck',
           'IdentityBottleneck', 'KINDS', 'ScalarVQBottleneck', 'SparseBottleneck',
           'StackedLayerLoss', 'binary_cross_entropy', 'geometric_widths',
           'per_sample_binary_cross_entropy']
