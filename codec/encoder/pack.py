"""Codes -> bitstream: the payload bytes and the header that describes them."""

import zlib
from typing import BinaryIO

import numpy as np

from codec import bitstream
from codec.bitstream import Header
from codec.modes.ladder import Shape


def payload(exponents: np.ndarray, codes: list[np.ndarray], levels: int) -> bytes:
    """Compressed payload for quantized weights."""
    return bitstream.compress_payload(bitstream.join_payload(exponents, codes, bitstream.code_bytes(levels)))


def write(
    fileobj: BinaryIO,
    sample_rate: int,
    channels: int,
    frames: int,
    seed: int,
    shape: Shape,
    levels: int,
    data: bytes,
    notes: dict[str, int] | None = None,
) -> Header:
    """Write header and payload; returns the header written. notes: version 3's note fields, if any."""
    header = Header(
        sample_rate=sample_rate,
        channels=channels,
        frames=frames,
        seed=seed,
        width=shape.width,
        depth=shape.depth,
        synthesis=shape.synthesis,
        segment_length=shape.segment_length,
        overlap=shape.overlap,
        levels=levels,
        crc_payload=zlib.crc32(data),
        payload_bytes=len(data),
        **(notes or {}),
    )
    bitstream.write(header, data, fileobj)
    return header
