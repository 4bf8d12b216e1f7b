"""Undo clipping: samples at the clipping level are unknown but known to lie beyond it.

Consistent iterative hard thresholding in the STFT (after Kitić, Jacques, Madhu, Hopwood, Spriet & De Vleeschouwer,
"Consistent iterative hard thresholding for signal declipping", ICASSP 2013): keep each frame's k largest
coefficients, resynthesize, then put the unclipped samples back and push every clipped one out to at least the
clipping level on its side; k grows from one coefficient to SPARSITY of them over the iterations. Audio is
sparse in time-frequency and clipping is not, so the few largest coefficients carry the signal's shape across the
clipped peaks (bench/RESULTS.md, "Restoration": it beats cubic interpolation and a Deep Decoder fitted with a
one-sided loss).
"""

import functools

import numpy as np

from codec import spectrum
from codec.restore.runs import Step, around, fft_size, runs

ITERATIONS = 100
SPARSITY = 0.3  # the last iteration keeps this fraction of each frame's bins
MIN_RUN = 2  # a side is clipped where at least one run of this many samples sits at its extreme


def clipped(audio: np.ndarray) -> np.ndarray:
    """(frames, C) bool: samples at a channel's maximum or minimum, for each side where that extreme is held for
    MIN_RUN samples or more somewhere (one peak sample is not clipping)."""
    found = np.zeros(audio.shape, bool)
    for c, x in enumerate(np.asarray(audio).T):
        for side in (x >= x.max(), x <= x.min()):
            if x.max() > x.min() and any(stop - start >= MIN_RUN for start, stop in runs(side)):
                found[:, c] |= side
    return found


def declip(audio: np.ndarray, sample_rate: int, found: np.ndarray, step: Step | None = None) -> np.ndarray:
    """(frames, C) audio with the clipped samples `found` ((frames, C) bool, see `clipped`) re-estimated; `step`
    hears of each window done, channel by channel."""
    if not found.any():
        return audio
    n_fft = fft_size(sample_rate)
    out = np.array(audio, np.float64)
    for c in range(audio.shape[1]):
        if found[:, c].any():
            x = out[:, c : c + 1]
            repair = functools.partial(_thresholded, high=x.max(), low=x.min(), n_fft=n_fft)
            out[:, c : c + 1] = around(x, found[:, c], n_fft, repair, step)
    return out.astype(np.asarray(audio).dtype)


def _thresholded(y: np.ndarray, mask: np.ndarray, high: float, low: float, n_fft: int) -> np.ndarray:
    """One channel's window y (1, n) with its clipped samples (mask) re-estimated."""
    above, below = mask & (y[0] >= high), mask & (y[0] <= low)
    x = y.copy()
    bins = n_fft // 2 + 1
    for i in range(ITERATIONS):
        z = spectrum.stft(x, n_fft, 1)
        keep = max(1, int((i + 1) / ITERATIONS * SPARSITY * bins))
        size = np.abs(z)
        kth = -np.partition(-size, keep - 1, axis=-1)[..., keep - 1 : keep]
        x = spectrum.istft(np.where(size >= kth, z, 0), n_fft, 1)
        x = np.where(mask, x, y)
        x[0, above] = np.maximum(x[0, above], high)
        x[0, below] = np.minimum(x[0, below], low)
    return x
