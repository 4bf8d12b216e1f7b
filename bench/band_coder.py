"""A low band coded as a waveform by a plain transform coder, for the phase oracle ladder (issue 35).

The ladder found that the original's low band, held through the decoder's iterations, carries the missing phase, and
that Opus, coding the band alone at 8 kHz, pays no faster than the magnitudes do (bench/RESULTS.md, "Low band and
harmonic rungs"). Opus spends its bits on a 4 kHz band whatever the split; this coder spends them on the split's band
alone, critically sampled (an STFT cell a coefficient would be 4 times redundant):

- the band is cut at `split` Hz and brought to 2 x split samples a second;
- an MDCT of FRAME_S frames (sine window, half-overlapped: `split` x FRAME_S x 2 coefficients a frame);
- each frame's scale (the RMS of its coefficients) is sent in steps of SCALE_STEP octaves, as the difference from
  the frame before (the first as it is);
- each coefficient is rounded to a multiple of `step` x the frame's sent scale (uniform, mid-tread);
- the rate is what an adaptive entropy coder would reach: the empirical entropy of the scales' differences and of the
  coefficients' codes (by a quarter of the band, the codes' context), pooled over the clip; the tables themselves are
  not counted.

`step` sets the rate (about 6 dB of SNR a halving). With `mid`, stereo's band is the channels' mean, coded once: the
decoder's stereo search runs on the channels' sum, so the sum's phase is all a held phase can use. Nothing here is in
the format: it prices a waveform band.
"""

from dataclasses import dataclass

import numpy as np

from codec.metrics import resample

FRAME_S = 0.02  # an MDCT frame's hop
SCALE_STEP = 0.25  # octaves (1.5 dB)
SILENT = 2.0**-30  # a frame's scale under this is sent as silence (the lowest scale, whose codes are all 0)
FIRST_SCALE_BITS = 8  # the first frame's scale, sent as it is
CONTEXTS = 4  # the coefficients' codes are counted apart in this many parts of the band


@dataclass(frozen=True)
class CodedBand:
    split: int  # Hz
    step: float
    mid: bool  # the channels' mean coded once, on every channel (the stereo search takes the channels' sum's phase)
    audio: np.ndarray  # (frames, C) the band as decoded, at the clip's rate
    kbps: float  # the entropy-coded rate
    snr: float  # dB, against the original's band at 2 x split


def mdct_basis(n: int) -> np.ndarray:
    """(n, 2n) the windowed MDCT of a 2n-sample frame into n coefficients; its transpose, scaled by 2 / n, is the
    inverse whose half-overlapped sum rebuilds the signal (the sine window meets Princen-Bradley)."""
    t = np.arange(2 * n) + 0.5
    window = np.sin(np.pi * t / (2 * n))
    return window * np.cos(np.pi / n * (t[None, :] + n / 2) * (np.arange(n)[:, None] + 0.5))


def mdct(x: np.ndarray, n: int) -> np.ndarray:
    """(samples,) -> (frames, n) coefficients, the signal padded by n zeros each side and to whole frames."""
    padded = np.pad(x, (n, n + (-len(x)) % n))
    frames = np.lib.stride_tricks.sliding_window_view(padded, 2 * n)[::n]
    return frames @ mdct_basis(n).T


def imdct(c: np.ndarray, n: int, length: int) -> np.ndarray:
    """mdct()'s inverse: (frames, n) -> (length,)."""
    pieces = c @ mdct_basis(n) * (2 / n)
    out = np.zeros((len(c) + 1) * n)
    for i, piece in enumerate(pieces):
        out[i * n : i * n + 2 * n] += piece
    return out[n : n + length]


def entropy_bits(values: np.ndarray) -> float:
    """Bits to send `values` (integers) at their empirical entropy."""
    if not values.size:
        return 0.0
    _, counts = np.unique(values, return_counts=True)
    p = counts / counts.sum()
    return float(-(counts * np.log2(p)).sum())


def code_channel(x: np.ndarray, n: int, step: float) -> tuple[np.ndarray, float]:
    """One channel at 2 x split: (decoded, bits)."""
    c = mdct(x, n)
    rms = np.sqrt(np.mean(c**2, axis=1))
    lowest = round(np.log2(SILENT) / SCALE_STEP)  # the code of a silent frame
    scale_codes = np.maximum(np.round(np.log2(np.maximum(rms, SILENT)) / SCALE_STEP), lowest).astype(int)
    sounding = scale_codes > lowest
    delta = step * 2.0 ** (scale_codes * SCALE_STEP)[:, None]
    codes = np.where(sounding[:, None], np.round(c / delta), 0).astype(int)
    bits = FIRST_SCALE_BITS + entropy_bits(np.diff(scale_codes))
    for part in np.array_split(np.arange(n), CONTEXTS):
        bits += entropy_bits(codes[sounding][:, part])
    return imdct(codes * delta, n, len(x)), bits


def code_band(audio: np.ndarray, rate: int, split: int, step: float, mid: bool = False) -> CodedBand:
    """(frames, C) audio's band up to `split` Hz coded at `step` (a coefficient's step over its frame's scale), each
    channel apart or, with `mid`, their mean once."""
    narrow_rate = 2 * split
    source = audio.mean(axis=1, keepdims=True) if mid else audio
    narrow = resample(source.astype(np.float64), rate, narrow_rate)
    n = round(FRAME_S * narrow_rate)
    decoded, bits = zip(*(code_channel(channel, n, step) for channel in narrow.T), strict=True)
    out = np.stack(decoded, axis=1)
    power, error = np.sum(narrow**2), np.sum((narrow - out) ** 2)
    snr = 10 * np.log10(power / error) if error > 0 else np.inf
    wide = resample(out, narrow_rate, rate)[: len(audio)]
    wide = np.pad(wide, ((0, len(audio) - len(wide)), (0, 0)))
    wide = np.repeat(wide, audio.shape[1] // wide.shape[1], axis=1)  # the mean on every channel
    return CodedBand(split, step, mid, wide.astype(np.float32), sum(bits) / (len(audio) / rate) / 1000, float(snr))
