"""A tiny counter-seeded random generator for numba kernels (xorshift64*, seeded by splitmix64).

Each Hogwild thread owns one ``uint64[1]`` state; states are derived from
(seed, iteration, rank, thread) so a run is reproducible without saving RNG state.
"""

import numpy as np
from numba import njit

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_STAR = np.uint64(0x2545F4914F6CDD1D)


@njit(cache=True)
def splitmix64(x):
    """One splitmix64 step: a well-mixed uint64 from any uint64 ``x``."""
    z = np.uint64(x) + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


@njit(cache=True)
def seed_state(seed, stream):
    """A non-zero xorshift state for ``(seed, stream)`` (both int64)."""
    s = splitmix64(splitmix64(np.uint64(seed)) ^ np.uint64(stream))
    if s == np.uint64(0):
        s = _GOLDEN
    return s


@njit(cache=True)
def next_float(state):
    """Uniform float64 in [0, 1); advances ``state`` (uint64[1]) in place."""
    x = state[0]
    x ^= x >> np.uint64(12)
    x ^= x << np.uint64(25)
    x ^= x >> np.uint64(27)
    state[0] = x
    return np.float64((x * _STAR) >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit(cache=True)
def row_stream(x):
    """A fresh non-zero state derived from the state value ``x`` (uint64): the stream a row's
    dropout masks restart from, and, hashed again, the next row's."""
    s = splitmix64(np.uint64(x))
    if s == np.uint64(0):
        s = _GOLDEN
    return s


@njit(cache=True)
def fill_row_streams(out, state):
    """``out[i]`` (uint64[b]) <- one fresh stream per row of a mini-batch, drawn from
    ``state`` (uint64[1], advanced)."""
    for i in range(out.shape[0]):
        next_float(state)
        out[i] = row_stream(state[0])
