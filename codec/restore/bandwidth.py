"""Bandwidth extension: audio whose band stops short (a low sample rate, or a low-pass) gets the band above
its cutoff, up to the Nyquist frequency of a new rate.

The known band is kept exactly (resampled to the new rate); the missing one is a copy of the known band's top
octave, repeated upwards frame by frame (so onsets and pitch pulses stay where they are) and tilted by the slope
the file's long-term spectrum has over its top two octaves, no steeper than MAX_TILT and never rising. This is
spectral band replication as AAC+ and Opus' SILK use it, with the side information estimated instead of sent;
LSD against plain resampling: bench/RESULTS.md, "Restoration".
"""

import numpy as np

from codec import spectrum
from codec.errors import SettingError
from codec.restore.runs import fft_size

EDGE = 0.95  # the known band ends this far up to its cutoff: resampling filters roll off above
CUTOFF_DB = -60.0  # the cutoff: the highest frequency whose long-term power is within this of the strongest
MAX_TILT = -3.0  # nepers per octave (26 dB)
CHUNK_FRAMES = 4096  # STFT frames at once: about 100 MB of frames for stereo at 48 kHz


def cutoff_bin(power: np.ndarray) -> int:
    """The last bin of a long-term power spectrum within CUTOFF_DB of its strongest bin."""
    return int(np.flatnonzero(power >= power.max() * 10 ** (CUTOFF_DB / 10))[-1]) + 1


def extend(audio: np.ndarray, sample_rate: int, new_rate: int) -> np.ndarray:
    """(frames, C) audio at `sample_rate` -> (frames', C) at `new_rate` (at least sample_rate) with the band
    between the input's cutoff and new_rate / 2 synthesized. Two passes over the STFT, CHUNK_FRAMES frames at a
    time (the first for the long-term spectrum): memory follows the chunk, not the file."""
    from scipy import signal  # here, not at the top: `import codec` should not pay its 0.6 s

    if new_rate < sample_rate:
        raise SettingError(f"--bandwidth {new_rate} is below the input's rate ({sample_rate} Hz)")
    g = np.gcd(sample_rate, new_rate)
    up = signal.resample_poly(np.asarray(audio, np.float64), new_rate // g, sample_rate // g, axis=0)
    n_fft = fft_size(new_rate)
    hop = n_fft // spectrum.OVERLAP_FACTOR
    length = len(up)
    padded = np.pad(up.T, ((0, 0), (n_fft, n_fft + (-(length + 2 * n_fft)) % hop)))
    count = (padded.shape[1] - n_fft) // hop + 1
    chunks = [(f, min(count, f + CHUNK_FRAMES)) for f in range(0, count, CHUNK_FRAMES)]

    def frames(first: int, stop: int) -> np.ndarray:  # (C, stop - first, B)
        return spectrum.stft(padded[:, first * hop : (stop - 1) * hop + n_fft], n_fft, 1)

    power = sum(np.sum(np.abs(frames(*chunk)) ** 2, axis=(0, 1)) for chunk in chunks) / (padded.shape[0] * count)
    top = min(cutoff_bin(power), round(sample_rate / new_rate * (n_fft // 2)))
    top = int(top * EDGE)
    bins = n_fft // 2 + 1
    if top >= bins - 1 or top < 8:
        return up.astype(np.asarray(audio).dtype)
    octave = top // 2
    log_power = np.log(power + 1e-30)
    tilt = np.mean(log_power[octave:top]) / 2 - np.mean(log_power[octave // 2 : octave]) / 2  # nepers/octave
    tilt = min(0.0, max(MAX_TILT, tilt))
    target = np.arange(top, bins)
    source = top - octave + (target - top) % octave
    gain = np.exp(tilt * np.log2(target / source))
    added = np.zeros_like(padded)
    for first, stop in chunks:
        z = frames(first, stop)
        high = np.zeros_like(z)
        high[..., target] = z[..., source] * gain
        added[:, first * hop : first * hop + (stop - first + 3) * hop] += spectrum.istft(high, n_fft, 1)
    return (up + added[:, n_fft : n_fft + length].T).astype(np.asarray(audio).dtype)
