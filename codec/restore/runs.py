"""Runs of True in a mask, the damaged stretches codec/restore works on; the windows of audio around them, and the
STFT length the repairs use."""

import math
from collections.abc import Callable

import numpy as np

from codec import spectrum

Step = Callable[[int, int, int], None]  # progress: (blocks done, blocks in all, samples reached)

WINDOW_S = 0.032  # an STFT's length for restoration: a power of two near 32 ms (512 samples at 16 kHz)


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) of each run of True in a 1-D bool array."""
    edge = np.zeros(1, np.int8)  # int8 throughout: a Python 0 would promote the whole mask to int64 (8x its size)
    edges = np.flatnonzero(np.diff(np.concatenate((edge, mask.view(np.int8), edge))))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


def fft_size(sample_rate: int, seconds: float = WINDOW_S) -> int:
    """The power of two nearest `seconds` of samples (at least 64)."""
    return 2 ** max(6, round(math.log2(seconds * sample_rate)))


MAX_WINDOW_FFTS = 256  # a window holds at most this many STFT lengths of damage (about 10 s): memory follows it


def around(
    audio: np.ndarray,
    damaged: np.ndarray,
    n_fft: int,
    repair: Callable[[np.ndarray, np.ndarray], np.ndarray],
    step: Step | None = None,
) -> np.ndarray:
    """(frames, C) audio with each cluster of damaged samples replaced by repair(x, mask), where x (C, n) is the
    cluster's window: the damage with two STFT lengths (n_fft) of audio either side (damage less than four apart
    shares a window, up to MAX_WINDOW_FFTS of it), n a multiple of the hop, zeros beyond the ends. Only the
    cluster's own damaged samples are written back (a window also holds the next one's first runs, as context
    whose repair is the next window's), so the cost follows the damage, not the file, however dense it is. `step`
    hears of each window done."""
    hop = n_fft // spectrum.OVERLAP_FACTOR
    pad, margin = n_fft, 2 * n_fft  # the pad puts every sample under four whole frames
    mask = np.pad(damaged, pad)
    padded = np.pad(np.asarray(audio, np.float64), ((pad, pad), (0, 0)))
    clusters: list[list[int]] = []  # [first damaged sample, end of the last run]
    for start, stop in runs(mask):
        if (
            clusters
            and start - margin <= clusters[-1][1] + margin
            and stop - clusters[-1][0] <= MAX_WINDOW_FFTS * n_fft
        ):
            clusters[-1][1] = stop
        else:
            clusters.append([start, stop])
    for done, (first, last) in enumerate(clusters, 1):
        start, stop = max(0, first - margin), min(len(mask), last + margin)
        length = max(4, -(-(stop - start) // hop)) * hop  # whole hops
        start = max(0, min(start, len(mask) - length))
        stop = start + min(length, (len(mask) - start) // hop * hop)
        repaired = repair(padded[start:stop].T, mask[start:stop]).T
        own = np.zeros(stop - start, bool)
        own[first - start : last - start] = mask[first:last]
        padded[start:stop][own] = repaired[own]
        if step is not None:
            step(done, len(clusters), last - pad)
    return padded[pad : pad + len(audio)].astype(np.asarray(audio).dtype)
