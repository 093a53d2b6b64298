"""Elementwise work split over threads: every chunk once, errors raised, thread settings."""
import threading

import numpy
import pytest

from chainclust import parallel


@pytest.fixture
def threads():
    yield parallel.set_threads
    parallel.set_threads(None)


@pytest.mark.parametrize('n, size, grain', [(1, 1000, 10), (2, 1000, 10), (3, 1001, 10),
                                            (4, 30, 10), (2, 5, 10), (2, 0, 10)])
def test_every_element_is_covered_once(threads, n, size, grain):
    threads(n)
    hits = numpy.zeros(size, dtype=int)
    calls = []

    def work(start, stop):
        calls.append(threading.get_ident())
        hits[start:stop] += 1

    parallel.for_chunks(size, work, grain=grain)
    assert (hits == 1).all()
    assert len(calls) == max(1, min(n, size // grain))
    assert calls.count(threading.get_ident()) == 1  # the caller runs one chunk itself


def test_chunks_start_aligned(threads):
    threads(3)
    starts = []
    parallel.for_chunks(1000, lambda start, stop: starts.append(start), grain=10)
    assert sorted(starts) == [0, 320, 656]  # (1000 i / 3) rounded down to 16 elements


def test_an_error_in_a_worker_reaches_the_caller_after_all_chunks(threads):
    threads(2)
    done = []

    def work(start, stop):
        if start > 0:
            raise ValueError('chunk %d failed' % start)
        done.append(start)

    with pytest.raises(ValueError, match='chunk 496 failed'):
        parallel.for_chunks(1000, work, grain=10)
    assert done == [0]


@pytest.mark.parametrize('env, expected', [({'CHAINCLUST_NUM_THREADS': '3'}, 3),
                                           ({'OMP_NUM_THREADS': '2,1'}, 2),
                                           ({'OPENBLAS_NUM_THREADS': '1'}, 1),
                                           ({'CHAINCLUST_NUM_THREADS': 'x',
                                             'OMP_NUM_THREADS': '5'}, 5)])
def test_threads_follow_the_environment(monkeypatch, threads, env, expected):
    for name in parallel._ENV:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    threads(None)
    assert parallel.threads() == expected


def test_bad_thread_counts_are_refused(threads):
    for bad in (0, -1, 1.5):
        with pytest.raises(ValueError, match='threads must be an integer >= 1'):
            parallel.set_threads(bad)
