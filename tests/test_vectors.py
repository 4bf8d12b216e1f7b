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
    """formats/ddc.md "Conformance": Griffin-Lim's output must not hinge on one FFT's rounding."""
    expected, _ = soundfile.read(path.with_suffix(".wav"), dtype="int16", always_2d=True)
    with mock.patch.object(spectrum.fft, "rfft", dft_rfft), mock.patch.object(spectrum.fft, "irfft", dft_irfft):
        audio, _ = codec.decode(path.read_bytes())
    assert np.abs(to_pcm16(audio).astype(np.int32) - expected).max() <= 1
