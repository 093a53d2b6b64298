"""Deep Embedded Clustering (Xie, Girshick, Farhadi 2016): network and loss."""
import math

import chainer

from chainclust.functions import dec_kl_divergence
from chainclust.links import Normalization, StudentTClustering
from chainclust.models.sdae import StackedAutoencoder


class DECNet(chainer.Chain):
    """Preprocessing, the SDAE whose encoder embeds, and the clustering layer.

    Args:
        n_features (int): flattened input size d.
        hidden (sequence of int): hidden widths of the encoder.
        embedding_dim (int): embedding size.
        n_clusters (int): K.
        alpha (float): Student's t degrees of freedom.

    The autoencoder's weights start uniform in ``+-1/sqrt(fan_in)`` (the
    initialisation of the Keras DEC and DEC-DA code by Guo et al.), biases at 0.
    """

    def __init__(self, n_features, hidden, embedding_dim, n_clusters, alpha=1.0):
        super(DECNet, self).__init__()
        with self.init_scope():
            self.normalize = Normalization(n_features)
            self.sae = StackedAutoencoder(
                (n_features,) + tuple(hidden) + (embedding_dim,),
                initialW=chainer.initializers.LeCunUniform(scale=1 / math.sqrt(3)))
            self.clustering = StudentTClustering(n_clusters, embedding_dim, alpha)

    def embed(self, x):
        """Raw samples ``(N, ...)`` float32 -> embeddings ``(N, embedding_dim)``."""
        return self.sae.encode(self.normalize(x))

    def forward(self, x):
        """Raw samples ``(N, ...)`` -> soft assignments ``q`` ``(N, K)``."""
        return self.clustering(self.embed(x))


class DECLoss(chainer.Chain):
    """``KL(P || Q)`` for a batch of samples and their target rows ``p``."""

    def __init__(self, net):
        super(DECLoss, self).__init__()
        with self.init_scope():
            self.net = net

    def forward(self, x, p):
        clustering = self.net.clustering
        loss = dec_kl_divergence(self.net.embed(x), clustering.mu, p, clustering.alpha)
        chainer.report({'loss': loss}, self)
        return loss
