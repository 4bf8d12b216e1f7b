"""Restoration: finding dropouts and clicks, filling them, and the restore command and encode options."""

import importlib

import numpy as np
import pytest
import soundfile
from conftest import load
from scipy import signal
from test_cli import FAST, one_line_error, run

import codec
from codec import cli
from codec.batch import work
from codec.errors import SettingError
from codec.restore import Damage, autoregressive, bandwidth, declip, detect, inpaint, restore
from codec.restore import filler as fill_module

RATE = 16000


def voice(seconds: float = 1.0, seed: int = 0) -> np.ndarray:
    """A vowel-like test signal: a 150 Hz harmonic series with a slow vibrato, plus a little noise, (frames, 1)."""
    t = np.arange(int(seconds * RATE)) / RATE
    phase = 2 * np.pi * 150 * t + 0.5 * np.sin(2 * np.pi * 3 * t)
    x = sum(np.sin(k * phase) / k for k in range(1, 12))
    x = 0.2 * x + 0.002 * np.random.default_rng(seed).standard_normal(len(t))
    return x[:, None]


def snr(reference: np.ndarray, test: np.ndarray) -> float:
    return float(10 * np.log10(np.sum(reference**2) / max(np.sum((reference - test) ** 2), 1e-30)))


def test_a_dropout_is_found_but_silence_at_the_ends_and_a_long_pause_are_not():
    x = voice(2.0)
    x[:800] = 0  # leading silence
    x[8000:8320] = 0  # a 20 ms dropout
    x[16000:24000] = 0  # a 0.5 s pause
    found = detect.gaps(x, RATE)
    assert detect.runs(found) == [(8000, 8320)]


def test_a_dropout_in_a_quiet_recording_is_found_where_speech_fades_into_it():
    x = voice(2.0) * 0.15  # about -35 dBFS
    x[7000:8000] *= 0.01  # a fade 40 dB down, to about -75 dBFS, where the dropout begins
    x[8000:8320] = 0
    assert detect.runs(detect.gaps(x, RATE)) == [(8000, 8320)]


def test_a_filled_dropout_is_close_to_what_was_lost_and_nothing_else_moves():
    clean = voice()
    damaged = clean.copy()
    damaged[6000:6320] = 0
    restored, rate, report = restore(damaged, RATE, Damage(gaps=True))
    assert rate == RATE
    assert report.stretches == {"gaps": 1} and report.samples == {"gaps": 320}
    assert snr(clean[6000:6320], restored[6000:6320]) > 10  # silence scores 0 dB
    keep = np.ones(len(clean), bool)
    keep[6000:6320] = False
    assert np.array_equal(restored[keep], damaged[keep])


def test_the_spectral_filler_fills_a_long_stretch_better_than_silence():
    clean = voice()
    unknown = np.zeros(len(clean), bool)
    unknown[4000:7200] = True  # 200 ms: beyond the autoregressive filler's reach
    filled = inpaint.fill(np.where(unknown[:, None], 0.0, clean), unknown, RATE)
    assert snr(clean[unknown], filled[unknown]) > 1  # silence: 0 dB; measured 2.4
    assert np.array_equal(filled[~unknown], clean[~unknown])


def test_autoregressive_interpolation_restores_a_short_run_of_a_tone():
    clean = voice()
    unknown = np.zeros(len(clean), bool)
    unknown[5000:5080] = True
    filled = autoregressive.janssen(np.where(unknown[:, None], 0.0, clean), unknown, RATE)
    assert snr(clean[unknown], filled[unknown]) > 20


def test_clicks_are_found_and_removed_and_clean_audio_keeps_its_samples():
    clean = voice(2.0)
    clicked = clean.copy()
    starts = np.arange(1000, 30000, 2500)
    for start in starts:
        clicked[start : start + 5, 0] += 0.6 * np.array([1, -1, 1, -1, 1])
    restored, _, report = restore(clicked, RATE, Damage(clicks=True))
    assert report.stretches["clicks"] >= len(starts)
    hit = np.zeros(len(clean), bool)
    for start in starts:
        hit[start : start + 5] = True
    assert snr(clean[hit], restored[hit]) > snr(clean[hit], clicked[hit]) + 20
    assert snr(clean, restored) > snr(clean, clicked) + 8
    untouched, _, report = restore(clean, RATE, Damage(clicks=True))
    assert report.samples["clicks"] < 0.01 * len(clean)
    assert snr(clean, untouched) > 40


