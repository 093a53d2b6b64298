"""Links that own Parameters: preprocessing, encoders, cluster centres, codebooks."""
from chainclust.links.batch_norm_relu import BatchNormalizationReLU  # NOQA
from chainclust.links.codebook import Codebook  # NOQA
from chainclust.links.mlp import BatchNormMLP, MLP  # NOQA
from chainclust.links.normalization import Normalization  # NOQA
from chainclust.links.student_t_clustering import StudentTClustering  # NOQA
