"""Denoising (codec/encoder/denoise.py): the noise model, the auto rule, and a noisy input coming out cleaner."""

import io
import json

import numpy as np
import pytest
import soundfile
import torch
from conftest import load
from test_cli import run

import codec
from codec import bitstream, modes, spectrum
from codec.encoder import denoise, pipeline
from codec.encoder.segments import SegmentBatch
from codec.frequency import Nodes
from codec.metrics import lsd, si_sdr_db
from codec.modes.ladder import Shape
from codec.options import EncodeOptions

SPECTRAL = modes.MODES["spectral"]
RATE = 16000


def estimate_of(audio: np.ndarray, rate: int = RATE) -> denoise.NoiseEstimate:
    shape = SPECTRAL.shape(24_000, rate, audio.shape[1], len(audio))
    signal = SPECTRAL.signal(audio.astype(np.float32), shape, -1)
    return denoise.estimate(signal, 1 << shape.synthesis, audio.shape[1])


def voiced(seconds: float = 2.0) -> np.ndarray:
    """A speech-like clean signal: harmonics of a gliding f0, syllable-rate bursts with pauses between."""
    t = np.arange(int(RATE * seconds)) / RATE
    f0 = 140 + 30 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(f0) / RATE
    tone = sum(np.sin(k * phase) / k for k in range(1, 12))
    envelope = np.clip(np.sin(2 * np.pi * 2.5 * t), 0, None) ** 2
    return (0.1 * tone * envelope)[:, None]


