"""Stacked denoising autoencoder (Vincent et al. 2010) as DEC pretrains it."""
import chainer
import chainer.functions as F

from chainclust.links import MLP


class StackedAutoencoder(chainer.Chain):
    """A symmetric autoencoder ``d-h1-...-hn-e`` with a linear embedding.

    Args:
        sizes (sequence of int): ``(d, h1, ..., e)``; the decoder mirrors them.
        initialW: initializer of every weight matrix (Chainer's default when ``None``).

    Encoder activations are ReLU except on the embedding; decoder activations
    are ReLU except on the reconstruction (DEC, section 3.2).
    """

    def __init__(self, sizes, initialW=None):
        super(StackedAutoencoder, self).__init__()
        with self.init_scope():
            self.encoder = MLP(sizes, initialW=initialW)
            self.decoder = MLP(tuple(reversed(sizes)), initialW=initialW)
        self.sizes = tuple(int(s) for s in sizes)

    @property
    def n_layers(self):
        return len(self.sizes) - 1

    def encode(self, x, stop=None):
        """``(N, d)`` -> the output of encoder layer ``stop`` (the embedding by default)."""
        return self.encoder(x, 0, stop)

    def decode(self, z):
        """``(N, e)`` -> reconstruction ``(N, d)``."""
        return self.decoder(z)

    def forward(self, x):
        return self.decode(self.encode(x))

    def layer_pair(self, i):
        """Encoder layer ``i`` and its mirror decoder layer (greedy pretraining)."""
        return self.encoder[i], self.decoder[self.n_layers - 1 - i]


class DenoisingLayerLoss(chainer.Chain):
    """Greedy training of one encoder/decoder pair of a :class:`StackedAutoencoder`.

    ``y = g2(W2 dropout(g1(W1 dropout(x))))`` and the loss is the mean squared
    error to the clean input; ``g1`` is linear for the embedding layer and ``g2``
    linear for the data layer, ReLU otherwise.

    Args:
        sae (StackedAutoencoder): the model whose pair ``i`` is trained.
        i (int): the layer index.
        dropout (float): corruption ratio of input and hidden units.
    """

    def __init__(self, sae, i, dropout=0.2):
        super(DenoisingLayerLoss, self).__init__()
        encoder, decoder = sae.layer_pair(i)
        with self.init_scope():
            self.encoder, self.decoder = encoder, decoder
        self.inner = i < sae.n_layers - 1
        self.outer = i > 0
        self.dropout = dropout

    def forward(self, x):
        h = self.encoder(F.dropout(x, self.dropout))
        if self.inner:
            h = F.relu(h)
        y = self.decoder(F.dropout(h, self.dropout))
        if self.outer:
            y = F.relu(y)
        loss = F.mean_squared_error(y, x)
        chainer.report({'loss': loss}, self)
        return loss


class ReconstructionLoss(chainer.Chain):
    """End-to-end fine-tuning loss: mean squared reconstruction error."""

    def __init__(self, sae):
        super(ReconstructionLoss, self).__init__()
        with self.init_scope():
            self.sae = sae

    def forward(self, x):
        loss = F.mean_squared_error(self.sae(x), x)
        chainer.report({'loss': loss}, self)
        return loss
