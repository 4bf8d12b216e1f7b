"""The spectral synthesis of formats/ddc.md §7: STFT framing and log-magnitudes (phase: codec/phase/).

numpy and scipy.fft, in the precision of the input (float64 or float32), shared by the encoder (which
fits log-magnitudes) and the decoder (which turns them back into samples). Frames use a sin² (periodic Hann)
window of N samples at hop N/4, whose squares sum to exactly 3/2 at every
sample, so ISTFT(STFT(x)) == x where four frames overlap.
"""

import functools
import math

import numpy as np
from scipy import fft

ALL_CORES = -1  # scipy.fft's `workers` for every core. Each transform is computed alone: bits never depend on it.

OVERLAP_FACTOR = 4  # hop = N / 4
WINDOW_POWER_SUM = 1.5  # sum of window² over the 4 frames covering any sample
# log-magnitude = ln(|X| + N * LOG_FLOOR), a floor 2**-13 below a full-scale sine's peak (N / 4). Measured
# on speech at 24 kbps (bench/RESULTS.md, ablation): raising it from N * 2**-19 to N * 2**-15 took PESQ-WB
# from 2.50 to 3.01 at about the same LSD (0.830 -> 0.841): the fit stops spending weights on the noise floor.
LOG_FLOOR = 2.0**-15


@functools.cache
def window(n_fft: int, dtype: type = np.float64) -> np.ndarray:
    """The analysis window, read-only (cached: Griffin-Lim asks for it twice an iteration)."""
    w = (np.sin(np.pi * (np.arange(n_fft) + 0.5) / n_fft) ** 2).astype(dtype)
    w.flags.writeable = False
    return w


@functools.cache
def _synthesis_window(n_fft: int, dtype: type) -> np.ndarray:
    w = (window(n_fft) / WINDOW_POWER_SUM).astype(dtype)
    w.flags.writeable = False
    return w


def frame_count(frames: int, n_fft: int) -> int:
    """STFT frames that cover `frames` samples fully: the signal is preceded by N - N/4 zeros."""
    hop = n_fft // OVERLAP_FACTOR
    return (frames + n_fft - hop - 1) // hop + 1


def stft(x: np.ndarray, n_fft: int, workers: int = ALL_CORES) -> np.ndarray:
    """(..., (F + 3) * hop) samples -> (..., F, N/2 + 1) complex frames; frame f starts at f * hop."""
    hop = n_fft // OVERLAP_FACTOR
    frames = np.lib.stride_tricks.sliding_window_view(x, n_fft, axis=-1)[..., ::hop, :]
    return fft.rfft(frames * window(n_fft, x.dtype.type), axis=-1, workers=workers)


def istft(spectra: np.ndarray, n_fft: int, workers: int = ALL_CORES) -> np.ndarray:
    """(..., F, N/2 + 1) complex frames -> (..., (F + 3) * hop) samples by windowed overlap-add."""
    hop = n_fft // OVERLAP_FACTOR
    frames = fft.irfft(spectra, n=n_fft, axis=-1, workers=workers)
    frames *= _synthesis_window(n_fft, frames.dtype.type)
    count = frames.shape[-2]
    out = np.zeros((*frames.shape[:-2], count + OVERLAP_FACTOR - 1, hop), frames.dtype)
    for j in range(OVERLAP_FACTOR):
        out[..., j : j + count, :] += frames[..., j * hop : (j + 1) * hop]
    return out.reshape(*out.shape[:-2], -1)


def analysis(audio: np.ndarray, n_fft: int, workers: int = ALL_CORES) -> np.ndarray:
    """(frames, C) audio -> its (C, F, N/2 + 1) complex STFT frames as the encoder frames it: the audio preceded by
    N - N/4 zeros and zero-padded at the end, F = frame_count(frames, n_fft)."""
    return stft(padded(audio, n_fft), n_fft, workers)


def padded(audio: np.ndarray, n_fft: int) -> np.ndarray:
    """(frames, C) audio -> (C, (F + 3) * hop) float64, as analysis frames it: N - N/4 zeros, the audio, zeros."""
    frames = len(audio)
    hop = n_fft // OVERLAP_FACTOR
    out = np.zeros((audio.shape[1], (frame_count(frames, n_fft) + OVERLAP_FACTOR - 1) * hop))
    out[:, n_fft - hop : n_fft - hop + frames] = audio.T
    return out


def log_magnitude(frames: np.ndarray, n_fft: int) -> np.ndarray:
    """ln(|X| + N * LOG_FLOOR) of complex frames X: what the networks fit (inverse: magnitude)."""
    return np.log(np.abs(frames) + n_fft * LOG_FLOOR)


def analyze(audio: np.ndarray, n_fft: int, workers: int = ALL_CORES) -> np.ndarray:
    """(frames, C) audio -> (F, C * (N/2 + 1)) log-magnitudes, channel-major rows, F = frame_count(frames, n_fft)."""
    log = log_magnitude(analysis(audio, n_fft, workers), n_fft)  # (C, F, B)
    return log.transpose(1, 0, 2).reshape(log.shape[1], -1)


def magnitude(log_magnitude: np.ndarray, n_fft: int, dtype: type | None = None) -> np.ndarray:
    """Inverse of log_magnitude, bounded: exp(min(y, ln N)) - N * LOG_FLOOR, at least 0, computed in `dtype`
    (default: y's).

    One new array, the rest in place: each temporary of a segment's size cost more than the exp (a stereo
    music segment: 4.3 -> 1.2 ms). Python floats keep a float32 computation in float32."""
    mag = np.minimum(log_magnitude, math.log(n_fft), dtype=dtype or log_magnitude.dtype)
    np.exp(mag, out=mag)
    mag -= n_fft * LOG_FLOOR
    return np.maximum(mag, 0.0, out=mag)
