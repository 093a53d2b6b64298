"""Chains: networks (the :class:`ClusteringNet` protocol) and the losses that train them."""
from chainclust.models.autoencoder import DenoisingLayerLoss, MLPAutoencoder  # NOQA
from chainclust.models.autoencoder import ReconstructionLoss  # NOQA
from chainclust.models.base import ClusteringNet, image_layout  # NOQA
from chainclust.models.dec import DECLoss, DECNet  # NOQA
from chainclust.models.gmvae import GMVAELoss, GMVAENet  # NOQA
from chainclust.models.vqae import VQAELoss, VQAENet  # NOQA
from chainclust.models.autoencoders import AutoencoderLoss, AutoencoderNet, KINDS  # NOQA
from chainclust.models.autoencoders import StackedLayerLoss  # NOQA
