"""Codes -> bitstream: the payload bytes and the header that describes them."""

import dataclasses
import zlib
from typing import BinaryIO

import numpy as np

from codec import bitstream
from codec.bitstream import Header


def payload(exponents: np.ndarray, codes: list[np.ndarray], levels: int) -> bytes:
    """Compressed payload for quantized weights."""
    return bitstream.compress_payload(bitstream.join_payload(exponents, codes, bitstream.code_bytes(levels)))


def write(fileobj: BinaryIO, header: Header, data: bytes) -> Header:
    """Write `header`, with the CRC and size of the compressed payload `data` filled in, then `data`;
    returns the header written."""
    header = dataclasses.replace(header, crc_payload=zlib.crc32(data), payload_bytes=len(data))
    bitstream.write(header, data, fileobj)
    return header
