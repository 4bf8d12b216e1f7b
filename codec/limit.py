"""The peak limit of formats/ddc.md §9: decoded audio stays within 1 dB of the original's peak.

Spectral synthesis rebuilds phase, and where the rebuilt phases line up the peaks land far
above the original's (2.25 against 0.73 on a dev clip), so 16-bit output clipped. The encoder
stores the original's peak; the decoder passes every sample up to it unchanged and bends those
above it smoothly (slope 1 at the knee, tanh beyond) towards a ceiling 1 dB higher, and never
past 16-bit full scale. Memoryless, so it streams block by block.
"""

from collections.abc import Iterable, Iterator

import numpy as np

PEAK_SCALE = 32768  # the stored peak is in units of 2**-15, 16-bit PCM steps
MAX_PEAK = 65535  # the field's top: peaks of 2.0 and more are stored as this
HEADROOM = 10 ** (1 / 20)  # 1 dB
FULL_SCALE = 32767 / 32768  # the largest positive 16-bit sample


def peak_code(audio: np.ndarray) -> int:
    """The `peak` field for audio: ceil(max |x| * 32768), at most 65535; 0 (no limit) for silence."""
    return int(min(np.ceil(float(np.max(np.abs(audio), initial=0.0)) * PEAK_SCALE), MAX_PEAK))


def knee_and_ceiling(peak: int) -> tuple[float, float]:
    """(K, L): samples up to K pass unchanged and none goes past L = min(peak * 1 dB, full scale); K = L / 1 dB."""
    ceiling = min(peak / PEAK_SCALE * HEADROOM, FULL_SCALE)
    return ceiling / HEADROOM, ceiling


def limit(block: np.ndarray, peak: int) -> np.ndarray:
    """y for |y| <= K, else sign(y) * (K + (L - K) * tanh((|y| - K) / (L - K))) in float64; float32 out.

    Only the samples over the knee are computed (and the block copied): most blocks have none."""
    knee, ceiling = knee_and_ceiling(peak)
    out = np.asarray(block, np.float32)
    over = np.abs(out) > knee
    if not over.any():
        return out
    y = out[over].astype(np.float64)
    out = out.copy()
    out[over] = np.sign(y) * (knee + (ceiling - knee) * np.tanh((np.abs(y) - knee) / (ceiling - knee)))
    return out


def limited(blocks: Iterable[np.ndarray], peak: int) -> Iterator[np.ndarray]:
    """The blocks through `limit` (peak 0: no limit stored, the blocks as they are)."""
    for block in blocks:
        yield limit(block, peak) if peak else block
