"""Chains: networks and the losses that train them."""
from chainclust.models.dec import DECLoss, DECNet  # NOQA
from chainclust.models.sdae import DenoisingLayerLoss, ReconstructionLoss  # NOQA
from chainclust.models.sdae import StackedAutoencoder  # NOQA
from chainclust.models.vqae import VQAELoss, VQAENet  # NOQA
