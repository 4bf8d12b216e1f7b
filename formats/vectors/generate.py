"""Regenerate the conformance vectors. Run only when the format version changes:

    python formats/vectors/generate.py

Valid vectors: NAME.ddc and NAME.wav (its expected 16-bit PCM, formats/ddc.md §6).
Invalid vectors: bad_*.ddc, each of which a reader must reject.
"""

import dataclasses
import io
import zlib
from pathlib import Path

import numpy as np
import soundfile

import codec
from codec import bitstream
from codec.audio_io import to_pcm16
from codec.encoder import FitConfig

HERE = Path(__file__).parent
DATA = HERE.parent.parent / "tests" / "data"


def tone(rate: int, seconds: float, channels: int) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    cols = [0.4 * np.sin(2 * np.pi * (180 + 90 * c) * t) * np.hanning(len(t)) for c in range(channels)]
    return np.stack(cols, axis=1).astype(np.float32)


def valid_vectors() -> dict[str, bytes]:
    digit, digit_rate = soundfile.read(DATA / "digit_0_jackson.wav", dtype="float32")
    trumpet, trumpet_rate = soundfile.read(DATA / "trumpet_1s.flac", dtype="float32")
    quick = FitConfig(iterations=100)
    return {
        # one segment, 1-byte codes
        "digit_mono_8k": codec.encode(digit, digit_rate, bitrate=16_000, seed=7, config=quick),
        # many overlapping segments, two channels, 2-byte codes
        "trumpet_stereo_44k": codec.encode(trumpet[:22050], trumpet_rate, bitrate=256_000, seed=1, config=quick),
        # odd rate, three channels, several segments
        "tone_3ch_11k": codec.encode(tone(11025, 2.0, 3), 11025, bitrate=20_000, seed=123, config=quick),
    }


def invalid_vectors(good: bytes) -> dict[str, bytes]:
    header = codec.read_header(io.BytesIO(good))
    payload = good[bitstream.HEADER_BYTES :]
    flipped = bytearray(good)
    flipped[bitstream.HEADER_BYTES + 3] ^= 0x10

    def resealed(**changes: int) -> bytes:  # valid header CRC around a bad value
        return bitstream.pack_header(dataclasses.replace(header, **changes)) + payload

    return {
        "bad_magic": b"RIFF" + good[4:],
        "bad_version": bitstream.pack_header(header, version=2) + payload,
        "bad_header_crc": good[:20] + bytes([good[20] ^ 1]) + good[21:],
        "bad_payload_crc": bytes(flipped),
        "bad_truncated_header": good[:30],
        "bad_truncated_payload": good[:-5],
        "bad_trailing": good + b"\0",
        "bad_channels_zero": resealed(channels=0),
        "bad_frames_huge": resealed(frames=2**40),
        "bad_depth_1000": resealed(depth=250),
        "bad_sample_rate_zero": resealed(sample_rate=0),
        "bad_code_beyond_levels": code_beyond_levels(header, good),
    }


def code_beyond_levels(header: bitstream.Header, good: bytes) -> bytes:
    """Same file, but the first code of the first tensor exceeds levels; CRCs valid."""
    raw = bytearray(bitstream.read(io.BytesIO(good))[1])
    raw[header.segments * len(header.shapes)] = 2 * header.levels + 1
    payload = bitstream.compress_payload(bytes(raw))
    fixed = dataclasses.replace(header, crc_payload=zlib.crc32(payload), payload_bytes=len(payload))
    return bitstream.pack_header(fixed) + payload


def main() -> None:
    good = valid_vectors()
    for name, data in good.items():
        (HERE / f"{name}.ddc").write_bytes(data)
        audio, rate = codec.decode(data)
        soundfile.write(HERE / f"{name}.wav", to_pcm16(audio), rate, subtype="PCM_16")
    for name, data in invalid_vectors(good["digit_mono_8k"]).items():
        (HERE / f"{name}.ddc").write_bytes(data)


if __name__ == "__main__":
    main()
