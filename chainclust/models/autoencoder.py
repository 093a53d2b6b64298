"""The fully connected autoencoder that DEC and VQ-AE share, and its losses."""
import chainer
import chainer.functions as F

from chainclust.links import MLP


class MLPAutoencoder(chainer.Chain):
    """A mirrored fully connected autoencoder ``d-h1-...-hn-e`` with a linear code.

    Args:
        sizes (sequence of int): ``(d, h1, ..., e)``; the decoder mirrors them.
        initialW: initializer of every weight matrix (give it an ``rng`` for
            reproducible weights; Chainer's default when ``None``).

    Encoder activations are ReLU except on the code; decoder activations are
    ReLU except on the reconstruction (DEC, section 3.2). It can be trained end
    to end (:class:`ReconstructionLoss`) or greedily, one encoder/decoder pair at
    a time, as a stacked denoising autoencoder (:class:`DenoisingLayerLoss`).
    """

    def __init__(self, sizes, initialW=None):
        super(MLPAutoencoder, self).__init__()
        with self.init_scope():
            self.encoder = MLP(sizes, initialW=initialW)
            self.decoder = MLP(tuple(reversed(sizes)), initialW=initialW)
        self.sizes = tuple(int(s) for s in sizes)

    @property
    def n_layers(self):
        return len(self.sizes) - 1

    def encode(self, x, stop=None):
        """``(N, d)`` -> the output of encoder layer ``stop`` (the code by default)."""
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
    """Greedy training of one encoder/decoder pair of an :class:`MLPAutoencoder`.

    ``y = g2(W2 dropout(g1(W1 dropout(x))))`` and the loss is the mean squared
    error to the clean input; ``g1`` is linear for the code layer and ``g2``
    linear for the data layer, ReLU otherwise.

    Args:
        autoencoder (MLPAutoencoder): the model whose pair ``i`` is trained.
        i (int): the layer index.
        dropout (float): corruption ratio of input and hidden units.
        random_state (numpy.random.RandomState): draws the dropout masks (never
            NumPy's global generator); register it with the phase
            (``Phase(random_states=...)``) so that its state travels in snapshots.
    """

    def __init__(self, autoencoder, i, dropout, random_state):
        super(DenoisingLayerLoss, self).__init__()
        encoder, decoder = autoencoder.layer_pair(i)
        with self.init_scope():
            self.encoder, self.decoder = encoder, decoder
        self.inner = i < autoencoder.n_layers - 1
        self.outer = i > 0
        self.dropout = dropout
        self.random_state = random_state

    def _corrupt(self, h):
        if self.dropout == 0 or not chainer.config.train:
            return h
        keep = self.random_state.uniform(size=h.shape) >= self.dropout
        mask = (keep / (1.0 - self.dropout)).astype(h.dtype)
        return F.dropout(h, self.dropout, mask=self.xp.asarray(mask))

    def forward(self, x):
        h = self.encoder(self._corrupt(x))
        if self.inner:
            h = F.relu(h)
        y = self.decoder(self._corrupt(h))
        if self.outer:
            y = F.relu(y)
        loss = F.mean_squared_error(y, x)
        chainer.report({'loss': loss}, self)
        return loss


class ReconstructionLoss(chainer.Chain):
    """End-to-end training loss: mean squared reconstruction error."""

    def __init__(self, autoencoder):
        super(ReconstructionLoss, self).__init__()
        with self.init_scope():
            self.autoencoder = autoencoder

    def forward(self, x):
        loss = F.mean_squared_error(self.autoencoder(x), x)
        chainer.report({'loss': loss}, self)
        return loss
