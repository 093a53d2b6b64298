"""Named random streams and the extension that carries their state in snapshots.

Every source of randomness in training (shuffling, dropout masks, augmentation,
codebook draws) is its own :class:`numpy.random.RandomState`, derived from the
run's seed and a name. NumPy's global generator is never seeded or used, and
streams do not depend on the order in which they are created, so a phase that
is skipped (already done) does not shift the randomness of the next one.
"""
import zlib

import chainer
from chainer.training import extension
import numpy


def random_stream(seed, name):
    """A RandomState for stream ``name`` of a run seeded with ``seed`` (an int >= 0)."""
    sequence = numpy.random.SeedSequence(int(seed), spawn_key=(zlib.crc32(name.encode()),))
    return numpy.random.RandomState(numpy.random.MT19937(sequence))


def _never(trainer):
    return False


class RandomStateSnapshot(extension.Extension):
    """Serializes the state of named RandomStates with the trainer.

    It does nothing while training; in a snapshot it stores each generator's
    full Mersenne Twister state, and on resume it restores it, so that a
    resumed phase draws the same shuffles, masks and augmentations as an
    uninterrupted one.

    Args:
        random_states (dict): name -> :class:`numpy.random.RandomState`.
    """

    trigger = staticmethod(_never)
    priority = extension.PRIORITY_READER

    def __init__(self, random_states):
        self.random_states = dict(random_states)

    def __call__(self, trainer):
        pass

    def serialize(self, serializer):
        loading = isinstance(serializer, chainer.serializer.Deserializer)
        for name in sorted(self.random_states):
            state = self.random_states[name]
            kind, keys, pos, has_gauss, cached = state.get_state(legacy=True)
            child = serializer[name]
            keys = child('keys', numpy.array(keys, dtype=numpy.uint32))
            rest = child('position', numpy.array([pos, has_gauss, cached], dtype=numpy.float64))
            if loading:
                state.set_state((kind, numpy.asarray(keys, dtype=numpy.uint32), int(rest[0]),
                                 int(rest[1]), float(rest[2])))
