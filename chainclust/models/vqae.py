"""Vector-quantized autoencoder clustering (Shimomura 2021; after VQ-VAE)."""
import chainer
import chainer.functions as F

from chainclust.functions import quantizing_error, vector_quantize
from chainclust.links import Codebook
from chainclust.models.autoencoder import MLPAutoencoder
from chainclust.models.base import ClusteringNet

VARIANTS = ('study', 'vqvae')


class VQAENet(ClusteringNet):
    """Preprocessing, an autoencoder ``d-h1-h2-e`` and a codebook of K codes.

    Args:
        sample_shape (tuple): shape of one raw sample (flattened to d inputs).
        hidden (sequence of int): encoder hidden widths (mirrored by the decoder).
        code_dim (int): the encoder's output size e.
        n_codes (int): K.
        metric (str): ``'euclidean'`` or ``'cosine'``.
        rng (numpy.random.RandomState or None): draws the initial weights.

    Its score is ``distance`` to every code ``(N, K)``; the label is the nearest.
    """

    score = 'distance'

    def __init__(self, sample_shape, hidden, code_dim, n_codes, metric='euclidean',
                 rng=None):
        super(VQAENet, self).__init__(sample_shape)
        with self.init_scope():
            self.autoencoder = MLPAutoencoder(
                (self.n_features,) + tuple(hidden) + (code_dim,),
                initialW=chainer.initializers.LeCunNormal(rng=rng))
            self.codebook = Codebook(n_codes, code_dim, metric)

    def encode(self, h):
        return self.autoencoder.encode(h)

    def assign_embedded(self, e):
        return self.codebook.distances(e)


class VQAELoss(chainer.Chain):
    """The training loss, reporting every term the study recorded.

    ``variant='study'``: ``MSE(X, D(E)) + QuantizingError(SG(E), Q)``, so the
    quantizing error pulls only the codebook and the decoder sees ``E``.
    ``variant='vqvae'``: the decoder sees ``Q`` with a straight-through
    gradient to ``E``; loss ``MSE(X, D(Q)) + QE(SG(E), Q) + beta QE(E, SG(Q))``
    (squared Euclidean errors for the Euclidean metric).

    Reports ``loss``, ``reconstruction`` (``MSE(X, D(E))``), ``quantizing``,
    ``reconstructed_quantized`` (``MSE(X, D(Q))``) and, for VQ-VAE, ``commitment``.
    """

    def __init__(self, net, variant='study', beta=0.25):
        super(VQAELoss, self).__init__()
        if variant not in VARIANTS:
            raise ValueError('variant must be one of %s, got %r' % (VARIANTS, variant))
        with self.init_scope():
            self.net = net
        self.variant, self.beta = variant, float(beta)

    def forward(self, x):
        net = self.net
        xn = net.preprocess(x)
        e = net.encode(xn)
        codebook = net.codebook
        squared = self.variant == 'vqvae' and codebook.metric == 'euclidean'
        q, _ = codebook(e.array)  # gradient into the codebook only
        quantizing = quantizing_error(e.array, q, codebook.metric, squared)
        report = {'quantizing': quantizing}
        if self.variant == 'study':
            reconstruction = F.mean_squared_error(net.autoencoder.decode(e), xn)
            loss = reconstruction + quantizing
            with chainer.no_backprop_mode():
                report['reconstructed_quantized'] = F.mean_squared_error(
                    net.autoencoder.decode(q), xn)
        else:
            q_st, _ = vector_quantize(e, codebook.W.array, codebook.metric,
                                      straight_through=True)  # gradient to E only
            reconstructed_quantized = F.mean_squared_error(net.autoencoder.decode(q_st), xn)
            commitment = quantizing_error(e, q.array, codebook.metric, squared)
            loss = reconstructed_quantized + quantizing + self.beta * commitment
            report['reconstructed_quantized'] = reconstructed_quantized
            report['commitment'] = commitment
            with chainer.no_backprop_mode():
                reconstruction = F.mean_squared_error(net.autoencoder.decode(e), xn)
        report.update({'loss': loss, 'reconstruction': reconstruction})
        chainer.report(report, self)
        return loss
