"""ddcodec: audio compressed as the weights of a small Deep Decoder network.

    data = codec.encode(audio, sample_rate, bitrate=24_000)   # needs torch
    audio, sample_rate = codec.decode(data)                   # numpy and scipy, no torch

`encode_file` / `decode_file` do the work on binary file objects; `encode` /
`decode` wrap them with io.BytesIO. The format is specified in formats/ddc.md.
"""

import io
from typing import TYPE_CHECKING, BinaryIO

import numpy as np

from codec import bitstream
from codec.bitstream import Header
from codec.decoder import decode_stream
from codec.errors import AudioError, DdcodecError, FormatError, TruncatedError, UnsupportedVersionError

if TYPE_CHECKING:
    from codec.encoder import FitConfig, Progress

__all__ = [
    "AudioError",
    "DdcodecError",
    "FormatError",
    "Header",
    "TruncatedError",
    "UnsupportedVersionError",
    "decode",
    "decode_file",
    "encode",
    "encode_file",
    "read_header",
]


def encode_file(
    audio: np.ndarray,
    sample_rate: int,
    fileobj: BinaryIO,
    bitrate: float = 24_000,
    seed: int = 0,
    config: "FitConfig | None" = None,
    progress: "Progress | None" = None,
    mode: str = "spectral",
) -> Header:
    """Encode audio into a binary file object; returns the header written.

    Parameters
    ----------
    audio : (frames,) or (frames, channels) float array, nominally in [-1, 1].
    sample_rate : Hz, 1000 to 384000.
    bitrate : target bits per second of audio, header included; the file lands
        at or just under it unless the clip is too short for the smallest network.
        Targets above 16-bit PCM's rate (16 x sample_rate x channels) are clamped to it.
    seed : seeds the network input and initialization (stored in the file).
    config : fitting effort (codec.encoder.FitConfig); not needed to decode.
        Default: codec.encoder.DEFAULT_FIT[mode].
    progress : called as progress(steps_done, steps_total, fit_snr_db).
    mode : "spectral" (default) codes log-magnitude spectra and rebuilds phase
        at decode: best perceived quality per bit, but the waveform is not kept
        (SNR near or below 0 dB). "waveform" codes the samples themselves.
        README "Modes" has the measurements.

    Imports torch on first use. Raises AudioError for unusable audio.
    """
    from codec.encoder import encode_stream  # torch stays out of decode-only use

    return encode_stream(audio, sample_rate, fileobj, bitrate, seed, config, progress, mode)


def encode(audio: np.ndarray, sample_rate: int, **kwargs) -> bytes:
    """Encode audio to .ddc bytes; keyword arguments as for encode_file."""
    buffer = io.BytesIO()
    encode_file(audio, sample_rate, buffer, **kwargs)
    return buffer.getvalue()


def decode_file(fileobj: BinaryIO) -> tuple[np.ndarray, int]:
    """Decode a .ddc stream from a binary file object.

    Returns (audio, sample_rate) with audio (frames, channels) float32, not
    clipped; formats/ddc.md defines the conversion to 16-bit PCM. Raises
    FormatError (or its subclasses) for any malformed input.
    """
    header, audio = decode_stream(fileobj)
    return audio, header.sample_rate


def decode(data: bytes) -> tuple[np.ndarray, int]:
    """Decode .ddc bytes; see decode_file."""
    return decode_file(io.BytesIO(data))


def read_header(fileobj: BinaryIO) -> Header:
    """Read and validate only the header of a .ddc stream."""
    return bitstream.read_header(fileobj)
