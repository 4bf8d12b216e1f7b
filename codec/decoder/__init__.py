"""The decoder: numpy and scipy.fft only. Importing this package never imports torch."""

from typing import BinaryIO

import numpy as np

from codec import bitstream
from codec.bitstream import Header
from codec.decoder.audio import iter_blocks

__all__ = ["decode_stream", "iter_blocks"]


def decode_stream(fileobj: BinaryIO) -> tuple[Header, np.ndarray]:
    """Read a .ddc stream and return its header and all samples, (frames, channels) float32."""
    header, exponents, codes = bitstream.read(fileobj)
    audio = np.empty((header.frames, header.channels), np.float32)  # filled in place: one copy of the output
    done = 0
    for block in iter_blocks(header, exponents, codes):
        audio[done : done + len(block)] = block
        done += len(block)
    return header, audio
