"""Geometry shared by encoder and decoder: tensor shapes, segment grid, crossfade.

Everything here follows formats/ddc.md; both sides import it so the two can never
disagree about where a segment starts or which tensor comes next.
"""

import numpy as np


def tensor_shapes(width: int, depth: int, channels: int) -> list[tuple[int, ...]]:
    """Shapes of the network's tensors in bitstream order.

    Per hidden layer i: mixing matrix W_i (width, width), then norm scale g_i and
    shift b_i (width,); then the output matrix (channels, width) and bias (channels,).
    """
    shapes: list[tuple[int, ...]] = []
    for _ in range(depth):
        shapes += [(width, width), (width,), (width,)]
    return [*shapes, (channels, width), (channels,)]


def output_rows(channels: int, synthesis: int) -> int:
    """Rows each network outputs: the channels' samples (synthesis 0), or each channel's N/2 + 1
    log-magnitude bins of a 2**synthesis-point STFT."""
    return channels * ((1 << synthesis) // 2 + 1 if synthesis else 1)


def params_per_segment(width: int, depth: int, channels: int) -> int:
    """Number of weights one segment's network holds."""
    return sum(int(np.prod(s)) for s in tensor_shapes(width, depth, channels))


def input_length(segment_length: int, depth: int) -> int:
    """Length of the input noise: each hidden layer but the last doubles the length."""
    return segment_length >> (depth - 1)


def segment_count(frames: int, segment_length: int, overlap: int) -> int:
    """Segments needed to cover `frames` samples with the given length and overlap."""
    if frames <= segment_length:
        return 1
    hop = segment_length - overlap
    return 1 + -(-(frames - segment_length) // hop)


def crossfade(overlap: int) -> np.ndarray:
    """Fade-in weights over an overlap; the fade-out is 1 minus these (the sum is exactly 1)."""
    t = (np.arange(overlap, dtype=np.float64) + 0.5) / overlap
    return np.sin(0.5 * np.pi * t) ** 2


NORM_EPS = 1e-5  # channel-norm epsilon, formats/ddc.md §4.1
