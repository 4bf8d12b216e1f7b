"""Fast Griffin-Lim (Perraudin, Balazs & Søndergaard 2013) with one phase shared by the channels (§7 step 3)."""

import numba
import numpy as np

from codec import spectrum

MOMENTUM = 0.99


@numba.njit(cache=True, nogil=True)
def _share(target: np.ndarray, mag: np.ndarray, out: np.ndarray) -> None:
    """out[c] = mag[c] * s / |s| with s = sum_c target[c] (a factor 1 where s is 0), all (C, F, B)."""
    channels, frames, bins = target.shape
    for t in range(frames):
        for b in range(bins):
            total = target[0, t, b]
            for c in range(1, channels):
                total += target[c, t, b]
            size = abs(total)
            if size != 0:
                total /= size
            else:
                total = 1
            for c in range(channels):
                out[c, t, b] = mag[c, t, b] * total


def share(z: np.ndarray, mag: np.ndarray) -> np.ndarray:
    """In place: every channel gets its magnitude `mag` and the phase of sum_c z[c] (phase 0 where that is 0).

    A shared phase keeps the channels as coherent as the input's (a phase per channel decorrelated
    near-mono stereo to r = 0.04)."""
    _share(z, mag, z)
    return z


def refine(x: np.ndarray, mag: np.ndarray, n_fft: int, iterations: int, workers: int) -> np.ndarray:
    """`iterations` fast Griffin-Lim steps from the frames `x` (C, F, B; SHARE already applied, overwritten):
    project each channel onto consistent spectrograms, extrapolate, SHARE. Works in x's precision,
    in three complex buffers: a segment's search holds about 7 arrays of its size."""
    previous = np.zeros_like(x)
    momentum = x.real.dtype.type(MOMENTUM)
    for _ in range(iterations):
        projected = spectrum.stft(spectrum.istft(x, n_fft, workers), n_fft, workers)
        # target = projected + momentum * (projected - previous), built in previous's buffer
        target = np.subtract(projected, previous, out=previous)
        target *= momentum
        target += projected
        x, previous = share(target, mag), projected
    return x
