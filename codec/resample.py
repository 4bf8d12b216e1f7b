"""Integer-ratio rate conversion for files coded at a lower rate than they play at (formats/ddc.md §8).

At low bitrates the encoder codes a narrower band, as Opus and MP3 do: it low-passes and
decimates the audio by the header's `rate_divisor` D, and the decoder interpolates back by D
with the filter below, which the format fixes. numpy and scipy, float64.
"""

import functools
from collections.abc import Iterable, Iterator

import numpy as np

ZERO_CROSSINGS = 32  # of the sinc on each side: the filter spans 64 coded samples
PASSBAND = 0.94  # cutoff as a fraction of the coded rate's Nyquist frequency: flat (0.5 dB) to 0.9 of it
KAISER_BETA = 8.0  # 60 dB down by 1.01 times the coded Nyquist frequency (D = 3)


@functools.cache
def interpolation_filter(divisor: int) -> np.ndarray:
    """h[n] = PASSBAND * sinc(PASSBAND * (n - Z*D) / D) * kaiser(2*Z*D + 1, beta)[n], n = 0 .. 2*Z*D.

    Its gain at 0 Hz is about D, as interpolation needs (D - 1 of every D inputs are zeros)."""
    n = np.arange(2 * ZERO_CROSSINGS * divisor + 1) - ZERO_CROSSINGS * divisor
    h = PASSBAND * np.sinc(PASSBAND * n / divisor) * np.kaiser(len(n), KAISER_BETA)
    h.flags.writeable = False
    return h


def decimate(audio: np.ndarray, divisor: int) -> np.ndarray:
    """(frames, C) -> (ceil(frames / D), C) float32: the same low-pass (at gain 1), then every D-th sample."""
    h = interpolation_filter(divisor) / divisor
    delay = ZERO_CROSSINGS * divisor
    from scipy import signal  # here, not at the top: its import takes 0.6 s, and few files need it

    filtered = signal.oaconvolve(np.asarray(audio, np.float64), h[:, None], axes=0)[delay : delay + len(audio)]
    return filtered[::divisor].astype(np.float32)


def energy_above_band(audio: np.ndarray, divisor: int, edge: float = PASSBAND, block: int = 4096) -> float:
    """The fraction of the audio's energy (less DC) above `edge` x the Nyquist frequency of the rate decimating by
    `divisor` leaves: at PASSBAND, what coding that narrower band drops. Welch's estimate: Hann windows of `block`
    samples overlapping by half (every sample weighs alike), read 256 windows at a time, so memory stays small."""
    hop, frames = block // 2, len(audio)
    mean = np.mean(audio, axis=0, dtype=np.float64)
    window = np.hanning(block + 1)[:-1]  # periodic: shifted by half a block, the windows sum to 1
    power = np.zeros(block // 2 + 1)
    for first in range(-block, frames, 256 * hop):  # windows start from a block before the audio to its end
        span = np.zeros((255 * hop + block, audio.shape[1]))  # exactly the 256 windows starting at `first`
        begin, end = max(first, 0), min(first + len(span), frames)
        if begin < end:
            span[begin - first : end - first] = audio[begin:end] - mean
        windows = np.lib.stride_tricks.sliding_window_view(span, block, axis=0)[::hop]
        power += np.square(np.abs(np.fft.rfft(windows * window, axis=2))).sum(axis=(0, 1))
    total = power.sum()
    above = np.fft.rfftfreq(block) > edge / (2 * divisor)  # cycles a sample
    return float(power[above].sum() / total) if total > 0 else 0.0


def interpolate(blocks: Iterable[np.ndarray], divisor: int, frames: int) -> Iterator[np.ndarray]:
    """Coded-rate (n, C) blocks -> output-rate float32 blocks, `frames` samples in all (formats/ddc.md §8).

    y[n] = sum_m x[m] h[n + Z*D - m*D] over the coded samples x (zero outside them). Streaming:
    each block is filtered with the last 2Z coded samples before it, so memory stays a block's."""
    h = interpolation_filter(divisor)
    history = 2 * ZERO_CROSSINGS  # coded samples that still reach the next block's outputs
    delay = ZERO_CROSSINGS * divisor
    tail: np.ndarray | None = None  # the last `history` coded samples, zeros before the start
    done, left = 0, frames  # outputs made (before the delay is dropped), outputs still owed
    for block in _padded(blocks, history):
        if tail is None:
            tail = np.zeros((history, block.shape[1]))
        x = np.concatenate([tail, np.asarray(block, np.float64)])
        # upsampled(x)[j] is y-before-delay at (start of x) * D + j; the first history * D are already out
        full = _upsampled(x, h, divisor)[history * divisor : len(x) * divisor]
        tail = x[-history:]
        drop = min(max(delay - done, 0), len(full))
        done += len(full)
        out = full[drop : drop + left]
        left -= len(out)
        if len(out):
            yield out.astype(np.float32)


def _upsampled(x: np.ndarray, h: np.ndarray, divisor: int) -> np.ndarray:
    """(n, C) -> ((n - 1) D + len(h), C): x with D - 1 zeros after each sample, convolved with h, computed as
    D convolutions of x with h's phases h[k::D] (no product with an inserted zero): 1.6x scipy's upfirdn,
    and no import of scipy.signal (0.6 s) for a decode."""
    out = np.zeros(((len(x) - 1) * divisor + len(h), x.shape[1]))
    for k in range(divisor):
        for c in range(x.shape[1]):
            phase = np.convolve(x[:, c], h[k::divisor])
            out[k : k + divisor * len(phase) : divisor, c] = phase
    return out


def _padded(blocks: Iterable[np.ndarray], count: int) -> Iterator[np.ndarray]:
    """The blocks, then `count` zero samples: the outputs after the last coded sample need them."""
    channels = 1
    for block in blocks:
        channels = block.shape[1]
        yield block
    yield np.zeros((count, channels))
