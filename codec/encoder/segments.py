"""Audio in -> segments: the grid of formats/ddc.md, padded, masked and scaled to unit RMS."""

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from codec.encoder.ladder import Shape
from codec.layout import segment_count

SILENCE_RMS = 1e-7  # below this a segment is coded as exact silence (about -140 dBFS)


@dataclass
class SegmentBatch:
    """Segments [start, start + len(scale)) ready to fit."""

    start: int
    target: np.ndarray  # (n, C, L) float32, unit RMS over the valid samples
    mask: np.ndarray  # (n, L) float32, 1 on real samples, 0 on padding past the end
    scale: np.ndarray  # (n,) RMS that was divided out; 0 for silent segments


def iter_batches(audio: np.ndarray, shape: Shape, max_work: int) -> Iterator[SegmentBatch]:
    """Cut (frames, C) audio into segments, `max_work // (width * L)` at a time (at least one)."""
    frames, channels = audio.shape
    length, hop = shape.segment_length, shape.segment_length - shape.overlap
    total = segment_count(frames, length, shape.overlap)
    per_batch = max(1, max_work // (shape.width * length))
    for start in range(0, total, per_batch):
        n = min(per_batch, total - start)
        target = np.zeros((n, channels, length), np.float32)
        mask = np.zeros((n, length), np.float32)
        for i in range(n):
            begin = (start + i) * hop
            piece = audio[begin : begin + length]
            target[i, :, : len(piece)] = piece.T
            mask[i, : len(piece)] = 1.0
        power = (target.astype(np.float64) ** 2).sum(axis=(1, 2)) / (channels * mask.sum(axis=1))
        rms = np.sqrt(power)
        scale = np.where(rms > SILENCE_RMS, rms, 0.0)
        target /= np.where(scale > 0, scale, 1.0)[:, None, None].astype(np.float32)
        yield SegmentBatch(start, target, mask, scale)
