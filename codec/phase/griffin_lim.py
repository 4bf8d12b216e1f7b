"""Fast Griffin-Lim (Perraudin, Balazs & Søndergaard 2013) with one phase shared by the channels (§7 step 3)."""

import math

import numba
import numpy as np

from codec import spectrum

MOMENTUM = 0.99


@numba.njit(cache=True, nogil=True, inline="always")
def _normalize(re: np.ndarray, im: np.ndarray) -> None:
    """In place: (re, im) / |(re, im)| bin by bin, (1, 0) where that is 0."""
    zero, one = re.dtype.type(0.0), re.dtype.type(1.0)
    for b in range(len(re)):
        size = np.sqrt(re[b] * re[b] + im[b] * im[b])
        inverse = one / size if size != zero else zero
        re[b] = re[b] * inverse if size != zero else one
        im[b] = im[b] * inverse


@numba.njit(cache=True, nogil=True, inline="always")
def _scaled(re: np.ndarray, im: np.ndarray, mag: np.ndarray, out: np.ndarray, c: int, t: int) -> None:
    """out[c, t] = mag[c, t] (re + i im), bin by bin (indices, not views: a view a call costs more than the loop)."""
    for b in range(len(re)):
        out[c, t, b] = complex(mag[c, t, b] * re[b], mag[c, t, b] * im[b])


@numba.njit(cache=True, nogil=True)
def _step(
    projected: np.ndarray, previous: np.ndarray, mag: np.ndarray, momentum: float, slack: float, out: np.ndarray
) -> None:
    """out = SHARE(projected + momentum (projected - previous)), all (C, F, B); `out` may be `previous`.

    SHARE(T)[c] = A[c] T_sum / |T_sum| with T_sum = sum_c T[c] (a factor 1 where T_sum is 0), all in the
    arrays' precision (§7.1 allows binary32). A = mag, or with slack > 0 |projected| held within
    [mag e^-slack, mag e^slack]. Real and imaginary parts apart, |z| as sqrt(re² + im²), and the slack test
    outside the bin loops: the loops vectorize (a complex abs() and a test per bin made this step 13x slower)."""
    channels, frames, bins = projected.shape
    real = mag.dtype.type
    low, high, zero = real(math.exp(-slack)), real(math.exp(slack)), real(0.0)
    re = np.empty(bins, mag.dtype)
    im = np.empty(bins, mag.dtype)
    for t in range(frames):
        re[:] = zero
        im[:] = zero
        for c in range(channels):
            for b in range(bins):
                p, q = projected[c, t, b], previous[c, t, b]
                re[b] += (p.real - q.real) * momentum + p.real
                im[b] += (p.imag - q.imag) * momentum + p.imag
        _normalize(re, im)
        for c in range(channels):
            if slack > 0:
                for b in range(bins):
                    p, size = projected[c, t, b], mag[c, t, b]
                    size = min(max(np.sqrt(p.real * p.real + p.imag * p.imag), size * low), size * high)
                    out[c, t, b] = complex(size * re[b], size * im[b])
            else:
                _scaled(re, im, mag, out, c, t)


@numba.njit(cache=True, nogil=True)
def _take_phase(total: np.ndarray, mag: np.ndarray, out: np.ndarray) -> None:
    """SHARE with A = mag, given the channels' sum: out[c] = mag[c] total / |total| (a factor 1 where total is 0),
    total (F, B), mag and out (C, F, B); `out` may be the frames `total` was summed from."""
    channels, frames, bins = mag.shape
    re = np.empty(bins, mag.dtype)
    im = np.empty(bins, mag.dtype)
    for t in range(frames):
        re[:] = total[t].real
        im[:] = total[t].imag
        _normalize(re, im)
        for c in range(channels):
            _scaled(re, im, mag, out, c, t)


def share(z: np.ndarray, mag: np.ndarray) -> np.ndarray:
    """In place: every channel gets its magnitude `mag` and the phase of sum_c z[c] (phase 0 where that is 0).

    A shared phase keeps the channels as coherent as the input's (a phase per channel decorrelated
    near-mono stereo to r = 0.04)."""
    _take_phase(z.sum(axis=0), mag, z)
    return z


def refine(x: np.ndarray, mag: np.ndarray, n_fft: int, iterations: int, workers: int, slack: float = 0.0) -> np.ndarray:
    """`iterations` fast Griffin-Lim steps from the frames `x` (C, F, B; SHARE already applied, overwritten):
    project each channel onto consistent spectrograms, extrapolate, SHARE, each magnitude within `slack`
    natural-log units of `mag` (0: exactly `mag`, the classic algorithm). Works in x's precision,
    in two complex buffers and the projection: a segment's search holds about 6 arrays of its size."""
    if slack == 0 and len(x) > 1 and iterations:
        # STFT(ISTFT(.)) is linear and SHARE reads only the channels' sum, so with A = M the search is the same
        # one-channel search on the summed magnitudes from the summed frames (§7 step 3): one projection an
        # iteration instead of one a channel. Each channel then takes its magnitude and the sum's phase.
        searched = refine(x.sum(axis=0, keepdims=True), mag.sum(axis=0, keepdims=True), n_fft, iterations, workers)
        _take_phase(searched[0], mag, x)
        return x
    previous = np.zeros_like(x)
    momentum = x.real.dtype.type(MOMENTUM)  # the target in x's precision
    for _ in range(iterations):
        projected = spectrum.stft(spectrum.istft(x, n_fft, workers), n_fft, workers)
        _step(projected, previous, mag, momentum, slack, previous)
        x, previous = previous, projected
    return x
