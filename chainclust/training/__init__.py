"""Training: phases and runs, DEC's target distribution, stop triggers, augmentation."""
from chainclust.training.augment import ImageAugmenter  # NOQA
from chainclust.training.phase import Phase  # NOQA
from chainclust.training.random_states import random_stream, RandomStateSnapshot  # NOQA
from chainclust.training.run import TrainingRun  # NOQA
from chainclust.training.target_distribution import target_distribution  # NOQA
from chainclust.training.target_distribution import TargetDistributionUpdate  # NOQA
from chainclust.training.triggers import EpochIntervalTrigger, LabelChangeTrigger  # NOQA
from chainclust.training.vq_monitor import TensorBoardReport, VQMonitor  # NOQA
