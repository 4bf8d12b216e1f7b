"""The decoder's seeded randomness, defined bit-exactly: the networks' input (formats/ddc.md §3) and the
starting phases of spectral synthesis (§7).

SplitMix64 is used because it is a few lines of integer arithmetic that any
language reproduces exactly; no library's random distribution code is involved.
"""

import numpy as np

GAMMA = np.uint64(0x9E3779B97F4A7C15)
MIX1 = np.uint64(0xBF58476D1CE4E5B9)
MIX2 = np.uint64(0x94D049BB133111EB)


def splitmix64(seed: int, count: int) -> np.ndarray:
    """The first `count` outputs of SplitMix64 started from `seed`, as uint64."""
    z = np.arange(1, count + 1, dtype=np.uint64)
    shifted = np.empty_like(z)
    with np.errstate(over="ignore"):  # wrap-around modulo 2**64 is the algorithm
        z *= GAMMA
        z += np.uint64(seed)
        for shift, factor in ((30, MIX1), (27, MIX2), (31, None)):  # in place: a third faster than temporaries
            np.right_shift(z, np.uint64(shift), out=shifted)
            z ^= shifted
            if factor is not None:
                z *= factor
    return z


def uniform(seed: int, count: int) -> np.ndarray:
    """`count` float64 draws in [0, 1): the top 53 bits of each SplitMix64 output, exactly."""
    z = splitmix64(seed, count)
    z >>= np.uint64(11)
    u = z.astype(np.float64)
    u *= 2.0**-53  # in place, as in splitmix64
    return u


def input_noise(seed: int, width: int, length: int) -> np.ndarray:
    """The network input: shape (width, length), row-major draw order."""
    return uniform(seed, width * length).reshape(width, length)


def start_seed(seed: int, segment: int) -> int:
    """The stream of segment `segment`'s start draws: seed + 2**32 (segment + 1) mod 2**64, which no file's input
    noise uses."""
    return (seed + ((segment + 1) << 32)) % 2**64


def _start_draws(seed: int, segment: int, shape: tuple[int, ...]) -> np.ndarray:
    """Segment `segment`'s start draws u, row-major in `shape`."""
    return uniform(start_seed(seed, segment), int(np.prod(shape))).reshape(shape)


def start_phase(seed: int, segment: int, shape: tuple[int, ...]) -> np.ndarray:
    """Unit complex numbers exp(2 pi i u) starting segment `segment`'s phase search (versions 2 to 4).

    A random start, unlike phase 0, is no symmetric fixed point that rounding could tip either way.
    """
    return np.exp(2j * np.pi * _start_draws(seed, segment, shape))
