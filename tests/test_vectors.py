"""Conformance vectors (formats/vectors): old files keep decoding to the recorded output."""

import io
from unittest import mock

import numpy as np
import pytest
import soundfile
from conftest import VECTORS

import codec
from codec import spectrum
from codec.audio_io import to_pcm16

VALID = sorted(p for p in VECTORS.glob("*.ddc") if not p.name.startswith("bad_"))
INVALID = sorted(VECTORS.glob("bad_*.ddc"))


def test_vectors_exist():
    assert len(VALID) >= 3 and len(INVALID) >= 10


def assert_conforms(got: np.ndarray, expected: np.ndarray, version: int) -> None:
    """formats/ddc.md "Conformance": within 1 LSB through version 7; in version 8 within 4 LSB, with an RMS
    difference of at most 1/sqrt(12) LSB."""
    diff = got.astype(np.int32) - expected
    if version < 8:
        assert np.abs(diff).max() <= 1
    else:
        assert np.abs(diff).max() <= 4 and np.sqrt(np.mean(np.square(diff, dtype=np.float64))) <= 1 / np.sqrt(12)


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_valid_vector_decodes_to_expected_pcm(path):
    expected, rate = soundfile.read(path.with_suffix(".wav"), dtype="int16", always_2d=True)
    audio, decoded_rate = codec.decode(path.read_bytes())
    got = to_pcm16(audio)
    assert decoded_rate == rate and got.shape == expected.shape
    assert_conforms(got, expected, codec.read_header(io.BytesIO(path.read_bytes())).version)


# Each invalid vector, the error class formats/ddc.md gives it and words the message must hold (§1.1 rule).
REJECTIONS = {
    "bad_magic": (codec.FormatError, "not a .ddc file"),  # rule 1
    "bad_version": (codec.UnsupportedVersionError, "version 10 is not supported"),  # rule 1: unsupported
    "bad_version_9_without_speech": (codec.FormatError, "version 9 with denoised=1"),  # rule 12
    "bad_version_8_without_nodes": (codec.FormatError, "version 8 with frequency_q=0"),  # rule 12
    "bad_version_7_without_slack": (codec.FormatError, "version 7 with phase_slack=0"),  # rule 12
    "bad_version_6_without_gain": (codec.FormatError, "version 6 with gain=0"),  # rule 12
    "bad_version_5_without_phase": (codec.FormatError, "version 5 with phase=0 and phase_iterations=32"),  # rule 12
    "bad_phase": (codec.FormatError, "phase=2 is outside"),  # rule 3
    "bad_phase_iterations": (codec.FormatError, "phase_iterations=65 is outside"),  # rule 3
    "bad_phase_in_waveform": (codec.FormatError, "waveform file"),  # rule 3
    "bad_phase_slack": (codec.FormatError, "phase_slack=65 is outside"),  # rule 3
    "bad_slack_in_waveform": (codec.FormatError, "waveform file"),  # rule 3
    "bad_nodes_in_waveform": (codec.FormatError, "waveform file"),  # rule 3
    "bad_version_4_without_divisor": (codec.FormatError, "version 4 with rate_divisor=1"),  # rule 12
    "bad_rate_divisor": (codec.FormatError, "does not divide sample_rate=8000"),  # rule 4
    "bad_rate_divisor_range": (codec.FormatError, "rate_divisor=9 is outside"),  # rule 3
    "bad_version_3_without_notes": (codec.FormatError, "version 3 without notes"),  # rule 12
    "bad_denoised_flag": (codec.FormatError, "denoised=3 is outside"),  # rule 3
    "bad_speech_denoised_before_9": (codec.FormatError, r"denoised=2 is outside \[0, 1\] in version 8"),  # rule 3
    "bad_header_crc": (codec.FormatError, "header CRC"),  # rule 2
    "bad_channels_zero": (codec.FormatError, "channels=0"),  # rule 3
    "bad_frames_huge": (codec.FormatError, "frames=1099511627776"),  # rule 3
    "bad_depth_1000": (codec.FormatError, "depth=250"),  # rule 3
    "bad_sample_rate_zero": (codec.FormatError, "sample_rate=0"),  # rule 3
    "bad_synthesis": (codec.FormatError, "synthesis=7"),  # rule 3
    "bad_payload_per_sample": (codec.FormatError, "declared weights need"),  # rule 9
    "bad_decode_work": (codec.FormatError, "multiply-adds"),  # rule 10
    "bad_version_synthesis": (codec.FormatError, "does not match"),  # rule 12
    "bad_truncated_header": (codec.TruncatedError, "inside the header"),
    "bad_truncated_payload": (codec.TruncatedError, "inside the payload"),
    "bad_trailing": (codec.FormatError, "trailing bytes"),
    "bad_payload_crc": (codec.FormatError, "payload CRC"),
    "bad_code_beyond_levels": (codec.FormatError, "beyond levels"),  # §2
}


def test_every_invalid_vector_has_its_expected_rejection():
    assert sorted(REJECTIONS) == [p.stem for p in INVALID]


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_vector_is_rejected_with_the_error_the_spec_names(path):
    kind, fragment = REJECTIONS[path.stem]
    with pytest.raises(codec.FormatError, match=fragment) as caught:
        codec.decode(path.read_bytes())
    assert type(caught.value) is kind  # a truncation is not reported as plain corruption, nor the reverse


def dft_rfft(x: np.ndarray, axis: int = -1, workers: int = 1) -> np.ndarray:
    """The real DFT as a plain matrix product: same math as an FFT, very different rounding."""
    n = x.shape[-1]
    return x @ np.exp(-2j * np.pi * np.outer(np.arange(n), np.arange(n // 2 + 1)) / n)


def dft_irfft(spectra: np.ndarray, n: int, axis: int = -1, workers: int = 1) -> np.ndarray:
    weights = np.full(n // 2 + 1, 2.0)
    weights[[0, -1]] = 1.0  # bins 0 and N/2 count once, their imaginary parts ignored
    basis = np.exp(2j * np.pi * np.outer(np.arange(n // 2 + 1), np.arange(n)) / n)
    return (weights * spectra.real) @ basis.real / n - (weights * spectra.imag) @ basis.imag / n


@pytest.mark.parametrize("path", [p for p in VALID if "spectral" in p.stem], ids=lambda p: p.stem)
def test_spectral_vectors_hold_with_another_dft_implementation(path):
    """formats/ddc.md "Conformance": Griffin-Lim's output must not hinge on one FFT's rounding.

    The matrix DFT computes in double precision, so version 5's vectors, which the reference decodes in
    single precision (§7.1), are also checked against a double-precision decode here."""
    expected, _ = soundfile.read(path.with_suffix(".wav"), dtype="int16", always_2d=True)
    with mock.patch.object(spectrum.fft, "rfft", dft_rfft), mock.patch.object(spectrum.fft, "irfft", dft_irfft):
        audio, _ = codec.decode(path.read_bytes())
    assert_conforms(to_pcm16(audio), expected, codec.read_header(io.BytesIO(path.read_bytes())).version)
