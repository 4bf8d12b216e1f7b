"""The phase oracles decode through the decoder's own integration, and their islands are the integration's; a held
low band stays the original's, held coded phase stays as coded, the harmonic advance is a stationary partial's,
the pulse model is a pulse train's through a minimum-phase filter, and the harmonic phase a stationary partial's
lobe."""

import csv
import io
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
from scipy import signal

import codec
from bench.clips import Clip
from bench.phase_oracles import (
    PULSE_GRID,
    HarmonicAdvance,
    HarmonicPhase,
    Held,
    HeldPhase,
    LowBand,
    OracleStart,
    PulsePhase,
    TimeResiduals,
    centred_phase,
    entropy,
    fitted,
    harmonic_advance,
    harmonics,
    islands,
    lobe_phase,
    minimum_phase,
    original,
    pitch,
    pulse_phase,
    pulse_times,
    quantized_fraction,
    steps,
    window_transform,
)
from codec import bitstream, phase, spectrum
from codec.phase import griffin_lim


@pytest.fixture(scope="module")
def tone() -> tuple[Clip, bytes]:
    t = np.arange(8000) / 8000
    audio = (0.3 * np.sin(2 * np.pi * 440 * t) * (1 + np.sin(2 * np.pi * 3 * t)))[:, None].astype(np.float32)
    return Clip("speech/tone", "speech", audio, 8000), codec.encode(audio, 8000, bitrate=16000, iterations=10)


def decode(data: bytes, start: phase.Start) -> np.ndarray:
    with mock.patch.dict(phase.STARTS, {phase.PGHI: start}):
        return codec.decode(data)[0]


def test_random_anchors_without_differences_are_the_decoder_bit_for_bit(tone):
    clip, data = tone
    start = OracleStart("oracle", original(clip, bitstream.read_header(io.BytesIO(data))), random_anchors=True)
    np.testing.assert_array_equal(decode(data, start), codec.decode(data)[0])
    assert start.anchors and start.anchors[0] > 0


def test_exact_anchors_change_the_decode_and_are_counted(tone):
    clip, data = tone
    start = OracleStart("oracle", original(clip, bitstream.read_header(io.BytesIO(data))), bits=3)
    assert not np.array_equal(decode(data, start), codec.decode(data)[0])
    assert len(start.anchors) == bitstream.read_header(io.BytesIO(data)).segments


def test_islands_anchor_every_loud_cell_at_a_loud_cell_that_anchors_itself():
    rng = np.random.default_rng(0)
    g = rng.normal(0.0, 1.0, (40, 33))  # G of a 64-point STFT, 40 frames
    g[:, 10:20] = -30.0  # a quiet band, far under the tolerance
    anchor, loud = islands(g, 0, 40)
    starts = np.unique(anchor[loud])
    assert loud.any() and loud.reshape(-1)[starts].all()
    assert (anchor.reshape(-1)[starts] == starts).all()
    assert len(starts) >= 2  # the quiet band splits the loud cells into islands on either side


def test_time_residuals_count_what_they_send_and_move_the_decode(tone):
    clip, data = tone
    start = TimeResiduals("oracle", original(clip, bitstream.read_header(io.BytesIO(data))), nepers=5.0, bits=2)
    assert not np.array_equal(decode(data, start), codec.decode(data)[0])
    assert start.cells and start.cells[0] > 0


@pytest.mark.parametrize("iterations", [0, 4])
def test_a_low_band_up_to_nyquist_decodes_to_the_original(tone, iterations):
    clip, data = tone
    data = bitstream.rewrite_header(data, phase_iterations=iterations)
    start = LowBand("low band", original(clip, bitstream.read_header(io.BytesIO(data))), clip.rate / 2)
    with mock.patch.object(griffin_lim, "_step", start.hold):
        audio = decode(data, start)
    np.testing.assert_allclose(audio, clip.audio, atol=1e-5)


def decode_held(data: bytes, start: Held) -> list[tuple[np.ndarray, np.ndarray]]:
    """Decode `data` under `start`, its cells held through the iterations: each search's (start frames, result)."""
    searched, own = [], griffin_lim.refine

    def refine(x: np.ndarray, *args: object) -> np.ndarray:
        searched.append((x.copy(), own(x, *args)))
        return searched[-1][1]

    with mock.patch.object(griffin_lim, "_step", start.hold), mock.patch.object(griffin_lim, "refine", refine):
        decode(data, start)
    return searched


