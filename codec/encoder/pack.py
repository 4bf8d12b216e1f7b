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
    rate_divisor: int = 1,
    peak: int = 0,
    phase: bitstream.PhaseSearch = bitstream.LEGACY_PHASE,
    gain: int = 0,
) -> Header:
    """Write header and payload; returns the header written. notes: the note fields (§1.3), if any;
    rate_divisor: the audio was coded at sample_rate / rate_divisor (§8); peak: the peak limit (§9), 0 for none;
    phase: (phase, phase_iterations, phase_slack), how spectral synthesis rebuilds phase (§7); gain: the gain
    field (§10)."""
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
        rate_divisor=rate_divisor,
        peak=peak,
        phase=phase[0],
        phase_iterations=phase[1],
        gain=gain,
        phase_slack=phase[2],
        frequency_q=shape.frequency_q,
    )
    bitstream.write(header, data, fileobj)
    return header
