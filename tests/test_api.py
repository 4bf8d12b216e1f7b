"""The public surface: the mode table, EncodeOptions, the streaming reader and the thread setting."""

import dataclasses
import io
import os
import subprocess
import sys

import numpy as np
import pytest
import threadpoolctl
import torch
from conftest import VECTORS, load
from test_cli import run

import codec
from codec import modes, threads
from codec.cli import format_bitrate, parse_bitrate
from codec.encoder.segments import SegmentBatch
from codec.options import EncodeOptions

VALID = sorted(p for p in VECTORS.glob("*.ddc") if not p.name.startswith("bad_"))


@pytest.mark.parametrize("name", list(modes.MODES))
def test_each_mode_reads_back_as_itself_with_its_own_fit_defaults(name):
    digit, rate = load("digit_0_jackson.wav")
    options = EncodeOptions(bitrate=16_000, mode=name, iterations=5)
    assert options.fit_config(rows=1) == dataclasses.replace(modes.MODES[name].fit, iterations=5, device="auto")
    with codec.open(io.BytesIO(codec.encode(digit, rate, options))) as reader:
        assert reader.mode is modes.MODES[name]
        assert reader.mode.owns(reader.header.synthesis)
        assert [m.name for m in modes.MODES.values() if m.owns(reader.header.synthesis)] == [name]


def test_default_options_take_the_first_mode_and_its_fit():
    assert EncodeOptions().mode == modes.DEFAULT == next(iter(modes.MODES))
    heavy = 2 * 513  # stereo at 44.1 kHz
    assert EncodeOptions(device="cpu").fit_config(heavy) == modes.MODES[modes.DEFAULT].fit
    assert modes.MODES["spectral"].fit.lr != modes.MODES["waveform"].fit.lr  # so taking the wrong one shows


def test_light_networks_take_more_steps_and_effort_scales_them():
    fit = modes.MODES["spectral"].fit
    light, heavy = EncodeOptions().fit_config(fit.light_rows), EncodeOptions().fit_config(fit.light_rows + 1)
    assert light.iterations == fit.light_iterations > heavy.iterations == fit.iterations
    assert EncodeOptions(effort=2).fit_config(fit.light_rows + 1).iterations == 2 * fit.iterations
    assert EncodeOptions(effort=1e-6).fit_config(fit.light_rows).iterations == 1
    assert EncodeOptions(iterations=7).fit_config(fit.light_rows).iterations == 7


@pytest.mark.parametrize("changes", [{"effort": 0}, {"effort": -1}, {"effort": 65}, {"effort": 2, "iterations": 9}])
def test_bad_effort_is_refused_naming_it(changes):
    with pytest.raises(ValueError, match="effort"):
        EncodeOptions(**changes)


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("mode", "mdct", "mode must be one of spectral, waveform"),
        ("bitrate", 0, "bitrate must be positive"),
        ("seed", 2**32, "seed must be in [0, 4294967295]"),
        ("device", "tpu", "device must be one of auto, cpu, cuda"),
        ("iterations", 0, "iterations must be at least 1"),
        ("threads", 0, "threads must be a positive integer"),
        ("denoise", "maybe", "denoise must be one of auto, off"),
    ],
)
def test_bad_options_name_the_value(field, value, fragment):
    with pytest.raises(ValueError, match=fragment.replace("[", r"\[").replace("]", r"\]")):
        EncodeOptions(**{field: value})
    with pytest.raises(ValueError, match=field):
        codec.encode(np.zeros(800, np.float32), 8000, **{field: value})


def test_the_cli_lists_every_mode_and_takes_its_defaults_from_the_options():
    help_text = run("encode", "--help").stdout
    for name, mode in modes.MODES.items():
        assert name in help_text and str(mode.fit.iterations) in help_text
    assert parse_bitrate(format_bitrate(EncodeOptions().bitrate)) == EncodeOptions().bitrate
    assert "[default: spectral]" in help_text and "[default: 24k]" in help_text


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_streamed_blocks_concatenate_to_the_whole_decode(path):
    whole, rate = codec.decode(path.read_bytes())
    with codec.open(path) as reader:
        assert (reader.sample_rate, reader.channels, reader.frames) == (rate, *whole.shape[::-1])
        assert reader.duration == pytest.approx(whole.shape[0] / rate)
        blocks = list(reader)
        again = np.concatenate(list(reader))  # each iteration decodes afresh
    assert all(b.dtype == np.float32 and b.ndim == 2 and b.shape[1] == whole.shape[1] for b in blocks)
    assert np.array_equal(np.concatenate(blocks), whole) and np.array_equal(again, whole)
    with pytest.raises(ValueError, match="closed"):
        list(reader)


def test_a_file_of_many_segments_streams_in_many_blocks():
    with codec.open(VECTORS / "tone_spectral_3ch_11k.ddc") as reader:  # a block per spectral segment
        assert reader.header.segments == len(list(reader)) > 1


def test_a_corrupt_stream_fails_when_opened_not_midway():
    data = bytearray((VECTORS / "digit_spectral_8k.ddc").read_bytes())
    data[-3] ^= 0xFF
    with pytest.raises(codec.FormatError, match="payload CRC"):
        codec.open(io.BytesIO(bytes(data)))


@pytest.mark.parametrize("path", [p for p in VALID if "spectral" in p.stem], ids=lambda p: p.stem)
def test_decoding_with_two_threads_gives_the_same_bytes(path, monkeypatch):
    default, _ = codec.decode(path.read_bytes())
    two, _ = codec.decode(path.read_bytes(), threads=2)
    monkeypatch.setenv("DDCODEC_THREADS", "2")
    from_env, _ = codec.decode(path.read_bytes())
    assert np.array_equal(default, two) and np.array_equal(default, from_env)