def test_the_iterations_hold_the_low_band_and_move_the_bins_above(tone):
    clip, data = tone
    start = LowBand("low band", original(clip, bitstream.read_header(io.BytesIO(data))), 1000.0)
    searched = decode_held(data, start)
    (before, after), (held, band) = searched[0], start.held[0]
    cut = band[0].sum()
    assert band[:, :cut].all() and not band[:, cut:].any()
    np.testing.assert_allclose(after[..., :cut], held[..., :cut], rtol=1e-5, atol=1e-6)
    assert not np.allclose(after[..., cut:], before[..., cut:])


def test_a_stereo_low_band_is_held_through_the_search_on_the_channels_sum():
    t = np.arange(8000) / 8000
    mono = 0.3 * np.sin(2 * np.pi * 440 * t) * (1 + np.sin(2 * np.pi * 3 * t))
    audio = np.stack([mono, 0.5 * mono], axis=1).astype(np.float32)
    clip = Clip("music/tone", "music", audio, 8000)
    data = codec.encode(audio, 8000, bitrate=32000, iterations=10)
    data = bitstream.rewrite_header(data, phase_iterations=4, phase_slack=0)  # slack 0: one search, on the sum
    start = LowBand("low band", original(clip, bitstream.read_header(io.BytesIO(data))), 1000.0)
    searched = decode_held(data, start)  # the search on the sum comes first (refine calls itself with it)
    (before, after), (held, band) = searched[0], start.held[0]
    cut = band[0].sum()
    assert len(before) == 1 and len(held) == 2 and band[:, :cut].all() and not band[:, cut:].any()
    np.testing.assert_allclose(after[0, :, :cut], held.sum(axis=0)[:, :cut], rtol=1e-5, atol=1e-6)
    assert not np.allclose(after[..., cut:], before[..., cut:])


def test_a_reliable_band_holds_its_phase_only_where_it_is_loud_enough(tone):
    clip, data = tone
    true = original(clip, bitstream.read_header(io.BytesIO(data)))
    quiet = replace(true, frames=true.frames * 0.5)  # half the decoded magnitudes, about
    everywhere, reliable = (
        LowBand("low band", quiet, 1000.0, magnitudes=False, reliable=share) for share in (0.0, 0.9)
    )
    decode_held(data, everywhere)
    decode_held(data, reliable)
    (x, all_cells), (y, loud_cells) = everywhere.held[0], reliable.held[0]
    assert loud_cells.sum() < all_cells.sum() and not (loud_cells & ~all_cells).any()
    kept = np.abs(quiet.segment(0, len(loud_cells)).sum(axis=0)) >= 0.9 * np.abs(y).sum(axis=0)
    np.testing.assert_array_equal(loud_cells, all_cells & kept)
    np.testing.assert_allclose(np.abs(x), np.abs(y), rtol=1e-5)  # phase only: the decoded magnitudes stay


def test_music_runs_the_transform_coder_s_bands_without_pesq(tmp_path):
    out = tmp_path / "music"
    command = [sys.executable, "-m", "bench.phase_oracles", "--quick", "--category", "music", "--out", str(out)]
    command += ["--mdct-splits", "1000", "--mdct-steps", "1", "--rungs", "as decoded", "low band from an MDCT"]
    subprocess.run(command, cwd=Path(__file__).parent.parent, check=True, capture_output=True)
    with open(out.with_suffix(".csv")) as f:
        rows = list(csv.DictReader(f))
    assert {r["category"] for r in rows} == {"music"}
    coded = [r for r in rows if "MDCT" in r["rung"]]
    assert len(coded) == 4 and all(float(r["side_kbps"]) > 0 and "step 1, to 1 kHz" in r["rung"] for r in coded)
    assert all(float(r["zimtohrli_mos"]) > 0 and not r["pesq_wb"] for r in rows)


