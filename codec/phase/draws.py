"""The phase-gradient start's angles (formats/ddc.md §7): 2 pi u for codec/noise.py's SplitMix64 draws u, compiled.

A spectral segment needs one draw a cell, half a million for 10 s of 48 kHz stereo. numpy makes them in six
passes over uint64 arrays (5 ms a segment, a tenth of a stereo decode); this loop makes each in registers (0.3 ms).
The arithmetic is noise.splitmix64's and noise.uniform's, operation for operation, so the angles are
bit-identical (tests/test_noise.py); noise.py stays the numpy definition, which `import codec` can load without
numba.
"""

import numba
import numpy as np

from codec import noise

_GAMMA, _MIX1, _MIX2 = noise.GAMMA, noise.MIX1, noise.MIX2
_SHIFTS = (np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11))  # uint64 shifts: an int64 one makes floats
_TWO_PI = 2.0 * np.pi


@numba.njit(cache=True, nogil=True)
def _angles(seed: np.uint64, count: int) -> np.ndarray:
    out = np.empty(count)
    s30, s27, s31, s11 = _SHIFTS
    for i in range(count):
        z = np.uint64(i + 1) * _GAMMA + seed
        z = (z ^ (z >> s30)) * _MIX1
        z = (z ^ (z >> s27)) * _MIX2
        z ^= z >> s31
        out[i] = float(z >> s11) * 2.0**-53 * _TWO_PI  # noise.uniform's u, then 2 pi u
    return out


def start_angle(seed: int, segment: int, shape: tuple[int, ...]) -> np.ndarray:
    """Segment `segment`'s start angles 2 pi u (version 5 on: where phase-gradient integration does not reach),
    row-major in `shape`, u from noise.uniform(noise.start_seed(seed, segment), ...)."""
    return _angles(np.uint64(noise.start_seed(seed, segment)), int(np.prod(shape))).reshape(shape)
