"""Segments -> audio: run the networks a few segments at a time and overlap-add them.

Memory stays bounded by MAX_WORK activations whatever the file's length.
"""

from collections.abc import Iterator

import numpy as np

from codec.bitstream import Header, split_payload
from codec.decoder.forward import forward
from codec.decoder.weights import dequantize
from codec.layout import crossfade, input_length
from codec.noise import input_noise

MAX_WORK = 2**22  # segments x width x segment_length per forward call (~32 MiB per float64 activation)


def iter_segments(header: Header, raw: bytes) -> Iterator[np.ndarray]:
    """Each segment's decoded samples, (C, L) float64, in order. `raw` comes from bitstream.read."""
    exponents, codes = split_payload(header, raw)
    z = input_noise(header.seed, header.width, input_length(header.segment_length, header.depth))
    batch = max(1, MAX_WORK // (header.width * header.segment_length))
    for start in range(0, header.segments, batch):
        stop = min(start + batch, header.segments)
        weights = dequantize(exponents[start:stop], [c[start:stop] for c in codes], header.shapes)
        yield from forward(weights, z, header.depth)


def iter_blocks(header: Header, raw: bytes) -> Iterator[np.ndarray]:
    """Decoded audio as consecutive (frames, C) float32 blocks, exactly header.frames in total."""
    overlap, fade = header.overlap, crossfade(header.overlap)
    left, pending = header.frames, None
    last = header.segments - 1
    for index, y in enumerate(iter_segments(header, raw)):
        if pending is not None:
            y = y.copy()
            y[:, :overlap] = y[:, :overlap] * fade + pending
        end = y.shape[1] if index == last else y.shape[1] - overlap
        if index != last and overlap:
            pending = y[:, end:] * (1.0 - fade)
        block = y[:, :end].T[:left].astype(np.float32)
        left -= len(block)
        yield block