def test_stereo_dropouts_are_filled_in_every_channel():
    clean = np.hstack([voice(), 0.5 * voice(seed=1)])
    damaged = clean.copy()
    damaged[7000:7160] = 0
    restored, _, _ = restore(damaged, RATE, Damage(gaps=True))
    for c in range(2):
        assert snr(clean[7000:7160, c], restored[7000:7160, c]) > 10


@pytest.mark.parametrize(
    ("text", "fragment"),
    [("1-0.5", "0 <= START < END"), ("a-b", "not START-END"), ("0.2", "not START-END"), ("5-6", "beyond")],
)
def test_a_bad_mask_names_the_stretch(text, fragment):
    with pytest.raises(SettingError, match=fragment):
        detect.parse_mask(text, RATE, RATE)


def test_a_malformed_mask_is_bad_usage_before_any_audio_is_read(tmp_path):
    with pytest.raises(SettingError, match="0 <= START < END"):
        Damage(mask="5-1")
    for command in (("restore", "missing.wav", tmp_path / "x.wav"), ("encode", "missing.wav", tmp_path / "x.ddc")):
        result = run(*command, "--mask", "5-1")
        assert result.exit_code == 2 and "0 <= START < END" in result.output
    assert list(tmp_path.iterdir()) == []


def test_a_mask_flags_the_seconds_given():
    mask = detect.parse_mask("0.1-0.2, 0.5-0.55", RATE, RATE)
    assert detect.runs(mask) == [(1600, 3200), (8000, 8800)]


def test_restore_command_writes_the_repaired_file_and_refuses_what_it_should(tmp_path):
    damaged = voice()
    damaged[5000:5320] = 0
    source, target = tmp_path / "in.wav", tmp_path / "out.wav"
    soundfile.write(source, damaged, RATE)
    result = run("restore", source, target, "--gaps")
    assert result.exit_code == 0, result.output
    assert "gaps: 1 (20.0 ms)" in result.output
    out, rate = soundfile.read(target, always_2d=True)
    assert rate == RATE and out.shape == damaged.shape and np.abs(out[5000:5320]).max() > 0.05
    one_line_error(run("restore", source, target, "--gaps"), "already exists")
    one_line_error(run("restore", source, source, "--gaps", "--force"), "refusing to overwrite the input")
    one_line_error(run("restore", source, tmp_path / "x.wav", "--mask", "9-10"), "beyond the audio")
    assert not (tmp_path / "x.wav").exists()
    assert run("restore", source, tmp_path / "y.wav").exit_code == 2  # nothing asked


@pytest.mark.parametrize(
    ("subtype", "suffix", "written"),
    [("PCM_24", "wav", "PCM_24"), ("FLOAT", "flac", "PCM_24"), ("FLOAT", "wav", "FLOAT"), ("PCM_16", "wav", "PCM_16")],
)
def test_restore_keeps_the_input_sample_depth_where_the_output_format_can(tmp_path, subtype, suffix, written):
    damaged = voice()
    damaged[5000:5320] = 0
    source, target = tmp_path / "in.wav", tmp_path / f"out.{suffix}"
    soundfile.write(source, damaged, RATE, subtype=subtype)
    assert run("restore", source, target, "--gaps").exit_code == 0
    assert soundfile.info(target).subtype == written
    stored, out = (soundfile.read(path, always_2d=True)[0] for path in (source, target))
    kept = np.ones(len(damaged), bool)
    kept[5000:5320] = False
    assert np.abs(out[kept] - stored[kept]).max() < 2**-22  # the undamaged samples as they came in, below 16 bits


