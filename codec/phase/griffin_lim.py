"""Fast Griffin-Lim (Perraudin, Balazs & Søndergaard 2013) with one phase shared by the channels (§7 step 3)."""

import math

import numba
import numpy as np

from codec import spectrum

MOMENTUM = 0.99


@numba.njit(cache=True, nogil=True)
def _step(
    projected: np.ndarray, previous: np.ndarray, mag: np.ndarray, momentum: float, slack: float, out: np.ndarray
) -> None:
    """out = SHARE(projected + momentum (projected - previous)), all (C, F, B); `out` may be `previous`.

    SHARE(T)[c] = A[c] T_sum / |T_sum| with T_sum = sum_c T[c] (a factor 1 where T_sum is 0); T in the
    arrays' precision, T_sum and |T_sum| in double. A = mag, or with slack > 0 |projected| held within
    [mag e^-slack, mag e^slack] (in the arrays' precision). Bin loops innermost: they vectorize."""
    channels, frames, bins = projected.shape
    low, high = mag.dtype.type(math.exp(-slack)), mag.dtype.type(math.exp(slack))
    re = np.empty(bins)
    im = np.empty(bins)
    for t in range(frames):
        re[:] = 0.0
        im[:] = 0.0
        for c in range(channels):
            for b in range(bins):
                p = projected[c, t, b]
                target = (p - previous[c, t, b]) * momentum + p
                re[b] += target.real
                im[b] += target.imag
        for b in range(bins):
            size = math.sqrt(re[b] * re[b] + im[b] * im[b])
            if size != 0:
                re[b] /= size
                im[b] /= size
            else:
                re[b], im[b] = 1.0, 0.0
        for c in range(channels):
            for b in range(bins):
                size = mag[c, t, b]
                if slack > 0:
                    size = min(max(abs(projected[c, t, b]), size * low), size * high)
                out[c, t, b] = size * complex(re[b], im[b])


def share(z: np.ndarray, mag: np.ndarray) -> np.ndarray:
    """In place: every channel gets its magnitude `mag` and the phase of sum_c z[c] (phase 0 where that is 0).

    A shared phase keeps the channels as coherent as the input's (a phase per channel decorrelated
    near-mono stereo to r = 0.04)."""
    _step(z, z, mag, 0.0, 0.0, z)  # with no momentum the target is z itself
    return z


def refine(x: np.ndarray, mag: np.ndarray, n_fft: int, iterations: int, workers: int, slack: float = 0.0) -> np.ndarray:
    """`iterations` fast Griffin-Lim steps from the frames `x` (C, F, B; SHARE already applied, overwritten):
    project each channel onto consistent spectrograms, extrapolate, SHARE, each magnitude within `slack`
    natural-log units of `mag` (0: exactly `mag`, the classic algorithm). Works in x's precision,
    in two complex buffers and the projection: a segment's search holds about 6 arrays of its size."""
    previous = np.zeros_like(x)
    momentum = x.real.dtype.type(MOMENTUM)  # the target in x's precision
    for _ in range(iterations):
        projected = spectrum.stft(spectrum.istft(x, n_fft, workers), n_fft, workers)
        _step(projected, previous, mag, momentum, slack, previous)
        x, previous = previous, projected
    return x
