"""Elementwise CPU work split over threads (NumPy releases the GIL in its loops).

NumPy runs every elementwise operation on one core, while OpenBLAS already
spreads the matrix products over all of them; on a small machine the
single-threaded passes (Adam's update, bias and activation passes) are what
keeps a training step behind frameworks that thread them. :func:`for_chunks`
splits such a pass into contiguous chunks, one per thread, and runs them at
once; every element is computed by the same operations as in one pass, so the
results are the same bit for bit whatever the number of threads.

The number of threads is ``CHAINCLUST_NUM_THREADS`` if set, else
``OMP_NUM_THREADS`` or ``OPENBLAS_NUM_THREADS`` (the BLAS's own setting, so one
variable limits both), else the cores this process may run on.
"""
import concurrent.futures
import os
import threading

GRAIN = 32768  # fewest elements per chunk: below this, handing work to a thread costs more
_ENV = ('CHAINCLUST_NUM_THREADS', 'OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS')
_lock = threading.Lock()
_pool = None  # (pid, size, executor); a forked child makes its own
_threads = None


def threads():
    """Threads elementwise passes use (at least 1)."""
    global _threads
    if _threads is None:
        _threads = _configured_threads()
    return _threads


def set_threads(n):
    """Use ``n`` threads from now on (``None``: back to the environment's setting)."""
    global _threads
    if n is not None and (int(n) != n or n < 1):
        raise ValueError('threads must be an integer >= 1, got %r' % (n,))
    _threads = None if n is None else int(n)


def _configured_threads():
    for name in _ENV:
        value = os.environ.get(name, '').strip()
        if value:
            try:
                number = int(value.split(',')[0])
            except ValueError:
                continue
            if number >= 1:
                return number
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def _executor(workers):
    global _pool
    with _lock:
        if _pool is None or _pool[0] != os.getpid() or _pool[1] < workers:
            _pool = (os.getpid(), workers, concurrent.futures.ThreadPoolExecutor(
                max_workers=workers, thread_name_prefix='chainclust-elementwise'))
        return _pool[2]


def for_chunks(size, work, grain=GRAIN):
    """Run ``work(start, stop)`` over ``[0, size)`` in contiguous chunks on several threads.

    At most :func:`threads` chunks of at least ``grain`` elements (one when
    ``size`` is small); the calling thread runs the first chunk itself. The
    chunks must be independent. An exception in any chunk is raised here,
    after every chunk has finished.
    """
    n = min(threads(), size // grain) if grain > 0 else threads()
    if n <= 1:
        work(0, size)
        return
    bounds = [(size * i // n) // 16 * 16 for i in range(n)] + [size]  # 64-byte aligned starts
    pool = _executor(n - 1)
    futures = [pool.submit(work, bounds[i], bounds[i + 1]) for i in range(1, n)]
    try:
        work(bounds[0], bounds[1])
    finally:
        errors = [f.exception() for f in futures]
    for error in errors:
        if error is not None:
            raise error


__all__ = ['for_chunks', 'set_threads', 'threads']