def test_encode_with_gaps_codes_the_restored_audio(tmp_path, quick):
    audio, rate = load("digit_0_jackson.wav")
    start = len(audio) // 2
    damaged = audio.copy()
    damaged[start : start + 160] = 0
    restored = restore(damaged, rate, Damage(gaps=True))[0]
    data = codec.encode(damaged, rate, iterations=quick, restore=Damage(gaps=True))
    assert data == codec.encode(restored, rate, iterations=quick)
    source = tmp_path / "in.wav"
    soundfile.write(source, damaged, rate)
    result = run("encode", source, tmp_path / "out.ddc", "--gaps", "--iterations", "20")
    assert result.exit_code == 0 and "restored gaps: 1" in result.output, result.output
    assert "restored" not in run("encode", source, tmp_path / "q.ddc", "--gaps", *FAST).output


def test_encode_with_gaps_reports_the_restore_and_then_the_fit(tmp_path, monkeypatch):
    audio, rate = load("digit_0_jackson.wav")
    audio[len(audio) // 2 : len(audio) // 2 + 160] = 0
    source = tmp_path / "in.wav"
    soundfile.write(source, audio, rate)
    monkeypatch.setattr(cli, "PLAIN_EVERY_S", 0.0)  # as if every block took longer than a report's interval
    result = run("encode", source, tmp_path / "out.ddc", "--gaps", "--iterations", "20")
    lines = result.stderr.splitlines()
    restoring = [i for i, line in enumerate(lines) if line.startswith("restoring: 100% (1/1 blocks), at ")]
    fitting = [i for i, line in enumerate(lines) if line.startswith("fitting: 100% (20/20 steps)")]
    assert result.exit_code == 0 and restoring and fitting and restoring[0] < fitting[0], result.stderr


@pytest.mark.parametrize("command", ["restore", "encode"])
def test_a_target_that_exists_is_refused_before_the_restore_runs(tmp_path, monkeypatch, command):
    source, target = tmp_path / "in.wav", tmp_path / ("out.ddc" if command == "encode" else "out.wav")
    soundfile.write(source, load("digit_0_jackson.wav")[0], 8000)
    target.write_bytes(b"keep me")
    monkeypatch.setattr(work, "restore", lambda *args: pytest.fail("restored before refusing the target"))
    result = run(command, source, target, "--gaps")
    one_line_error(result, "already exists")
    assert target.read_bytes() == b"keep me"


def test_clipped_peaks_come_back_closer_to_the_original_and_unclipped_audio_is_left_alone():
    t = np.arange(RATE) / RATE
    clean = (
        0.5 * np.sin(2 * np.pi * 220 * t) + 0.3 * np.sin(2 * np.pi * 530 * t + 1) + 0.1 * np.sin(2 * np.pi * 1250 * t)
    )
    clean = clean[:, None]
    level = 0.6 * np.abs(clean).max()
    damaged = np.clip(clean, -level, level)
    hit = np.abs(clean) >= level
    assert declip.clipped(damaged)[:, 0].sum() == hit.sum()
    restored, _, report = restore(damaged, RATE, Damage(declip=True))
    assert report.samples["clipped"] == hit.sum()
    assert snr(clean[hit], restored[hit]) > snr(clean[hit], damaged[hit]) + 20  # measured: 12.4 -> 38.8 dB
    assert np.array_equal(restored[~hit], damaged[~hit]) and np.all(np.abs(restored[hit]) >= level)
    assert not declip.clipped(clean).any()  # a single peak sample is not clipping
    assert np.array_equal(restore(clean, RATE, Damage(declip=True))[0], clean)


def test_bandwidth_extension_fills_the_band_above_the_input_and_keeps_the_one_below():
    t = np.arange(RATE) / RATE
    wide = sum(np.sin(2 * np.pi * 200 * k * t + k) / k for k in range(1, 40))[:, None] * 0.1  # up to 7.8 kHz
    low = wide[::2]  # 8 kHz, aliasing aside: its band stops at 4 kHz
    restored, rate, report = restore(low, RATE // 2, Damage(bandwidth=RATE))
    assert rate == RATE and report.rates == (RATE // 2, RATE) and len(restored) == len(wide)
    spectrum = np.abs(np.fft.rfft(restored[:, 0]))
    freqs = np.fft.rfftfreq(len(restored), 1 / RATE)
    upper, lower = spectrum[(freqs > 4500) & (freqs < 7500)], spectrum[(freqs > 500) & (freqs < 3500)]
    assert upper.mean() > 0.01 * lower.mean()  # plain resampling leaves it empty
    plain = signal.resample_poly(low, 2, 1, axis=0)
    harmonics = np.arange(200, 3001, 200)  # 1 Hz bins: the known band's partials
    assert np.allclose(spectrum[harmonics], np.abs(np.fft.rfft(plain[:, 0]))[harmonics], rtol=0.05)


def test_a_bandwidth_below_the_input_rate_or_outside_the_format_is_refused():
    with pytest.raises(SettingError, match="below the input's rate"):
        restore(voice(), RATE, Damage(bandwidth=8000))
    with pytest.raises(SettingError, match="1000 to 384000"):
        Damage(bandwidth=500)
    assert run("restore", "in.wav", "out.wav", "--bandwidth", "999999").exit_code == 2


def test_peaks_declipped_beyond_full_scale_are_scaled_back_and_said_so():
    t = np.arange(RATE) / RATE
    loud = (1.4 * np.sin(2 * np.pi * 220 * t) + 0.2 * np.sin(2 * np.pi * 700 * t))[:, None]
    clipped = np.clip(loud, -1.0, 1.0)  # clipped at full scale, as most clipped files are
    restored, _, report = restore(clipped, RATE, Damage(declip=True))
    assert np.abs(restored).max() <= 32767 / 32768 + 1e-9 and report.gain_db < -1
    assert "scaled by" in report.summary()


def test_each_run_is_filled_by_the_filler_that_restores_known_audio_nearby_better(monkeypatch):
    clean = voice()
    unknown = np.zeros(len(clean), bool)
    unknown[4000:4160] = unknown[9000:9160] = True
    damaged = np.where(unknown[:, None], 0.0, clean)
    # Two fake fillers: one exact left of sample 6500 and silent right of it, the other the reverse.
    left = lambda x, mask, rate: np.where(mask[:, None] & (np.arange(len(x)) < 6500)[:, None], clean, x)  # noqa: E731
    right = lambda x, mask, rate: np.where(mask[:, None] & (np.arange(len(x)) >= 6500)[:, None], clean, x)  # noqa: E731
    monkeypatch.setattr(fill_module, "FILLERS", {"left": left, "right": right})
    monkeypatch.setattr(fill_module, "_reach", lambda rate: len(clean))  # the fakes index the whole clip
    filled = fill_module.fill(damaged, unknown, RATE)
    edge = round(fill_module.EDGE_S * RATE)  # a run's ends always lean on the first filler
    inside = unknown.copy()
    inside[
        [*range(4000, 4000 + edge), *range(4160 - edge, 4160), *range(9000, 9000 + edge), *range(9160 - edge, 9160)]
    ] = False
    assert np.array_equal(filled[~unknown], clean[~unknown])
    assert np.array_equal(filled[inside], clean[inside])  # each run went to the filler that was exact around it
    assert np.array_equal(filled[4000:4160], clean[4000:4160])  # the left run: the first filler's, ends and all


def test_fillers_with_opposite_errors_are_blended_into_the_lost_audio(monkeypatch):
    clean = voice()
    unknown = np.zeros(len(clean), bool)
    unknown[6000:6160] = True
    damaged = np.where(unknown[:, None], 0.0, clean)
    error = 0.05 * np.sin(np.arange(len(clean)) / 3)[:, None]
    over = lambda x, mask, rate: np.where(mask[:, None], clean + error, x)  # noqa: E731
    under = lambda x, mask, rate: np.where(mask[:, None], clean - error, x)  # noqa: E731
    monkeypatch.setattr(fill_module, "FILLERS", {"over": over, "under": under})
    monkeypatch.setattr(fill_module, "_reach", lambda rate: len(clean))  # the fakes index the whole clip
    filled = fill_module.fill(damaged, unknown, RATE)
    edge = round(fill_module.EDGE_S * RATE)
    inside = slice(6000 + edge, 6160 - edge)
    assert np.allclose(filled[inside], clean[inside])  # the even blend: neither filler alone is exact
    assert np.allclose(filled[6000], clean[6000] + error[6000], atol=1e-3)  # the ends lean on the first filler


def test_a_quieter_fill_with_less_squared_error_does_not_win_over_the_right_spectrum(monkeypatch):
    rng = np.random.default_rng(0)
    clean, other = 0.1 * rng.standard_normal((2, RATE, 1))  # white noise, and another take of it
    unknown = np.zeros(RATE, bool)
    unknown[6000:7600] = True  # 100 ms: silence empties whole LSD frames
    damaged = np.where(unknown[:, None], 0.0, clean)
    another = lambda x, mask, rate: np.where(mask[:, None], other, x)  # noqa: E731  the right spectrum, 2x the error
    silent = lambda x, mask, rate: np.where(mask[:, None], 0.0, x)  # noqa: E731  the least squared error
    monkeypatch.setattr(fill_module, "FILLERS", {"another": another, "silent": silent})
    monkeypatch.setattr(fill_module, "_reach", lambda rate: len(clean))  # the fakes index the whole clip
    filled = fill_module.fill(damaged, unknown, RATE)
    assert np.array_equal(filled[unknown], other[unknown])


# 20 ms (a blend), 150 ms (the spectral filler's alone); dB over the clean band at the joins, measured: 0.6 and 9.5
# with Janssen's ends, 34.8 and 22.9 without
@pytest.mark.parametrize(("length", "within_db"), [(320, 6.0), (2400, 12.0)])
@pytest.mark.parametrize("edge_s", [0.0, None])
def test_a_spectral_fill_meets_the_known_samples_without_a_splash_of_high_frequencies(
    monkeypatch, edge_s, length, within_db
):
    """Low-passed noise with a dropout filled by the spectral filler: its ends, left to it (EDGE_S = 0), put
    energy above the signal's band at the joins; Janssen's fill there keeps that band nearly as empty."""
    rng = np.random.default_rng(1)
    clean = signal.lfilter(*signal.butter(8, 3000, fs=RATE), 0.2 * rng.standard_normal(RATE))[:, None]
    unknown = np.zeros(RATE, bool)
    unknown[8000 : 8000 + length] = True
    monkeypatch.setattr(fill_module, "BLENDS", (0.0,))  # a short run: the spectral filler's alone, but for the ends
    if edge_s is not None:
        monkeypatch.setattr(fill_module, "EDGE_S", edge_s)
    filled = fill_module.fill(np.where(unknown[:, None], 0.0, clean), unknown, RATE)
    high = signal.butter(8, 5000, "high", fs=RATE)
    joins = np.r_[7900:8100, 7900 + length : 8100 + length]
    power = lambda x: 10 * np.log10(np.mean(signal.filtfilt(*high, x[:, 0])[joins] ** 2))  # noqa: E731
    if edge_s is None:
        assert power(filled) < power(clean) + within_db
    else:
        assert power(filled) > power(clean) + 20


def test_an_attack_is_not_a_click_but_the_same_burst_in_steady_sound_is():
    rng = np.random.default_rng(1)
    t = np.arange(RATE) / RATE
    burst = np.zeros(RATE)
    burst[8000:8008] = 0.8 * np.hanning(10)[1:-1] * rng.choice([-1, 1], 8)
    quiet = 0.002 * rng.standard_normal(RATE)
    ring = np.where(t >= 0.5, 0.3 * np.sin(2 * np.pi * 2500 * t) * np.exp(-(t - 0.5) / 0.03), 0.0)
    hit = quiet + burst + ring  # a castanet: a burst that starts a louder, decaying sound
    steady = 0.05 * np.sin(2 * np.pi * 300 * t) + quiet + burst
    assert not detect.clicks(hit[:, None], RATE)[7990:8020].any()
    assert detect.clicks(steady[:, None], RATE)[8000:8008].all()


def test_filling_block_by_block_equals_filling_the_whole_file(monkeypatch):
    clean = np.concatenate([voice(seed=k) for k in range(4)])  # 4 s
    unknown = np.zeros(len(clean), bool)
    for start in (3000, 9000, 21000, 40000, 52000):
        unknown[start : start + 320] = True  # 20 ms dropouts
    unknown[30000:33200] = True  # 200 ms: the spectral filler's
    damaged = np.where(unknown[:, None], 0.0, clean).astype(np.float32)
    blocks = fill_module.fill(damaged, unknown, RATE)  # 10 s blocks: one
    monkeypatch.setattr(fill_module, "BLOCK_S", 0.5)
    assert len(fill_module._groups(detect.runs(unknown), 0.5 * RATE)) == 5
    assert blocks.dtype == np.float32
    assert np.allclose(fill_module.fill(damaged, unknown, RATE), blocks, atol=1e-7)


def test_finding_clicks_chunk_by_chunk_equals_finding_them_in_one(monkeypatch):
    rng = np.random.default_rng(3)
    x = np.concatenate([voice(seed=k) for k in range(3)])
    x = np.repeat(x, 2, axis=1)
    for start in rng.integers(1000, len(x) - 1000, 12):
        x[start : start + 6, start % 2] += 0.5 * rng.choice([-1, 1], 6)
    whole = detect.clicks(x, RATE)
    monkeypatch.setattr(detect, "CLICK_CHUNK_BLOCKS", 3)  # 150 ms chunks
    assert whole.sum() > 12 * 6 * 0.8 and np.array_equal(detect.clicks(x, RATE), whole)


def test_dense_damage_is_repaired_in_bounded_windows_each_writing_only_its_own(monkeypatch):
    runs_module = importlib.import_module("codec.restore.runs")
    x = voice(2.0)
    damaged = np.zeros(len(x), bool)
    damaged[100::200] = damaged[101::200] = True  # clipped peaks, say: every 12.5 ms for 2 s
    lengths = []

    def repair(window: np.ndarray, mask: np.ndarray) -> np.ndarray:
        lengths.append(window.shape[1])
        return np.where(mask, 1.0, window)

    monkeypatch.setattr(runs_module, "MAX_WINDOW_FFTS", 8)
    out = runs_module.around(x, damaged, 512, repair)
    assert np.array_equal(out[damaged], np.ones((damaged.sum(), 1))) and np.array_equal(out[~damaged], x[~damaged])
    assert len(lengths) > 4 and max(lengths) <= 13 * 512  # 8 FFT lengths of damage and 2 either side, in hops


def test_restore_reports_progress_to_the_end_of_each_repair():
    x = np.concatenate([voice(seed=k) for k in range(3)])
    x[5000:5320] = x[40000:40320] = 0
    x = np.clip(x, -0.9 * np.abs(x).max(), 0.9 * np.abs(x).max())
    heard = []
    restore(x, RATE, Damage(declip=True, gaps=True), lambda done, total, at: heard.append((done, total, at)))
    assert heard and all(0 < done <= total and 0 < at <= 3.0 for done, total, at in heard)
    assert sum(done == total for done, total, _ in heard) >= 2  # declipping's windows, then the fill's blocks


def test_a_tone_fading_in_after_digital_silence_has_no_clicks():
    t = np.arange(RATE) / RATE
    x = np.zeros(2 * RATE)
    x[RATE:] = 0.3 * np.sin(2 * np.pi * 440 * t) * np.minimum(1, t / 0.01)  # a tone predicts itself: scale ~ 0
    assert not detect.clicks(x[:, None], RATE).any()


def test_bandwidth_extension_in_chunks_equals_it_in_one(monkeypatch):
    x = np.random.default_rng(0).standard_normal((20000, 2)) * 0.05
    whole = bandwidth.extend(x, 8000, 16000)
    monkeypatch.setattr(bandwidth, "CHUNK_FRAMES", 7)
    assert np.allclose(bandwidth.extend(x, 8000, 16000), whole, rtol=0, atol=1e-12)
