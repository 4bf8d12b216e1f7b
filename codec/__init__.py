"""ddcodec: audio compressed as the weights of a small Deep Decoder network.

    data = codec.encode(audio, sample_rate, bitrate=24_000)   # needs torch
    audio, sample_rate = codec.decode(data)                   # numpy and scipy, no torch
    with codec.open("x.ddc") as reader:                       # streaming: blocks of (frames, channels)
        for block in reader: ...

`encode_file` / `open` do the work on binary file objects; `encode` / `decode` wrap
them with io.BytesIO. Options live in EncodeOptions; the modes in codec.modes.MODES.
The format is specified in formats/ddc.md.
"""

import dataclasses
import io
import os
from typing import TYPE_CHECKING, BinaryIO

# OpenMP threads (torch's) that wait for work sleep instead of spinning: a spinning thread takes a core from the
# process it waits on whenever anything else runs (bench/RESULTS.md, "Speed"). Read when the OpenMP runtime loads,
# so it must be set before torch is imported; a value the user set stands.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np

from codec import bitstream
from codec.bitstream import Header
from codec.decoder import Reader
from codec.errors import (
    AudioError,
    DdcodecError,
    FormatError,
    SettingError,
    TruncatedError,
    UnsupportedVersionError,
)
from codec.options import EncodeOptions
from codec.summary import describe

if TYPE_CHECKING:
    from codec.encoder.pipeline import Progress

__all__ = [
    "AudioError",
    "DdcodecError",
    "EncodeOptions",
    "FormatError",
    "Header",
    "Reader",
    "SettingError",
    "TruncatedError",
    "UnsupportedVersionError",
    "decode",
    "decode_file",
    "describe",
    "encode",
    "encode_file",
    "open",
    "read_header",
]


def encode_file(
    audio: np.ndarray,
    sample_rate: int,
    fileobj: BinaryIO,
    options: EncodeOptions | None = None,
    progress: "Progress | None" = None,
    **changes: object,
) -> Header:
    """Encode audio into a binary file object; returns the header written.

    Parameters
    ----------
    audio : (frames,) or (frames, channels) float array, nominally in [-1, 1].
    sample_rate : Hz, 1000 to 384000.
    options : EncodeOptions (bitrate, mode, seed, device, iterations, threads); default EncodeOptions().
    progress : called as progress(steps_done, steps_total, fit_snr_db).
    **changes : EncodeOptions fields to change, e.g. ``bitrate=12_000, mode="waveform"``.

    Imports torch on first use. Raises AudioError for unusable audio and ValueError for bad options.
    """
    from codec.encoder.pipeline import encode_stream  # torch stays out of decode-only use

    options = dataclasses.replace(options or EncodeOptions(), **changes)
    return encode_stream(audio, sample_rate, fileobj, options, progress)


def encode(audio: np.ndarray, sample_rate: int, options: EncodeOptions | None = None, **changes: object) -> bytes:
    """Encode audio to .ddc bytes; arguments as for encode_file."""
    buffer = io.BytesIO()
    encode_file(audio, sample_rate, buffer, options, **changes)
    return buffer.getvalue()


# Shadows the builtin inside codec only, as gzip.open and wave.open do.
def open(source: str | os.PathLike | BinaryIO, threads: int | None = None) -> Reader:
    """Open a .ddc path or binary file object for streaming decode; see Reader.

    The header and payload are read and checked here: a malformed stream raises FormatError
    (or a subclass) before any audio is made. threads: threads to decode with (None: $DDCODEC_THREADS, else one;
    codec.threads).
    """
    return Reader(source, threads)


def decode_file(fileobj: BinaryIO, threads: int | None = None) -> tuple[np.ndarray, int]:
    """Decode a .ddc stream from a binary file object.

    Returns (audio, sample_rate) with audio (frames, channels) float32, not clipped;
    formats/ddc.md defines the conversion to 16-bit PCM. Raises FormatError (or its
    subclasses) for any malformed input.
    """
    with Reader(fileobj, threads) as reader:
        return reader.read(), reader.sample_rate


def decode(data: bytes, threads: int | None = None) -> tuple[np.ndarray, int]:
    """Decode .ddc bytes; see decode_file."""
    return decode_file(io.BytesIO(data), threads)


def read_header(fileobj: BinaryIO) -> Header:
    """Read and validate only the header of a .ddc stream."""
    return bitstream.read_header(fileobj)