def test_the_harmonic_advance_is_that_of_a_harmonic_signal_at_its_f0():
    rate, n_fft, f0 = 16000, 512, 200.0
    t = np.arange(rate) / rate
    audio = sum(np.cos(2 * np.pi * k * f0 * t + k) / k for k in range(1, 11))[:, None] * 0.1
    track = pitch(audio, n_fft, rate)[8:-8]  # frames wholly inside the signal
    assert np.all(np.abs(track - f0) < 0.5)
    frames = spectrum.analysis(audio, n_fft)[0, 8:-8]
    advance, voiced = harmonic_advance(np.full(len(frames) - 1, f0), frames.shape[1], n_fft, rate)
    peaks = np.rint(np.arange(1, 11) * f0 * n_fft / rate).astype(int)
    measured = np.angle(frames[1:, peaks] * np.conj(frames[:-1, peaks]))
    assert voiced[:, peaks].all()
    np.testing.assert_array_less(np.abs(np.angle(np.exp(1j * (measured - advance[:, peaks])))), 0.01)
    np.testing.assert_allclose(fitted(np.full(len(frames) - 1, 1.01 * f0), frames, n_fft, rate), f0, atol=0.05)
    np.testing.assert_array_equal(steps(np.array([0.0, 100.0, 110.0, 0.0])), [0.0, 105.0, 0.0])


def test_the_harmonic_advance_counts_its_f0s_and_moves_the_decode(tone):
    clip, data = tone
    true = original(clip, bitstream.read_header(io.BytesIO(data)))
    start = HarmonicAdvance("harmonic", true, nepers=5.0, bits=7)
    assert not np.array_equal(decode(data, start), decode(data, OracleStart("oracle", true)))
    assert start.voiced and start.voiced[0] > 0


def test_quick_mode_scores_every_rung_once(tmp_path):
    pytest.importorskip("pesq")
    out = tmp_path / "oracles"
    command = [sys.executable, "-m", "bench.phase_oracles", "--quick", "--out", str(out)]
    subprocess.run(command, cwd=Path(__file__).parent.parent, check=True, capture_output=True)
    with open(out.with_suffix(".csv")) as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len({r["rung"] for r in rows}) > 20
    assert all(float(r["zimtohrli_mos"]) > 0 and float(r["pesq_wb"]) > 0 for r in rows)
    assert all(r["side_kbps"] for r in rows if " bits" in r["rung"] or "Opus" in r["rung"])
    assert all(r["band_snr_db"] for r in rows if "Opus" in r["rung"])
    assert "Command:" in out.with_suffix(".md").read_text()


@pytest.mark.parametrize("bits", [None, 2, 4])
def test_held_phase_stays_the_original_in_b_bits_through_the_iterations(tone, bits):
    clip, data = tone
    true = original(clip, bitstream.read_header(io.BytesIO(data)))
    start = HeldPhase("held", true, nepers=7.0, bits=bits)
    searched = [after for _, after in decode_held(data, start)]
    _, sent = start.held[0]  # the last segment's
    assert sent.any() and start.cells[-1] == sent.sum()
    frames = len(sent)
    error = np.angle(
        searched[-1].sum(axis=0)[sent] * np.conj(true.segment(len(searched) - 1, frames).sum(axis=0)[sent])
    )
    bound = 1e-4 if bits is None else np.pi / 2**bits + 1e-4
    assert np.abs(error).max() <= bound
    if bits is not None:
        assert np.abs(error).max() > np.pi / 2 ** (bits + 2)  # it was quantized, not sent exact
        assert sum(start.codes).sum() == sum(start.cells) and 0 < entropy(sum(start.codes)) <= bits


def test_held_phase_in_0_bits_sends_nothing_and_keeps_the_decoder_s_own_start(tone):
    clip, data = tone
    start = HeldPhase("held", original(clip, bitstream.read_header(io.BytesIO(data))), nepers=5.0, bits=0)
    before, after = decode_held(data, start)[-1]
    held, sent = start.held[0]  # the last segment's
    assert sent.any() and entropy(sum(start.codes)) == 0  # one code: nothing to send
    own = np.angle(before.sum(axis=0)[sent])  # the decoder's own start, as the search began from it
    np.testing.assert_allclose(np.angle(after.sum(axis=0)[sent] * np.exp(-1j * own)), 0, atol=1e-4)
    np.testing.assert_allclose(held.sum(axis=0)[sent], before.sum(axis=0)[sent], rtol=1e-5, atol=1e-6)


def test_held_low_band_phase_sends_only_cells_under_the_split(tone):
    clip, data = tone
    true = original(clip, bitstream.read_header(io.BytesIO(data)))
    start = HeldPhase("held", true, nepers=7.0, split=1000.0)
    with mock.patch.object(griffin_lim, "_step", start.hold):
        decode(data, start)
    _, sent = start.held[0]
    cut = int(1000.0 * 2 * (sent.shape[1] - 1) / true.rate) + 1
    assert sent[:, :cut].any() and not sent[:, cut:].any()
    np.testing.assert_array_equal(entropy(np.array([5, 5, 0, 10])), 1.5)


