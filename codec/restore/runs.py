"""Runs of True in a mask, the damaged stretches codec/restore works on; the windows of audio around them, and the
STFT length the repairs use."""

import math
from collections.abc import Callable

import numpy as np

from codec import spectrum

WINDOW_S = 0.032  # an STFT's length for restoration: a power of two near 32 ms (512 samples at 16 kHz)


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) of each run of True in a 1-D bool array."""
    edges = np.flatnonzero(np.diff(np.concatenate(([0], mask.view(np.int8), [0]))))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


def fft_size(sample_rate: int, seconds: float = WINDOW_S) -> int:
    """The power of two nearest `seconds` of samples (at least 64)."""
    return 2 ** max(6, round(math.log2(seconds * sample_rate)))


def around(
    audio: np.ndarray, damaged: np.ndarray, n_fft: int, repair: Callable[[np.ndarray, np.ndarray], np.ndarray]
) -> np.ndarray:
    """(frames, C) audio with each cluster of damaged samples replaced by repair(x, mask), where x (C, n) is the
    cluster's window: the damage with two STFT lengths (n_fft) of audio either side (damage less than four apart
    shares a window), n a multiple of the hop, zeros beyond the ends. The cost follows the damage, not the file."""
    hop = n_fft // spectrum.OVERLAP_FACTOR
    pad, margin = n_fft, 2 * n_fft  # the pad puts every sample under four whole frames
    mask = np.pad(damaged, pad)
    padded = np.pad(np.asarray(audio, np.float64), ((pad, pad), (0, 0)))
    windows: list[list[int]] = []
    for start, stop in runs(mask):
        if windows and start - margin <= windows[-1][1]:
            windows[-1][1] = stop + margin
        else:
            windows.append([start - margin, stop + margin])
    for start, stop in windows:
        start, stop = max(0, start), min(len(mask), stop)
        length = max(4, -(-(stop - start) // hop)) * hop  # whole hops
        start = max(0, min(start, len(mask) - length))
        stop = start + min(length, (len(mask) - start) // hop * hop)
        padded[start:stop] = repair(padded[start:stop].T, mask[start:stop]).T
    return padded[pad : pad + len(audio)].astype(np.asarray(audio).dtype)