def test_one_thread_unless_told_otherwise(monkeypatch):
    monkeypatch.delenv("DDCODEC_THREADS", raising=False)
    assert threads.resolve(None) == 1 and threads.resolve(3) == 3
    monkeypatch.setenv("DDCODEC_THREADS", "2")
    assert threads.resolve(None) == 2


def test_decoding_bounds_the_blas_pools_while_it_runs_and_restores_them():
    """A numpy build with threaded BLAS keeps its own count until a decode starts, holds the setting during it."""
    pools = [p for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas"]
    if not pools:
        pytest.skip("numpy has no BLAS pool threadpoolctl sees")
    seen = []
    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"), codec.open(VECTORS / "digit_spectral_8k.ddc") as r:
        for _ in r:
            seen.extend(p["num_threads"] for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas")
        after = [p["num_threads"] for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas"]
    assert seen and set(seen) == {1}
    assert set(after) == {2}


@pytest.mark.parametrize("asked", [None, "ACTIVE"])
def test_openmp_threads_wait_passively_unless_the_user_says_otherwise(asked):
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    if asked:
        env["OMP_WAIT_POLICY"] = asked
    code = "import os, codec; print(os.environ['OMP_WAIT_POLICY'])"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == (asked or "PASSIVE")


def test_the_thread_setting_reaches_torch_during_the_fit_and_is_restored():
    before, seen = torch.get_num_threads(), set()
    tone = np.sin(np.arange(4000) / 9).astype(np.float32)
    codec.encode_file(tone, 8000, io.BytesIO(), None, lambda *_: seen.add(torch.get_num_threads()), threads=1)
    assert seen == {1} and torch.get_num_threads() == before


def test_a_bad_thread_environment_is_one_error(monkeypatch, tmp_path):
    monkeypatch.setenv("DDCODEC_THREADS", "many")
    with pytest.raises(codec.SettingError, match="DDCODEC_THREADS='many'"):
        codec.decode((VECTORS / "digit_spectral_8k.ddc").read_bytes())
    result = run("decode", VECTORS / "digit_spectral_8k.ddc", tmp_path / "x.wav")
    assert result.exit_code == 1 and "DDCODEC_THREADS" in result.stderr and not (tmp_path / "x.wav").exists()
    result = run("encode", VECTORS / "digit_spectral_8k.wav", tmp_path / "x.ddc", "--iterations", "2")
    assert result.exit_code == 1 and "DDCODEC_THREADS" in result.stderr and "Traceback" not in result.output
    assert not (tmp_path / "x.ddc").exists()
    assert run("decode", VECTORS / "digit_spectral_8k.ddc", tmp_path / "x.wav", "--threads", "1", "-q").exit_code == 0


def test_device_auto_fits_on_cuda_only_where_torch_sees_one(monkeypatch):
    from codec.encoder.fit import resolve_device

    assert EncodeOptions().device == "auto"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == "cpu" and resolve_device("cuda") == "cuda"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto") == "cuda" and resolve_device("cpu") == "cpu"


def test_segment_gain_is_folded_into_the_output_layer_exactly():
    rng = np.random.default_rng(0)
    scale, offset = np.array([0.5, 0.0, 3.0]), np.array([1.0, -2.0, 0.25])
    batch = SegmentBatch(0, np.zeros((3, 2, 8), np.float32), np.ones((3, 8), np.float32), scale, offset)
    mix, bias, x = rng.standard_normal((3, 2, 4)), rng.standard_normal((3, 2)), rng.standard_normal((3, 4, 8))
    hidden = [rng.standard_normal((3, 4, 4))]
    *kept, out_mix, out_bias = batch.fold_gain([*hidden, mix.astype(np.float32), bias.astype(np.float32)], -1.0)
    assert kept[0] is hidden[0]
    expected = scale[:, None, None] * (mix @ x + bias[..., None]) + offset[:, None, None]
    expected[1] -= 1.0  # the silent segment's bias
    assert np.allclose(out_mix @ x + out_bias[..., None], expected, atol=1e-5)


def test_the_reader_repr_and_describe_name_the_mode():
    with codec.open(VECTORS / "digit_spectral_8k.ddc") as reader:
        assert "spectral (256-point STFT, random phase + 32 iterations)" in repr(reader)
        assert codec.describe(reader.header)["mode"] == "spectral (256-point STFT, random phase + 32 iterations)"
    with codec.open(VECTORS / "speech_spectral_pghi_16k.ddc") as reader:
        assert codec.describe(reader.header)["mode"] == "spectral (512-point STFT, pghi phase + 4 iterations)"
    with codec.open(VECTORS / "speech_spectral_slack_16k.ddc") as reader:
        assert (
            codec.describe(reader.header)["mode"]
            == "spectral (512-point STFT, pghi phase + 8 iterations with slack 10/64)"
        )
    with codec.open(VECTORS / "digit_mono_8k.ddc") as reader:
        assert codec.describe(reader.header)["mode"] == "waveform"


def test_an_encode_takes_the_steps_its_rows_and_effort_give():
    digit, rate = load("digit_0_jackson.wav")  # mono at 8 kHz: 129 rows, a light network
    totals: set[int] = set()
    codec.encode_file(digit, rate, io.BytesIO(), EncodeOptions(effort=0.005), lambda done, total, _: totals.add(total))
    assert totals == {round(modes.MODES["spectral"].fit.light_iterations * 0.005)}
