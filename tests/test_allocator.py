"""chainclust._allocator: glibc's malloc thresholds fixed for training, and when not."""
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROBE = r'''
import resource
import numpy
from chainclust._allocator import keep_freed_memory
applied = keep_freed_memory()
assert keep_freed_memory() == applied  # once per process, the same answer
blocks = []
SIZES = [2 * 1024 * 1024] * 3 + [16 * 1024 * 1024]  # 8 MiB each, and one of 64 MiB
for size in SIZES:  # reach the step's peak once
    blocks.append(numpy.ones(size, dtype=numpy.float32))
del blocks[:]
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):  # a "step": the same temporaries again
    blocks = [numpy.ones(size, dtype=numpy.float32) for size in SIZES]
    del blocks
print(applied, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
'''


def _probe(**env):
    environ = {k: v for k, v in os.environ.items()
               if not k.startswith('MALLOC_') and k not in ('GLIBC_TUNABLES', 'CHAINCLUST_MALLOC')}
    environ.update(env, PYTHONPATH=ROOT)
    out = subprocess.run([sys.executable, '-c', PROBE], env=environ, check=True,
                         stdout=subprocess.PIPE, universal_newlines=True).stdout.split()
    return out[0] == 'True', int(out[1])


@pytest.mark.skipif(not sys.platform.startswith('linux'), reason='glibc malloc: Linux only')
def test_fixed_thresholds_reuse_the_memory_of_the_last_step():
    applied, faults = _probe()
    assert applied
    # 20 x 88 MiB allocated and touched again: reused, not new pages (22,528 faults a
    # round; the 64 MiB block, above glibc's largest mmap threshold, included)
    assert faults < 1000


def test_left_alone_when_asked_or_when_the_user_tuned_malloc():
    assert _probe(CHAINCLUST_MALLOC='system')[0] is False
    assert _probe(MALLOC_TRIM_THRESHOLD_='1000000')[0] is False
    assert _probe(GLIBC_TUNABLES='glibc.malloc.trim_threshold=1000000')[0] is False
