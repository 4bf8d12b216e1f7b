"""Conformance vectors (formats/vectors): old files keep decoding to the recorded output."""

import io

import numpy as np
import pytest
import soundfile
from conftest import VECTORS

import codec
from codec.audio_io import to_pcm16

VALID = sorted(p for p in VECTORS.glob("*.ddc") if not p.name.startswith("bad_"))
INVALID = sorted(VECTORS.glob("bad_*.ddc"))


def test_vectors_exist():
    assert len(VALID) >= 3 and len(INVALID) >= 10


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_valid_vector_decodes_to_expected_pcm(path):
    expected, rate = soundfile.read(path.with_suffix(".wav"), dtype="int16", always_2d=True)
    audio, decoded_rate = codec.decode(path.read_bytes())
    got = to_pcm16(audio)
    assert decoded_rate == rate and got.shape == expected.shape
    assert np.abs(got.astype(np.int32) - expected).max() <= 1  # formats/ddc.md "Conformance": +-1 LSB


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_vector_is_rejected_with_format_error(path):
    with pytest.raises(codec.FormatError):
        codec.decode(path.read_bytes())
    if "truncated" in path.stem:
        with pytest.raises(codec.TruncatedError):
            codec.read_header(io.BytesIO(path.read_bytes()[:40]))
