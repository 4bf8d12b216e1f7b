"""Signal in -> segments: the grid of formats/ddc.md, padded, masked and standardized.

The signal is audio samples (waveform synthesis) or log-magnitude frames
(spectral synthesis), as (positions, rows).
"""

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from codec.layout import segment_count
from codec.modes.ladder import Shape

SILENCE_RMS = 1e-7  # below this a segment is coded as exact silence (about -140 dBFS)


@dataclass
class SegmentBatch:
    """Segments [start, start + len(scale)) ready to fit."""

    start: int
    target: np.ndarray  # (n, rows, L) float32, unit RMS over the valid positions
    mask: np.ndarray  # (n, L) float32, 1 on real positions, 0 on padding past the end
    scale: np.ndarray  # (n,) RMS that was divided out; 0 for silent (constant) segments
    offset: np.ndarray  # (n,) mean that was subtracted first; 0 unless centred

    def fold_gain(self, weights: list[np.ndarray], silent_bias: float = 0.0) -> list[np.ndarray]:
        """Fitted weights (bitstream order) with the standardization undone inside the networks.

        The output layer is linear, so scale * (W x + b) + offset = (scale W) x + (scale b + offset)
        exactly: the file needs no gain field, and each tensor's own quantizer step absorbs the scale.
        A silent segment (scale 0) also gets `silent_bias` added to its output bias.
        """
        *hidden, out_mix, out_bias = weights
        out_mix = out_mix * self.scale[:, None, None].astype(np.float32)
        out_bias = out_bias * self.scale[:, None].astype(np.float32) + self.offset[:, None].astype(np.float32)
        if silent_bias:
            out_bias[self.scale == 0] += np.float32(silent_bias)
        return [*hidden, out_mix, out_bias]


def iter_batches(signal: np.ndarray, shape: Shape, max_work: int, center: bool = False) -> Iterator[SegmentBatch]:
    """Cut (positions, rows) signal into segments, `max_work // ((width + rows) * L)` at a time (at least one).

    center: also subtract each segment's mean (log-magnitudes sit far from 0; audio does not).
    """
    frames, channels = signal.shape
    length, hop = shape.segment_length, shape.segment_length - shape.overlap
    total = segment_count(frames, length, shape.overlap)
    per_batch = max(1, max_work // ((shape.width + channels) * length))
    for start in range(0, total, per_batch):
        n = min(per_batch, total - start)
        target = np.zeros((n, channels, length), np.float32)
        mask = np.zeros((n, length), np.float32)
        for i in range(n):
            begin = (start + i) * hop
            piece = signal[begin : begin + length]
            target[i, :, : len(piece)] = piece.T
            mask[i, : len(piece)] = 1.0
        valid = channels * mask.sum(axis=1)
        offset = target.astype(np.float64).sum(axis=(1, 2)) / valid if center else np.zeros(n)
        target -= offset[:, None, None].astype(np.float32)
        target *= mask[:, None, :]
        rms = np.sqrt((target.astype(np.float64) ** 2).sum(axis=(1, 2)) / valid)
        scale = np.where(rms > SILENCE_RMS, rms, 0.0)
        target /= np.where(scale > 0, scale, 1.0)[:, None, None].astype(np.float32)
        yield SegmentBatch(start, target, mask, scale, offset)
