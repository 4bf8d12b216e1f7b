"""Waveform mode: the networks output the samples themselves (format version 1, synthesis 0).

Encoder: the signal is the audio; the ladder picks a width from the bitrate and
stretches a grid of overlapping segments over the clip. Decoder: segments are
joined by a sin² crossfade (formats/ddc.md §5).
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from codec.bitstream import Header
from codec.layout import crossfade
from codec.modes import ladder
from codec.modes.base import FitConfig, Mode
from codec.modes.ladder import Shape


@dataclass(frozen=True)
class Waveform(Mode):
    """Tunables measured on speech (README "How it works"): depth 6 beat 4 and 8, and at equal bytes a
    wider net on longer segments beat a narrow one on short ones."""

    depth: int = 6
    bits_per_weight: float = 7.6  # measured: 8-bit uniform codes after zstd, speech and music alike
    reference_length: int = 8192  # width grows with sqrt(weights per sample) so segments stay near this
    max_width: int = 64
    min_single_depth: int = 3  # a one-segment clip searches depths from here up to `depth`

    denoiser = "wiener"  # a loss on magnitudes would leave the samples' phase free: fit E[S | Y] instead
    name = "waveform"
    summary = "codes the samples: waveform-faithful, lower quality per bit"
    # lr: measured best of 0.004, 0.01, 0.02 on speech (README "How it works")
    fit = FitConfig(iterations=1500, lr=0.02)

    def owns(self, synthesis: int) -> bool:
        return synthesis == 0

    def shape(self, bitrate: float, sample_rate: int, channels: int, frames: int) -> Shape:
        """Pick width and segment grid so the file lands near `bitrate` at ~8-bit weights."""
        depth = self.depth
        bits_per_frame = bitrate / sample_rate
        width = round((bits_per_frame * self.reference_length / (self.bits_per_weight * depth)) ** 0.5)
        width = min(self.max_width, max(ladder.MIN_WIDTH, width))
        cost = ladder.segment_cost(width, depth, channels, self.bits_per_weight)
        ideal = cost / bits_per_frame * ladder.OVERLAP_FRACTION / (ladder.OVERLAP_FRACTION - 1)
        count = round((frames - ideal / ladder.OVERLAP_FRACTION) / (ideal * (1 - 1 / ladder.OVERLAP_FRACTION)))
        if count >= 2:
            # Stretch the grid so `count` segments cover the clip exactly: no budget spent on padding.
            length = ladder.stretched_length(frames, count, ladder.granule(depth))
            return Shape(width, depth, length, length // ladder.OVERLAP_FRACTION)
        # One segment holds the whole clip. Its payload is too small for zstd to shrink, so
        # cost it at a full byte per weight, and search depth as well as width: width alone
        # moves the size in steps of up to 50 % on sub-second clips.
        budget = bitrate * frames / sample_rate / 8 - ladder.SMALL_OVERHEAD_BYTES
        options = [
            (ladder.segment_cost(w, d, channels, bits_per_weight=8) / 8, d, w)
            for d in range(self.min_single_depth, depth + 1)
            for w in range(ladder.MIN_WIDTH, self.max_width + 1)
        ]
        fitting = [o for o in options if o[0] <= budget] or [min(options)]
        best = max(cost for cost, _, _ in fitting)
        _, depth, width = max(fitting, key=lambda o: (o[0] >= 0.95 * best, o[1], o[0]))  # deepest within 5 %
        return Shape(width, depth, ladder.round_up(frames, ladder.granule(depth)), 0)

    def signal(self, audio: np.ndarray, shape: Shape, workers: int) -> np.ndarray:
        return audio

    def blocks(self, header: Header, runs: Iterable[np.ndarray], workers: int) -> Iterator[np.ndarray]:
        """The networks' outputs are the samples (formats/ddc.md §5).

        Each run of n segments is crossfaded in one go: segment j's head is faded in and
        its tail (the last O samples) faded out, then the heads tile the output at hop H
        and each tail is added onto the next segment's head. The last tail of a run waits
        for the next run.
        """
        hop, overlap, fade = header.segment_length - header.overlap, header.overlap, crossfade(header.overlap)
        left, first, pending = header.coded_frames, 0, None
        for y in runs:
            n, channels, _ = y.shape
            final = first + n == header.segments
            y[int(first == 0) :, :, :overlap] *= fade  # no fade-in for the very first segment
            y[: n - final, :, hop:] *= 1.0 - fade  # no fade-out for the very last
            out = np.zeros((channels, (n + 1) * hop), np.float64)
            out[:, : n * hop].reshape(channels, n, hop)[...] = y[:, :, :hop].transpose(1, 0, 2)
            out[:, hop:].reshape(channels, n, hop)[:, :, :overlap] += y[:, :, hop:].transpose(1, 0, 2)
            if pending is not None:
                out[:, :overlap] += pending
            end = n * hop + overlap if final else n * hop
            pending = out[:, n * hop : n * hop + overlap].copy()
            block = out[:, :end].T[:left].astype(np.float32)
            left -= len(block)
            first += n
            yield block

    def describe(self, header: Header) -> str:
        return "waveform"
