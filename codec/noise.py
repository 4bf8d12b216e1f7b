"""The decoder's seeded randomness, defined bit-exactly: the networks' input (formats/ddc.md §3) and the
starting phases of spectral synthesis (§7).

SplitMix64 is used because it is a few lines of integer arithmetic that any
language reproduces exactly; no library's random distribution code is involved.
"""

import numba
import numpy as np

_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


@numba.njit(cache=True, nogil=True)
def splitmix64_at(seed: np.uint64, index: int) -> np.uint64:
    """Output number `index` (from 1) of SplitMix64 started from `seed`: its state after `index` steps, mixed.
    uint64 arithmetic wraps modulo 2**64, which is the algorithm."""
    z = seed + np.uint64(index) * _GAMMA
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


@numba.njit(cache=True, nogil=True)
def _splitmix64(seed: np.uint64, count: int) -> np.ndarray:
    out = np.empty(count, np.uint64)
    for i in range(count):
        out[i] = splitmix64_at(seed, i + 1)
    return out


def splitmix64(seed: int, count: int) -> np.ndarray:
    """The first `count` outputs of SplitMix64 started from `seed`, as uint64."""
    return _splitmix64(np.uint64(seed), count)


def uniform(seed: int, count: int) -> np.ndarray:
    """`count` float64 draws in [0, 1): the top 53 bits of each SplitMix64 output, exactly."""
    return (splitmix64(seed, count) >> np.uint64(11)).astype(np.float64) * 2.0**-53


def input_noise(seed: int, width: int, length: int) -> np.ndarray:
    """The network input: shape (width, length), row-major draw order."""
    return uniform(seed, width * length).reshape(width, length)


def start_stream(seed: int, segment: int) -> np.uint64:
    """The SplitMix64 seed of segment `segment`'s start phases: seed + 2**32 (segment + 1), which no file's
    input noise uses."""
    return np.uint64((seed + ((segment + 1) << 32)) % 2**64)


def start_phase(seed: int, segment: int, shape: tuple[int, ...]) -> np.ndarray:
    """Unit complex numbers exp(2 pi i u) starting segment `segment`'s phase search, row-major in `shape`.

    A random start, unlike phase 0, is no symmetric fixed point that rounding could tip either way.
    """
    u = uniform(int(start_stream(seed, segment)), int(np.prod(shape)))
    return np.exp(2j * np.pi * u).reshape(shape)
