"""The decoder's fixed input: seeded uniform noise, defined bit-exactly (formats/ddc.md, "Input noise").

SplitMix64 is used because it is a few lines of integer arithmetic that any
language reproduces exactly; no library's random distribution code is involved.
"""

import numpy as np

_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def splitmix64(seed: int, count: int) -> np.ndarray:
    """The first `count` outputs of SplitMix64 started from `seed`, as uint64."""
    index = np.arange(1, count + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):  # wrap-around modulo 2**64 is the algorithm
        z = np.uint64(seed) + index * _GAMMA
        z = (z ^ (z >> np.uint64(30))) * _MIX1
        z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


def input_noise(seed: int, width: int, length: int) -> np.ndarray:
    """The network input: shape (width, length), float64 uniform in [0, 1), row-major draw order."""
    bits = splitmix64(seed, width * length) >> np.uint64(11)  # top 53 bits
    return (bits.astype(np.float64) * 2.0**-53).reshape(width, length)