def mixed(clean: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """clean + noise scaled to `snr_db` below the clean signal's power."""
    return clean + noise * np.sqrt(np.mean(clean**2) / np.mean(noise**2) / 10 ** (snr_db / 10))


def with_noise(clean: np.ndarray, snr_db: float, seed: int = 0) -> np.ndarray:
    return mixed(clean, np.random.default_rng(seed).standard_normal(clean.shape), snr_db)


def test_the_estimator_is_unbiased_on_white_noise():
    noise = 0.05 * np.random.default_rng(3).standard_normal((RATE * 4, 1))
    estimate = estimate_of(noise)
    shape = SPECTRAL.shape(24_000, RATE, 1, len(noise))
    magnitude = np.exp(SPECTRAL.signal(noise.astype(np.float32), shape, -1)) - 512 * 2.0**-15
    true_power = (magnitude[3:-3, 1:-1] ** 2).mean()
    assert estimate.power[1:-1].mean() == pytest.approx(true_power, rel=0.05)  # NOISE_CAL holds
    assert estimate.snr_db < -10 and estimate.weight == denoise.MAX_WEIGHT


@pytest.mark.parametrize("snr_db", [0.0, 5.0, 10.0])
def test_the_estimated_snr_tracks_the_true_one(snr_db):
    assert estimate_of(with_noise(voiced(), snr_db)).snr_db == pytest.approx(snr_db, abs=2.0)


def test_silence_and_clean_tones_count_as_noiseless():
    assert estimate_of(np.zeros((RATE, 2))).weight == 0.0
    assert estimate_of(voiced()).weight == 0.0


def hum(seconds: float, hz: float) -> np.ndarray:
    t = np.arange(int(RATE * seconds)) / RATE
    return sum(np.sin(2 * np.pi * hz * k * t + k) / k for k in range(1, 11))[:, None]


def test_a_note_held_through_the_clip_is_not_noise():
    """A sustained note is above its neighbours in the 10 % quantile, as mains hum is, but it swells: the
    soprano's notes were taken for noise this way (RESULTS, "Clean harm")."""
    t = np.arange(RATE * 4) / RATE
    note = (0.02 + 0.2 * t / t[-1]) * sum(np.sin(2 * np.pi * 440 * k * t) / k for k in (1, 2, 3))
    assert estimate_of(voiced(4.0) + note[:, None]).weight == 0.0


@pytest.mark.parametrize("hz", [50.0, 60.0])
def test_steady_mains_hum_is_still_noise(hz):
    estimate = estimate_of(mixed(voiced(4.0), hum(4.0, hz), 10.0))
    assert estimate.snr_db < 12.0 and estimate.weight == denoise.MAX_WEIGHT  # a steady tone reads ~3 dB low


@pytest.mark.parametrize("q", [0, 1])  # every bin a node, or 5 nodes spread over the 6 bins
def test_the_fused_loss_has_the_gradient_of_its_formula(q):
    rng = np.random.default_rng(0)
    segments, rows, length = 2, 6, 32
    target = rng.standard_normal((segments, rows, length)).astype(np.float32)
    scale, offset = np.array([0.8, 1.3]), np.array([-3.0, -2.0])
    batch = SegmentBatch(0, target, np.ones((segments, length), np.float32), scale, offset)
    noise = denoise.NoiseEstimate(rng.uniform(0.001, 0.01, rows), 5.0, 1.5)
    shape = Shape(4, 1, length, 0, synthesis=8)
    nodes = Nodes(1, rows, q)
    error = denoise.NoiseAwareError(batch, noise, shape, iterations=10, device="cpu", nodes=nodes)
    out = torch.tensor(rng.standard_normal((segments, nodes.rows, length)), dtype=torch.float64, requires_grad=True)
    fused = error(out.float(), 9)

    nodes_to_bins = torch.tensor(nodes.spread(np.eye(nodes.rows)[None])[0])  # (bins, K): column k is node k's share
    spread = torch.einsum("bk,skl->sbl", nodes_to_bins, out)
    y = spread * error.sc.double() + error.off.double()
    s = torch.relu(torch.exp(torch.clamp(y, max=error.ln_n)) - error.eps)
    model = torch.log(torch.sqrt(s.square() + error.pn.double()) + error.eps)
    t = error.log_mag.double()
    formula = (((model - t) / error.sc.double()).square()).sum()
    formula = formula + denoise.FLOOR_PULL * (spread - error.floor.double()).square().sum()
    assert fused.item() == pytest.approx(formula.item(), rel=1e-4)
    leaf = out.detach().float().requires_grad_()
    error(leaf, 9).backward()
    (expected,) = torch.autograd.grad(formula, out)
    assert torch.allclose(leaf.grad.double(), expected, rtol=1e-3, atol=1e-4)


def test_a_noisy_input_comes_out_cleaner_with_auto_than_with_off():
    clean = voiced()
    noisy = with_noise(clean, 5.0).astype(np.float32)
    off, _ = codec.decode(codec.encode(noisy, RATE, iterations=300, denoise="off"))
    auto, _ = codec.decode(codec.encode(noisy, RATE, iterations=300, denoise="auto"))
    assert lsd(clean, auto) < lsd(clean, off) - 0.3, (lsd(clean, auto), lsd(clean, off))


def test_clean_input_is_coded_as_with_denoising_off_but_for_the_notes():
    speech, rate = load("speech_198-209-0000_2s.flac")
    for clean, sample_rate in ((speech, rate), (voiced().astype(np.float32), RATE)):
        off = codec.encode(clean, sample_rate, iterations=40, denoise="off")
        auto = codec.encode(clean, sample_rate, iterations=40, denoise="auto")
        noted, plain = codec.read_header(io.BytesIO(auto)), codec.read_header(io.BytesIO(off))
        assert (noted.version, noted.denoised, plain.version) == (8, 0, 8) and noted.input_snr_db >= 20
        assert auto[noted.size :] == off[plain.size :]  # the same weights, bit for bit
        assert np.array_equal(codec.decode(auto)[0], codec.decode(off)[0])


def test_waveform_mode_codes_clean_input_as_with_denoising_off(tmp_path):
    tone = voiced(0.5).astype(np.float32)
    kwargs = {"iterations": 10, "mode": "waveform"}
    auto, off = codec.encode(tone, RATE, denoise="auto", **kwargs), codec.encode(tone, RATE, denoise="off", **kwargs)
    noted, plain = codec.read_header(io.BytesIO(auto)), codec.read_header(io.BytesIO(off))
    assert noted.denoised == 0 and noted.input_snr_db >= 20 and auto[noted.size :] == off[plain.size :]
    source = tmp_path / "tone.wav"
    soundfile.write(source, tone, RATE)
    result = run("encode", source, tmp_path / "t.ddc", "-m", "waveform", "--denoise", "auto", "--iterations", "5", "-q")
    assert result.exit_code == 0 and "warning" not in result.stderr


@pytest.mark.parametrize("snr_db", [0.0, 10.0])
def test_the_wiener_target_is_cleaner_than_the_noisy_input(snr_db):
    clean = voiced(3.0)
    noisy = with_noise(clean, snr_db).astype(np.float32)
    n_fft = denoise.wiener_frame(RATE)
    noise = denoise.estimate(spectrum.analyze(noisy, n_fft), n_fft, 1)
    target = denoise.wiener(noisy, noise.power, n_fft)
    assert target.shape == noisy.shape and target.dtype == np.float32
    assert si_sdr_db(clean, target) > si_sdr_db(clean, noisy) + 4.0, (si_sdr_db(clean, target), snr_db)


def test_the_wiener_target_is_the_same_computed_in_blocks(monkeypatch):
    noisy = with_noise(np.concatenate([voiced(1.0), voiced(1.0)], axis=1), 5.0).astype(np.float32)
    n_fft = denoise.wiener_frame(RATE)
    noise = denoise.estimate(spectrum.analyze(noisy, n_fft), n_fft, 2)
    whole = denoise.wiener(noisy, noise.power, n_fft)
    monkeypatch.setattr(denoise, "WIENER_BLOCK", 7)  # blocks that end inside frames' overlaps, and a short last one
    np.testing.assert_allclose(denoise.wiener(noisy, noise.power, n_fft), whole, atol=1e-6)


def test_the_wiener_target_of_a_noiseless_input_is_that_input():
    clean = voiced(1.0).astype(np.float32)
    n_fft = denoise.wiener_frame(RATE)
    target = denoise.wiener(clean, np.full(n_fft // 2 + 1, 1e-12), n_fft)
    assert si_sdr_db(clean, target) > 40.0  # the STFT and its inverse are exact, the gain 1 where no noise is


def test_waveform_mode_with_auto_comes_out_cleaner_than_with_off():
    clean = voiced(1.0)
    noisy = with_noise(clean, 0.0).astype(np.float32)
    kwargs = {"iterations": 200, "mode": "waveform"}
    auto = codec.encode(noisy, RATE, denoise="auto", **kwargs)
    assert codec.read_header(io.BytesIO(auto)).denoised == 1
    off = codec.encode(noisy, RATE, denoise="off", **kwargs)
    gained = si_sdr_db(clean, codec.decode(auto)[0]) - si_sdr_db(clean, codec.decode(off)[0])
    assert gained > 1.0, gained  # 2.0 dB measured


def test_info_tells_whether_denoising_was_applied_and_the_estimated_snr(tmp_path):
    noisy = with_noise(voiced(), 5.0).astype(np.float32)
    source = tmp_path / "noisy.wav"
    soundfile.write(source, noisy, RATE, subtype="FLOAT")
    for denoise_flag, version in (("auto", 8), ("off", 8)):  # 8: spectral files have frequency nodes
        target = tmp_path / f"{denoise_flag}.ddc"
        assert run("encode", source, target, "--denoise", denoise_flag, "--iterations", "5", "-q").exit_code == 0
        info = json.loads(run("info", target, "--json").stdout)
        assert info["format_version"] == version and info["denoiser"] == (
            "noise model" if denoise_flag == "auto" else "none"
        )
        if denoise_flag == "auto":
            assert info["estimated_input_snr_db"] == pytest.approx(5, abs=2)
            estimate = pipeline.noise_estimate(noisy, RATE, EncodeOptions(denoise="auto"))
            assert info["snr_estimate"] == bitstream.snr_estimate(estimate.snr_db)  # the benchmarks' estimate
        else:
            assert info["estimated_input_snr_db"] is None


def test_an_empty_band_never_gives_a_negative_noise_power():
    """Decoded Vorbis/MP3 music has empty bands; the smoothing filter's rounding once made their noise
    power -1e-15, its square root NaN, and the written file unreadable."""
    noisy = with_noise(voiced(), 5.0)
    spectrum_ = np.fft.rfft(noisy, axis=0)
    spectrum_[len(spectrum_) // 2 :] = 0  # nothing above 4 kHz
    band_limited = np.fft.irfft(spectrum_, n=len(noisy), axis=0)
    estimate = estimate_of(band_limited)
    assert (estimate.power >= 0).all() and estimate.applied
    data = codec.encode(band_limited.astype(np.float32), RATE, iterations=30, denoise="auto")
    assert codec.read_header(io.BytesIO(data)).denoised == 1
    assert np.isfinite(codec.decode(data)[0]).all()


def test_a_diverging_noise_aware_fit_falls_back_to_the_plain_one(monkeypatch):
    noisy = with_noise(voiced(1.0), 5.0).astype(np.float32)
    plain = codec.encode(noisy, RATE, iterations=20, denoise="off")
    monkeypatch.setattr(denoise.NoiseAwareError, "__call__", lambda self, out, *_: out.sum() * float("nan"))
    data = codec.encode(noisy, RATE, iterations=20, denoise="auto")
    header = codec.read_header(io.BytesIO(data))
    assert header.denoised == 0 and header.input_snr_db is not None  # noted as not denoised
    refit, coded_plain = codec.decode(data)[0], codec.decode(plain)[0]
    assert np.isfinite(refit).all() and abs(lsd(noisy, refit) - lsd(noisy, coded_plain)) < 0.05  # the plain fit
