"""The classical restorations bench/restore.py measures ddcodec's against: each fills the samples flagged in
`unknown` ((frames,) bool) of (frames, C) float64 audio and returns a new array."""

import numpy as np
from scipy import interpolate, signal

from codec import metrics
from codec.restore.autoregressive import janssen

__all__ = ["cubic", "janssen", "linear", "median_declick", "resampled", "zeros"]


def zeros(audio: np.ndarray, unknown: np.ndarray) -> np.ndarray:
    """Doing nothing to a dropout: it stays silent."""
    return np.where(unknown[:, None], 0.0, audio)


def linear(audio: np.ndarray, unknown: np.ndarray) -> np.ndarray:
    """A straight line across each run, channel by channel."""
    out = audio.copy()
    t = np.arange(len(audio))
    for c in range(audio.shape[1]):
        out[unknown, c] = np.interp(t[unknown], t[~unknown], audio[~unknown, c])
    return out


def median_declick(audio: np.ndarray, sample_rate: int, threshold: float = 8.0) -> np.ndarray:
    """A median-filter declicker: samples further than `threshold` robust deviations from a 1 ms running median
    are replaced by that median."""
    width = max(3, round(0.001 * sample_rate) | 1)
    out = audio.copy()
    for c in range(audio.shape[1]):
        smooth = signal.medfilt(audio[:, c], width)
        deviation = audio[:, c] - smooth
        scale = 1.4826 * np.median(np.abs(deviation)) + 1e-12
        flagged = np.abs(deviation) > threshold * scale
        out[flagged, c] = smooth[flagged]
    return out


def cubic(audio: np.ndarray, clipped: np.ndarray) -> np.ndarray:
    """Declipping by a cubic spline through the unclipped samples, channel by channel (clipped: (frames, C))."""
    out = audio.copy()
    t = np.arange(len(audio))
    for c in range(audio.shape[1]):
        keep = ~clipped[:, c]
        out[~keep, c] = interpolate.CubicSpline(t[keep], audio[keep, c])(t[~keep])
    return out


def resampled(audio: np.ndarray, rate: int, new_rate: int) -> np.ndarray:
    """Bandwidth "extension" by plain polyphase resampling: the band above the old Nyquist frequency stays empty."""
    return metrics.resample(audio, rate, new_rate)