def test_the_pulse_model_is_a_pulse_train_through_a_minimum_phase_filter():
    rate, n_fft, f0, first = 16000, 512, 125.0, 37
    pulses = np.zeros(rate)
    pulses[first :: int(rate / f0)] = 1.0
    pole = 0.95 * np.exp(2j * np.pi * 500 / rate)  # a resonance at 500 Hz: poles inside the circle, minimum phase
    a = np.poly([pole, np.conj(pole)]).real
    frames = spectrum.analysis(signal.lfilter([1.0], a, pulses)[:, None], n_fft)[0, 10:-10]  # wholly inside
    count, bins = frames.shape
    h = signal.freqz([1.0], a, worN=np.arange(bins) * 2 * np.pi / n_fft)[1]
    np.testing.assert_allclose(minimum_phase(np.log(np.abs(h))[None])[0], np.angle(h), atol=1e-6)
    hop = n_fft // spectrum.OVERLAP_FACTOR
    centres = (np.arange(count) + 10) * hop - (n_fft - hop) + (n_fft - 1) / 2  # in the audio's samples
    tau = np.mod(first - centres, rate / f0)  # samples from each frame's centre to the next pulse
    f0s = np.full(count, f0)
    k, peak = harmonics(f0s, bins, n_fft, rate)
    theta = np.broadcast_to(np.angle(h)[peak], frames.shape)
    g = np.log(np.abs(frames))
    cells = (g >= g.max() - 5.0) & (k >= 1)
    cells[:, int(1000 * n_fft / rate) + 1 :] = False
    assert cells.sum() > 5 * count
    error = np.angle(frames * np.exp(-1j * pulse_phase(theta, k, f0s, tau, rate)))[cells]
    np.testing.assert_array_less(np.abs(error), 1e-6)
    u = pulse_times(frames, theta, k, cells, f0s)
    np.testing.assert_array_less(np.abs(np.angle(np.exp(2j * np.pi * (u - tau * f0 / rate)))), 2 * np.pi / PULSE_GRID)
    for bits in (4, 6):
        coded = quantized_fraction(u, bits)
        assert set(np.unique(coded * 2**bits)) <= set(range(2**bits))
        np.testing.assert_array_less(np.abs(np.angle(np.exp(2j * np.pi * (coded - u)))), np.pi / 2**bits + 1e-9)


