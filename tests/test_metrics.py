"""codec.metrics on signals whose scores are known in closed form, and `ddcodec eval`."""

import json

import numpy as np
import pytest
import soundfile
from conftest import DATA, VECTORS
from test_cli import one_line_error, run

from codec import metrics

RATE = 16000


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    audio, _ = soundfile.read(DATA / "speech_198-209-0000_2s.flac", dtype="float64", always_2d=True)
    return audio


def test_snr_and_si_sdr_of_a_scaled_copy(speech):
    assert metrics.snr_db(speech, 0.5 * speech) == pytest.approx(20 * np.log10(2), abs=1e-9)
    assert metrics.si_sdr_db(speech, 0.5 * speech) > 100  # scale-invariant: a scaled copy is perfect
    noise = np.random.default_rng(0).standard_normal(speech.shape) * np.sqrt(np.mean(speech**2))
    assert metrics.snr_db(speech, speech + noise) == pytest.approx(0.0, abs=0.1)


def test_lsd_is_zero_for_a_copy_and_log10_4_for_half_the_amplitude():
    noise = np.random.default_rng(1).standard_normal((RATE, 2))
    assert metrics.lsd(noise, noise) == 0.0
    assert metrics.lsd(noise, 0.5 * noise) == pytest.approx(np.log10(4), abs=1e-6)  # power ratio 4 in every bin


@pytest.mark.parametrize("delay", [-200, 0, 37, 1105])
def test_align_undoes_a_codec_delay(speech, delay):
    shifted = np.roll(speech, delay, axis=0)
    aligned = metrics.align(speech, shifted, RATE)
    inner = slice(abs(delay), len(speech) - abs(delay))
    assert aligned.shape == speech.shape and np.array_equal(aligned[inner], speech[inner])


def test_align_leaves_a_signal_with_no_waveform_to_line_up_where_it_is(speech):
    # A spectral decode keeps the magnitudes, not the waveform: here the same magnitudes with random phases.
    from codec import spectrum

    frames = spectrum.stft(np.concatenate([np.zeros(384), speech[:, 0], np.zeros(512)]), 512)
    angles = np.random.default_rng(3).uniform(0, 2 * np.pi, frames.shape)
    rebuilt = spectrum.istft(np.abs(frames) * np.exp(1j * angles), 512)[384 : 384 + len(speech), None]
    assert rebuilt.shape == speech.shape
    assert np.array_equal(metrics.align(speech, rebuilt, RATE), rebuilt)  # no spurious lag


def test_score_reports_every_metric_and_pesq_stoi_rank_noise(speech):
    pytest.importorskip("pystoi")
    noisy = speech + 0.05 * np.random.default_rng(2).standard_normal(speech.shape)
    clean, dirty = metrics.score(speech, speech, RATE), metrics.score(speech, noisy, RATE)
    assert set(clean) == {"snr_db", "si_sdr_db", "lsd", "pesq_wb", "stoi", "zimtohrli_mos", "visqol_mos"}
    assert clean["stoi"] > dirty["stoi"] and clean["lsd"] < dirty["lsd"] and clean["snr_db"] > dirty["snr_db"]
    assert metrics.score(speech, noisy, RATE, speech=False)["stoi"] is None
    assert clean["visqol_mos"] is None  # speech has PESQ; ViSQOL's audio mode is asked for music (or by eval)


def test_pesq_prefers_clean_speech(speech):
    pytest.importorskip("pesq")
    noisy = speech + 0.05 * np.random.default_rng(3).standard_normal(speech.shape)
    assert metrics.pesq_wb(speech, speech, RATE) > 4.0 > metrics.pesq_wb(speech, noisy, RATE)


def _music_hiss_and_dull(rate: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """2 s of two unlike channels (a decaying tone, noise), the same with hiss, and the same low-passed at 2 kHz."""
    from scipy import signal

    t = np.arange(2 * rate) / rate
    noise = 0.3 * np.random.default_rng(4).standard_normal(len(t))
    music = np.stack([np.sin(2 * np.pi * 440 * t) * np.exp(-2 * (t % 0.5)), noise], 1) * 0.3
    hiss = music + 0.01 * np.random.default_rng(5).standard_normal(music.shape)
    return music, hiss, signal.sosfilt(signal.butter(8, 2000, fs=rate, output="sos"), music, axis=0)


def test_zimtohrli_ranks_noise_and_a_low_pass_below_the_original():
    pytest.importorskip("zimtohrli")
    rate = 44_100  # not Zimtohrli's own rate: the metric resamples
    music, noisy, dull = _music_hiss_and_dull(rate)
    same, hiss, low = (metrics.zimtohrli_mos(music, x, rate) for x in (music, noisy, dull))
    assert same == pytest.approx(5.0) and same > hiss and same > low
    assert metrics.zimtohrli_mos(music[:1000], noisy[:1000], rate) is None  # too short to score safely


def test_visqol_ranks_noise_and_a_low_pass_below_the_original():
    pytest.importorskip("visqol")
    rate = 44_100  # not ViSQOL's own rate: the metric resamples
    music, noisy, dull = _music_hiss_and_dull(rate)
    same, hiss, low = (metrics.visqol_mos(music, x, rate) for x in (music, noisy, dull))
    assert same > 4.5 and same > hiss and same > low
    assert metrics.visqol_mos(music[: rate // 4], noisy[: rate // 4], rate) is None  # too short for its patches
    assert metrics.score(music, noisy, rate, speech=False)["visqol_mos"] == pytest.approx(hiss)


def test_bitrate_and_compression_ratio():
    assert metrics.bitrate_kbps(3000, 1.0) == 24.0
    assert metrics.compression_ratio(4000, 16000, 1) == 8.0


def test_eval_scores_a_ddc_against_its_source(tmp_path):
    result = run("eval", DATA / "digit_0_jackson.wav", VECTORS / "digit_mono_8k.ddc", "--json")
    assert result.exit_code == 0, result.output
    scores = json.loads(result.stdout)
    size, seconds = (
        (VECTORS / "digit_mono_8k.ddc").stat().st_size,
        soundfile.info(DATA / "digit_0_jackson.wav").duration,
    )
    assert scores["kbps"] == pytest.approx(size * 8 / seconds / 1000)
    assert 0 < scores["snr_db"] < 40 and scores["lsd"] > 0
    assert "snr_db" in run("eval", DATA / "digit_0_jackson.wav", VECTORS / "digit_mono_8k.ddc").stdout


def test_eval_refuses_mismatched_channels_in_one_line():
    one_line_error(run("eval", DATA / "digit_0_jackson.wav", DATA / "trumpet_1s.flac"), "channels")


def test_score_without_a_delay_search_scores_the_test_where_it_is(speech):
    delayed = np.concatenate([np.zeros((300, 1)), speech])[: len(speech)]
    searched = metrics.score(speech, delayed, RATE, speech=False)
    kept = metrics.score(speech, delayed, RATE, speech=False, search_delay=False)
    assert searched["snr_db"] > 20 and kept["snr_db"] < 5  # the search undoes the delay; without it, it stays
    short = metrics.score(speech, delayed[:-500], RATE, speech=False, search_delay=False)
    assert short["snr_db"] == pytest.approx(kept["snr_db"], abs=0.5)  # cut or padded to the reference's length
