"""Bandwidth extension: audio whose band stops short (a low sample rate, or a low-pass) gets the band above
its cutoff, up to the Nyquist frequency of a new rate.

The known band is kept exactly (resampled to the new rate); the missing one is a copy of the known band's top
octave, repeated upwards frame by frame (so onsets and pitch pulses stay where they are) and tilted by the slope
the file's long-term spectrum has over its top two octaves, no steeper than MAX_TILT and never rising. This is
spectral band replication as AAC+ and Opus' SILK use it, with the side information estimated instead of sent;
LSD against plain resampling: bench/RESULTS.md, "Restoration".
"""

import numpy as np
from scipy import signal

from codec import spectrum
from codec.errors import SettingError
from codec.restore.runs import fft_size

EDGE = 0.95  # the known band ends this far up to its cutoff: resampling filters roll off above
CUTOFF_DB = -60.0  # the cutoff: the highest frequency whose long-term power is within this of the strongest
MAX_TILT = -3.0  # nepers per octave (26 dB)


def cutoff_bin(power: np.ndarray) -> int:
    """The last bin of a long-term power spectrum within CUTOFF_DB of its strongest bin."""
    return int(np.flatnonzero(power >= power.max() * 10 ** (CUTOFF_DB / 10))[-1]) + 1


def extend(audio: np.ndarray, sample_rate: int, new_rate: int) -> np.ndarray:
    """(frames, C) audio at `sample_rate` -> (frames', C) at `new_rate` (at least sample_rate) with the band
    between the input's cutoff and new_rate / 2 synthesized."""
    if new_rate < sample_rate:
        raise SettingError(f"--bandwidth {new_rate} is below the input's rate ({sample_rate} Hz)")
    g = np.gcd(sample_rate, new_rate)
    up = signal.resample_poly(np.asarray(audio, np.float64), new_rate // g, sample_rate // g, axis=0)
    n_fft = fft_size(new_rate)
    hop = n_fft // spectrum.OVERLAP_FACTOR
    length = len(up)
    padded = np.pad(up.T, ((0, 0), (n_fft, n_fft + (-(length + 2 * n_fft)) % hop)))
    z = spectrum.stft(padded, n_fft, 1)  # (C, F, B)
    power = np.mean(np.abs(z) ** 2, axis=(0, 1))
    top = min(cutoff_bin(power), round(sample_rate / new_rate * (n_fft // 2)))
    top = int(top * EDGE)
    bins = z.shape[-1]
    if top >= bins - 1 or top < 8:
        return up.astype(np.asarray(audio).dtype)
    octave = top // 2
    log_power = np.log(power + 1e-30)
    tilt = np.mean(log_power[octave:top]) / 2 - np.mean(log_power[octave // 2 : octave]) / 2  # nepers/octave
    tilt = min(0.0, max(MAX_TILT, tilt))
    target = np.arange(top, bins)
    source = top - octave + (target - top) % octave
    high = np.zeros_like(z)
    high[..., target] = z[..., source] * np.exp(tilt * np.log2(target / source))
    added = spectrum.istft(high, n_fft, 1)[:, n_fft : n_fft + length]
    return (up + added.T).astype(np.asarray(audio).dtype)
