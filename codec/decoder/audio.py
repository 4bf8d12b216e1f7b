"""Segments -> audio: run the networks a few segments at a time and overlap-add them.

Memory stays bounded by MAX_WORK activations whatever the file's length.
"""

from collections.abc import Iterator

import numpy as np

from codec.bitstream import Header
from codec.decoder.forward import forward
from codec.decoder.spectral import iter_spectral_blocks
from codec.decoder.weights import dequantize
from codec.layout import crossfade, input_length, params_per_segment
from codec.noise import input_noise

MAX_WORK = 2**22  # activations, and separately weights, per forward call (~32 MiB each as float64)


def iter_runs(header: Header, exponents: np.ndarray, codes: list[np.ndarray]) -> Iterator[np.ndarray]:
    """Consecutive runs of decoded segments, each (n, rows, L) float64, in order, from bitstream.read's payload."""
    z = input_noise(header.seed, header.width, input_length(header.segment_length, header.depth))
    # spectral: each segment's phase search holds ~8 float64 arrays of its output's size
    activations = (8 * header.rows if header.synthesis else max(header.width, header.rows)) * header.segment_length
    per_segment = max(activations, params_per_segment(header.width, header.depth, header.rows))
    batch = max(1, MAX_WORK // per_segment)
    for start in range(0, header.segments, batch):
        stop = min(start + batch, header.segments)
        weights = dequantize(exponents[start:stop], [c[start:stop] for c in codes], header.shapes)
        yield forward(weights, z, header.depth)


def iter_blocks(header: Header, exponents: np.ndarray, codes: list[np.ndarray]) -> Iterator[np.ndarray]:
    """Decoded audio as consecutive (frames, C) float32 blocks, exactly header.frames in total."""
    runs = iter_runs(header, exponents, codes)
    return iter_spectral_blocks(header, runs) if header.synthesis else iter_waveform_blocks(header, runs)


def iter_waveform_blocks(header: Header, runs: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
    """Waveform synthesis: the networks' outputs are the samples (formats/ddc.md §5).

    Each run of n segments is crossfaded in one go: segment j's head is faded in and
    its tail (the last O samples) faded out, then the heads tile the output at hop H
    and each tail is added onto the next segment's head. The last tail of a run waits
    for the next run.
    """
    hop, overlap, fade = header.segment_length - header.overlap, header.overlap, crossfade(header.overlap)
    left, first, pending = header.frames, 0, None
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
