"""Deep Embedded Clustering (Xie, Girshick, Farhadi 2016): network and loss."""
import math

import chainer

from chainclust.functions import dec_kl_divergence
from chainclust.links import StudentTClustering
from chainclust.models.autoencoder import MLPAutoencoder
from chainclust.models.autoencoders import FamilyAutoencoder
from chainclust.models.base import ClusteringNet

SDAE = 'sdae'  # the paper's stacked denoising autoencoder; else a member of the family


class DECNet(ClusteringNet):
    """Preprocessing, the autoencoder whose encoder embeds, and the clustering layer.

    Args:
        sample_shape (tuple): shape of one raw sample (flattened to d inputs).
        hidden (sequence of int): hidden widths of the encoder.
        embedding_dim (int): embedding size.
        n_clusters (int): K.
        alpha (float): Student's t degrees of freedom.
        rng (numpy.random.RandomState or None): draws the initial weights.
        backbone (str): ``'sdae'``, the paper's autoencoder ``d-hidden-embedding``
            (ReLU, linear code); or a member of the autoencoder family
            (:data:`chainclust.models.autoencoders.KINDS`, ``hidden`` unused)
            whose deterministic code is the embedding.

    The autoencoder's weights start uniform in ``+-1/sqrt(fan_in)`` (the
    initialisation of the Keras DEC and DEC-DA code by Guo et al.), biases at 0.
    Its score is ``proba``, Student's t soft assignments ``q`` ``(N, K)``.
    """

    score = 'proba'

    def __init__(self, sample_shape, hidden, embedding_dim, n_clusters, alpha=1.0, rng=None,
                 backbone=SDAE):
        super(DECNet, self).__init__(sample_shape)
        with self.init_scope():
            if backbone == SDAE:
                self.autoencoder = MLPAutoencoder(
                    (self.n_features,) + tuple(hidden) + (embedding_dim,),
                    initialW=chainer.initializers.LeCunUniform(scale=1 / math.sqrt(3),
                                                               rng=rng))
            else:
                self.autoencoder = FamilyAutoencoder(self.n_features, backbone, embedding_dim,
                                                     rng)
            self.clustering = StudentTClustering(n_clusters, embedding_dim, alpha)

    def encode(self, h):
        return self.autoencoder.encode(h)

    def assign_embedded(self, z):
        return self.clustering(z)


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