def test_the_pulse_rung_holds_its_model_under_the_split_and_counts_voiced_frames(tone):
    clip, data = tone
    true = original(clip, bitstream.read_header(io.BytesIO(data)))
    start = PulsePhase("pulse", true, 1000.0, 7.0, bits=5)
    searched = [after for _, after in decode_held(data, start)]
    held, sent = start.held[0]  # the last segment's
    cut = int(1000.0 * 2 * (sent.shape[1] - 1) / true.rate) + 1
    assert sum(start.voiced) > 0 and sent[:, :cut].any() and not sent[:, cut:].any()
    assert start.errors[-1].shape == (2, sent.sum())
    np.testing.assert_allclose(searched[-1].sum(axis=0)[sent], held.sum(axis=0)[sent], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("frequency", [203.1, 437.3, 1000.0, 3210.7])
def test_the_lobe_model_gives_a_stationary_sinusoid_s_stft_phase(frequency):
    rate, n_fft, phi = 16000, 512, 0.7
    t = np.arange(rate)
    frames = spectrum.analysis(0.3 * np.cos(2 * np.pi * frequency * t / rate + phi)[:, None], n_fft)[0, 8:-8]
    hop = n_fft // spectrum.OVERLAP_FACTOR
    centres = (np.arange(len(frames)) + 8) * hop - (n_fft - hop) + (n_fft - 1) / 2  # in the audio's samples
    at = np.full((len(frames), 1), round(frequency * n_fft / rate))  # the bin nearest the partial
    centred = centred_phase(frames, at, n_fft)
    error = np.angle(np.exp(1j * (centred[:, 0] - 2 * np.pi * frequency * centres / rate - phi)))
    np.testing.assert_array_less(np.abs(error), 1e-3)  # the partial's own phase at each frame's centre
    b = np.arange(frames.shape[1])
    nu = b - frequency * n_fft / rate
    main = np.abs(nu) < 2
    assert main.sum() >= 3
    model = lobe_phase(centred, nu[None], b[None], n_fft)
    np.testing.assert_array_less(np.abs(np.angle(frames * np.exp(-1j * model)))[:, main], 0.05)
    # the window's transform is the real, centred one: sin² is symmetric about (N - 1) / 2
    window, m = spectrum.window(n_fft), np.arange(n_fft) - (n_fft - 1) / 2
    measured = [np.sum(window * np.cos(2 * np.pi * v * m / n_fft)) for v in (0.0, 1.5, 2.5, 3.5)]
    np.testing.assert_allclose(window_transform(np.array([0.0, 1.5, 2.5, 3.5]), n_fft), measured, atol=1e-9)
    assert measured[2] < 0 < measured[3]  # the sidelobes alternate in sign, which lobe_phase() turns by pi


@pytest.fixture(scope="module")
def voice() -> tuple[Clip, bytes]:
    """A stationary harmonic signal: 200 Hz, ten harmonics falling as 1 / k, each its own phase."""
    rate, f0 = 16000, 200.0
    t = np.arange(rate) / rate
    audio = sum(np.cos(2 * np.pi * k * f0 * t + k * k) / k for k in range(1, 11))[:, None] * 0.1
    audio = audio.astype(np.float32)
    return Clip("speech/voice", "speech", audio, rate), codec.encode(audio, rate, bitrate=24000, iterations=300)


def test_the_exact_harmonic_phase_reproduces_a_harmonic_signal_s_lobes_and_is_held(voice):
    clip, data = voice
    true = original(clip, bitstream.read_header(io.BytesIO(data)))
    start = HarmonicPhase("harmonic", true, 1000.0, 3.0)
    searched = [after for _, after in decode_held(data, start)]
    held, cells = start.held[0]  # the last segment's
    cut = int(1000.0 * 2 * (cells.shape[1] - 1) / true.rate) + 1
    assert cells[:, :cut].any() and not cells[:, cut:].any()
    model, own = np.concatenate(start.errors, axis=1)
    assert sum(start.phases) == 5 * sum(start.voiced) and model.size > 2 * sum(start.phases)  # 5 lobes under 1 kHz
    np.testing.assert_array_less(np.percentile(model, 90), 0.05)  # the lobes within 3 Np: main lobes
    assert np.median(own) > 0.3  # the decoder's own start does not know them
    np.testing.assert_allclose(searched[-1].sum(axis=0)[cells], held.sum(axis=0)[cells], rtol=1e-5, atol=1e-6)
    peaks = HarmonicPhase("harmonic", true, 1000.0, 3.0, peaks=True)
    decode_held(data, peaks)
    assert sum(peaks.phases) == sum(np.concatenate(peaks.errors, axis=1).shape[1:])  # a peak bin a phase
    np.testing.assert_array_less(np.concatenate(peaks.errors, axis=1)[0], 1e-6)  # exact there


def test_the_harmonic_phase_side_kbps_counts_f0_and_phases_and_the_prediction_pays_on_a_steady_voice(voice):
    start = HarmonicPhase("harmonic", None, 1000.0, 7.0, bits=3)
    start.voiced[:] = [10]
    start.phases[:] = [30]
    start.predicted[:] = [np.array([20, 0, 0, 0, 0, 0, 0, 0])]  # predicted exactly: 0 bits
    start.unpredicted[:] = [np.array([5, 5, 0, 0, 0, 0, 0, 0])]  # 1 bit each
    np.testing.assert_allclose(start.kbps(0.5), ((10 * 7 + 30 * 3) / 500, (10 * 7 + 10) / 500))
    assert HarmonicPhase("harmonic", None, 1000.0, 7.0).kbps(0.5) == (None, None)  # exact: no bits to count
    clip, data = voice
    coded = HarmonicPhase("harmonic", original(clip, bitstream.read_header(io.BytesIO(data))), 1000.0, 5.0, bits=3)
    decode_held(data, coded)
    predicted, unpredicted = sum(coded.predicted), sum(coded.unpredicted)
    assert predicted.sum() + unpredicted.sum() == sum(coded.phases) > 0 and predicted.sum() > 4 * unpredicted.sum()
    assert entropy(predicted) < 1.5  # a steady partial advances by 2 pi k f0 hop / rate, give or take a step
    plain, entropy_coded = coded.kbps(clip.seconds)
    assert plain == pytest.approx((sum(coded.voiced) * 7 + sum(coded.phases) * 3) / clip.seconds / 1000)
    assert sum(coded.voiced) * 7 / clip.seconds / 1000 < entropy_coded < plain
