"""The ddcodec command: verbs, stdio, refusals, one-line errors and no partial outputs."""

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import soundfile
from conftest import DATA, VECTORS
from typer.testing import CliRunner

import codec
from codec import cli
from codec.cli import app

runner = CliRunner()
FAST = ["--iterations", "20", "--quiet"]


def run(*args, **kwargs):
    return runner.invoke(app, [str(a) for a in args], **kwargs)


def one_line_error(result, fragment, code=1):
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ddcodec: error:") and fragment in lines[0], result.stderr
    assert "Traceback" not in result.output


def test_encode_info_decode(tmp_path):
    ddc, wav = tmp_path / "a.ddc", tmp_path / "a.wav"
    result = run("encode", DATA / "digit_0_jackson.wav", ddc, "--bitrate", "16k", *FAST)
    assert result.exit_code == 0, result.output
    info = json.loads(run("info", ddc, "--json").stdout)
    assert info["sample_rate"] == 8000 and info["channels"] == 1 and abs(info["bitrate_kbps"] / 16 - 1) < 0.1
    assert info["format_version"] == 8 and info["mode"].startswith("spectral")  # a gain, slack, nodes
    assert info["frequency_nodes"] == 59 and "59 frequency nodes at q 16" in info["mode"]  # 129 bins at 8 kHz
    assert info["gain"] != 0 and info["gain_db"] == round(20 * np.log10(2 ** (info["gain"] / 8)), 2)
    assert info["peak"] == int(np.ceil(np.abs(soundfile.read(DATA / "digit_0_jackson.wav")[0]).max() * 32768))
    waveform = tmp_path / "w.ddc"
    assert run("encode", DATA / "digit_0_jackson.wav", waveform, "-b", "16k", "-m", "waveform", *FAST).exit_code == 0
    info = json.loads(run("info", waveform, "--json").stdout)
    assert info["format_version"] == 1 and info["mode"] == "waveform" and info["synthesis"] == 0
    assert "sample_rate" in run("info", ddc).stdout
    assert run("decode", ddc, wav, "--quiet").exit_code == 0
    original, decoded = soundfile.info(DATA / "digit_0_jackson.wav"), soundfile.info(wav)
    assert (decoded.samplerate, decoded.channels, decoded.frames, decoded.subtype) == (
        original.samplerate,
        original.channels,
        original.frames,
        "PCM_16",
    )
    flac = tmp_path / "a.flac"
    assert run("decode", ddc, flac, "--quiet").exit_code == 0 and soundfile.info(flac).format == "FLAC"


def test_stdin_and_stdout(tmp_path):
    source = (DATA / "digit_0_jackson.wav").read_bytes()
    encoded = run("encode", "-", "-", *FAST, input=source)
    assert encoded.exit_code == 0 and encoded.stdout_bytes[:4] == b"\x89DDC"
    decoded = run("decode", "-", "-", "--quiet", input=encoded.stdout_bytes)
    assert decoded.exit_code == 0 and decoded.stdout_bytes[:4] == b"RIFF"


def test_existing_output_needs_force_and_input_is_never_overwritten(tmp_path):
    wav = tmp_path / "in.wav"
    shutil.copy(DATA / "digit_0_jackson.wav", wav)
    before = wav.read_bytes()
    out = tmp_path / "out.ddc"
    out.write_bytes(b"keep me")
    one_line_error(run("encode", wav, out, *FAST), "already exists")
    assert out.read_bytes() == b"keep me"
    one_line_error(run("encode", wav, wav, "--force", *FAST), "is named as audio", 2)
    unnamed = tmp_path / "in.data"  # audio all the same: libsndfile reads the content, not the name
    shutil.copy(wav, unnamed)
    one_line_error(run("encode", unnamed, unnamed, "--force", *FAST), "input file")
    assert wav.read_bytes() == before and unnamed.read_bytes() == before
    assert run("encode", wav, out, "--force", *FAST).exit_code == 0 and out.read_bytes()[:4] == b"\x89DDC"


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (lambda p: p.write_bytes(b"this is not audio"), "cannot read audio"),
        (lambda p: p.mkdir(), "need an output directory"),  # a directory is many files, not one .ddc
        (lambda p: None, "No such file or directory"),
        (lambda p: soundfile.write(p, np.array([[0.1], [np.nan]]), 8000, subtype="FLOAT"), "NaN"),
    ],
)
def test_bad_audio_input_fails_cleanly_without_output(tmp_path, make, fragment):
    source = tmp_path / "in.wav"
    make(source)
    code = 2 if source.is_dir() else 1
    one_line_error(run("encode", source, tmp_path / "out.ddc", *FAST), fragment, code)
    assert not (tmp_path / "out.ddc").exists()
    assert [p.name for p in tmp_path.iterdir()] == (["in.wav"] if source.exists() else [])


@pytest.mark.parametrize(
    ("vector", "fragment"),
    [
        ("bad_truncated_payload", "file ends inside the payload"),
        ("bad_version", "not supported"),
        ("bad_payload_crc", "CRC"),
        ("bad_magic", "not a .ddc"),
    ],
)
def test_corrupt_ddc_fails_cleanly_without_output(tmp_path, vector, fragment):
    out = tmp_path / "out.wav"
    one_line_error(run("decode", VECTORS / f"{vector}.ddc", out), fragment)
    one_line_error(run("info", VECTORS / f"{vector}.ddc"), fragment)
    assert list(tmp_path.iterdir()) == []


def test_usage_errors_exit_2(tmp_path):
    assert run("encode", DATA / "digit_0_jackson.wav", tmp_path / "x.ddc", "--bitrate", "fast").exit_code == 2
    assert run("encode", DATA / "digit_0_jackson.wav", tmp_path / "x.ddc", "--device", "tpu").exit_code == 2
    assert run("encode", DATA / "digit_0_jackson.wav", tmp_path / "x.ddc", "--mode", "mdct").exit_code == 2
    assert run("frobnicate").exit_code == 2
    both = run("encode", DATA / "digit_0_jackson.wav", tmp_path / "x.ddc", "--effort", "2", "--iterations", "5")
    assert both.exit_code == 2 and "not both" in both.output
    assert run("encode", DATA / "digit_0_jackson.wav", tmp_path / "x.ddc", "--effort", "0").exit_code == 2
    assert not (tmp_path / "x.ddc").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores directory permissions")
def test_read_only_output_folder(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    one_line_error(run("decode", VECTORS / "digit_mono_8k.ddc", folder / "x.wav"), "cannot write")


def test_an_output_named_as_another_kind_of_file_is_bad_usage(tmp_path):
    ddc, wav = VECTORS / "digit_mono_8k.ddc", DATA / "digit_0_jackson.wav"
    one_line_error(run("decode", ddc, tmp_path / "x.xyz"), "cannot write audio as '.xyz': name it .wav, .flac", 2)
    one_line_error(run("decode", ddc, tmp_path / "noext"), "noext has no extension to choose the audio format by", 2)
    one_line_error(run("decode", ddc, tmp_path / "x.ddc"), "x.ddc is named as a .ddc file, but the output is audio", 2)
    one_line_error(run("encode", wav, tmp_path / "oops.wav", *FAST), "oops.wav is named as audio, but encode writes", 2)
    one_line_error(run("encode", wav, wav, tmp_path / "one.ddc", *FAST), "one.ddc looks like a file name", 2)
    one_line_error(run("encode", DATA, tmp_path / "one.ddc", *FAST), "several inputs need an output directory", 2)
    one_line_error(run("encode", tmp_path / "none", tmp_path / "out/", *FAST), "none: No such file")
    empty = tmp_path / "empty"
    empty.mkdir()
    one_line_error(run("encode", empty, tmp_path / "out", *FAST), "no audio files in")
    assert list(tmp_path.iterdir()) == [empty]


def test_input_errors_name_the_file_and_come_first(tmp_path):
    empty, slow = tmp_path / "zero.wav", tmp_path / "slow.wav"
    soundfile.write(empty, np.zeros((0, 1)), 8000)
    one_line_error(run("encode", empty, tmp_path / "x.ddc", *FAST), f"{empty}: audio is empty")
    soundfile.write(slow, np.zeros((1000, 1)), 500)
    one_line_error(run("encode", slow, tmp_path / "x.ddc", "-b", "1M", *FAST), "sample_rate 500 is not supported")
    ddc = VECTORS / "digit_mono_8k.ddc"
    one_line_error(run("encode", ddc, tmp_path / "x.ddc", *FAST), "is a .ddc file, not audio (`ddcodec decode`")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["slow.wav", "zero.wav"]


def test_outputs_get_the_usual_permissions_not_mkstemps_0600(tmp_path):
    previous = os.umask(0o022)
    try:
        out = tmp_path / "a.wav"
        assert run("decode", VECTORS / "digit_mono_8k.ddc", out, "-q").exit_code == 0
        assert out.stat().st_mode & 0o777 == 0o644
        out.chmod(0o600)
        assert run("decode", VECTORS / "digit_mono_8k.ddc", out, "-q", "--force").exit_code == 0
        assert out.stat().st_mode & 0o777 == 0o644
    finally:
        os.umask(previous)


def test_eval_scores_a_ddc_as_the_pcm_decode_writes_and_reads_stdin(tmp_path):
    ddc, wav = VECTORS / "digit_spectral_8k.ddc", tmp_path / "d.wav"
    assert run("decode", ddc, wav, "-q").exit_code == 0
    reference = DATA / "digit_0_jackson.wav"
    of_ddc = json.loads(run("eval", reference, ddc, "--json").stdout)
    of_wav = json.loads(run("eval", reference, wav, "--json").stdout)
    from_stdin = json.loads(run("eval", reference, "-", "--json", input=ddc.read_bytes()).stdout)
    assert of_ddc == from_stdin
    assert {k: of_ddc[k] for k in ("snr_db", "lsd")} == {k: of_wav[k] for k in ("snr_db", "lsd")}
    info = json.loads(run("info", ddc, "--json").stdout)
    assert of_ddc["kbps"] == pytest.approx(info["bitrate_kbps"], rel=1e-3)  # TEST's size over TEST's duration
    assert of_wav["kbps"] is None and of_wav["compression_ratio_vs_pcm16"] is None  # a PCM file's size means nothing


def test_eval_of_a_clip_too_short_for_stoi_still_scores(tmp_path):
    clip = tmp_path / "short.wav"
    soundfile.write(clip, np.random.default_rng(0).standard_normal(100) * 0.1, 16000)
    result = run("eval", clip, clip, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["stoi"] is None


def test_missing_and_empty_inputs_say_what_is_wrong(tmp_path):
    one_line_error(run("encode", tmp_path / "none.wav", tmp_path / "x.ddc"), "No such file or directory")
    one_line_error(run("encode", "-", tmp_path / "x.ddc", input=b""), "stdin is empty")
    result = run("encode", "-", tmp_path / "x.ddc", input=b"not audio at all")
    one_line_error(result, "cannot read audio from stdin")
    assert "BytesIO" not in result.stderr
    one_line_error(run("eval", DATA / "digit_0_jackson.wav", tmp_path / "none.wav"), "No such file or directory")
    assert list(tmp_path.iterdir()) == []


def test_decoding_into_a_closed_pipe_fails():
    cli = "from codec.cli import main; main()"
    command = [sys.executable, "-c", cli, "decode", str(VECTORS / "trumpet_stereo_44k.ddc"), "-", "-q"]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    child.stdout.close()  # the reader is gone before anything is written
    _, stderr = child.communicate(timeout=120)
    assert child.returncode == 1 and stderr.decode().strip().splitlines() == [
        "ddcodec: error: stdout was closed before the output was written"
    ]


def test_version():
    result = run("--version")
    assert result.exit_code == 0 and result.stdout.startswith("ddcodec ") and "1, 2, 3" in result.stdout


def test_a_clamped_bitrate_and_a_missed_target_are_warned_about(tmp_path):
    result = run("encode", DATA / "digit_0_jackson.wav", tmp_path / "a.ddc", "-b", "1M", *FAST)
    assert result.exit_code == 0
    assert "warning: 1000k asked, more than spectral mode spends on 8000 Hz x 1 channel(s); using 32k" in (
        result.stderr
    )
    quiet = run("encode", DATA / "digit_0_jackson.wav", tmp_path / "b.ddc", "-b", "24k", *FAST)
    assert "warning" not in quiet.stderr


def test_encode_narrows_the_band_only_where_the_input_has_nothing_above_it(tmp_path):
    rate = 48_000
    t = np.arange(rate) / rate
    voice = 0.2 * np.sin(2 * np.pi * 220 * t) * (1 + np.sin(2 * np.pi * 3 * t))
    for name, audio, divisor in (("low", voice, 3), ("airy", voice + 0.05 * np.sin(2 * np.pi * 11_000 * t), 1)):
        source = tmp_path / f"{name}.wav"
        soundfile.write(source, audio.astype(np.float32), rate)
        result = run("encode", source, tmp_path / f"{name}.ddc", "-b", "24k", *FAST)
        assert result.exit_code == 0 and "warning" not in result.stderr, result.output
        assert codec.read_header(io.BytesIO((tmp_path / f"{name}.ddc").read_bytes())).rate_divisor == divisor


@pytest.mark.parametrize(("mode", "measure"), [("spectral", "fit LSD"), ("waveform", "fit SNR")])
def test_progress_without_a_terminal_is_plain_lines_with_the_modes_measure(tmp_path, mode, measure):
    result = run("encode", DATA / "digit_0_jackson.wav", tmp_path / "a.ddc", "-m", mode, "--iterations", "20")
    assert result.exit_code == 0
    lines = [line for line in result.stderr.splitlines() if line.startswith("fitting:")]
    assert lines and lines[-1].startswith(f"fitting: 100% (20/20 steps), {measure}")


def test_decode_reports_progress_on_long_work_and_nothing_on_short(tmp_path, monkeypatch):
    source = VECTORS / "tone_spectral_pghi_3ch_11k.ddc"  # 6 segments: 6 blocks
    short = run("decode", source, tmp_path / "short.wav")
    assert short.exit_code == 0 and "decoding:" not in short.stderr
    monkeypatch.setattr(cli, "PLAIN_EVERY_S", 0.0)  # as if every block took longer than a report's interval
    long = run("decode", source, tmp_path / "long.wav")
    lines = [line for line in long.stderr.splitlines() if line.startswith("decoding:")]
    assert long.exit_code == 0 and len(lines) >= 6
    assert lines[-1].startswith("decoding: 100% (22050/22050 frames), 2 s of audio")


def test_info_bytes_shows_where_the_bytes_go():
    result = run("info", VECTORS / "tone_spectral_3ch_11k.ddc", "--json", "--bytes")
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    budget, tensors = info["bytes"], info["bytes"]["tensors"]
    assert budget["header_bytes"] + budget["payload_bytes"] == info["file_bytes"]
    assert sum(t["raw_bytes"] for t in tensors.values()) == budget["raw_payload_bytes"]
    rows, width, segments = (
        3 * (info["synthesis"] and (1 << info["synthesis"]) // 2 + 1),
        info["width"],
        info["segments"],
    )
    assert tensors["W_out"]["raw_bytes"] == segments * rows * width * budget["code_bytes_per_weight"]
    assert list(tensors)[:4] == ["step_exponents", "W0", "g0", "b0"] and len(tensors) == 3 * info["depth"] + 3
    text = run("info", VECTORS / "tone_spectral_3ch_11k.ddc", "--bytes").stdout
    assert "bytes W_out" in text and "zstd alone" in text


def test_help_names_arguments_in_capitals_flags_without_types_and_the_exit_codes():
    top = run("--help", env={"COLUMNS": "200"})
    assert top.exit_code == 0 and "<bool>" not in top.stdout and "130 interrupted (Ctrl-C)" in top.stdout
    arguments = {"encode": "SOURCES... TARGET", "decode": "SOURCES... TARGET", "restore": "SOURCE TARGET",
                 "info": "SOURCE", "eval": "REFERENCE TEST"}  # fmt: skip
    for command in app.registered_commands:
        name = command.name or command.callback.__name__
        summary = command.callback.__doc__.splitlines()[0]
        assert summary.endswith(".") and f"{name:<8} {summary}" in top.stdout  # whole, not cut mid-sentence
        shown = run(name, "--help", env={"COLUMNS": "200"}).stdout
        usage = next(line for line in shown.splitlines() if "Usage:" in line)
        assert f"{name} [OPTIONS] {arguments[name]}" in usage and "{" not in usage
        assert "<bool>" not in shown and "130 interrupted (Ctrl-C)" in shown


def test_ctrl_c_exits_130_and_leaves_no_partial_output(tmp_path):
    out = tmp_path / "x.ddc"
    command = [sys.executable, "-c", "from codec.cli import main; main()", "encode", str(DATA / "digit_0_jackson.wav"),
               str(out), "--iterations", "1000000", "--quiet"]  # fmt: skip
    env = os.environ | {"DDCODEC_THREADS": "1", "PYTHONFAULTHANDLER": "1"}  # a hang shows where it hangs
    # SIGINT as a terminal gives it: a shell's background job (`cmd &`) starts its commands with SIGINT ignored
    child = subprocess.Popen(command, stderr=subprocess.PIPE, env=env, preexec_fn=_default_sigint)
    try:
        while not any(tmp_path.iterdir()):  # the temporary output: the encode has begun
            assert child.poll() is None, child.stderr.read()
            time.sleep(0.05)
        child.send_signal(signal.SIGINT)
        try:
            code = child.wait(timeout=120)
        except subprocess.TimeoutExpired:  # say where every thread was
            child.send_signal(signal.SIGABRT)
            pytest.fail("no exit 120 s after SIGINT:\n" + child.communicate(timeout=30)[1].decode()[-4000:])
        assert code == 130
    finally:
        child.kill()
    assert list(tmp_path.iterdir()) == []


def test_a_ctrl_c_just_after_the_temporary_file_is_made_leaves_nothing_behind(tmp_path, monkeypatch):
    """The window the Ctrl-C test above once hit: SIGINT as the temporary file comes into being."""
    import codec.audio_io

    made = codec.audio_io._open_new

    def interrupted(*args: object) -> int:
        fd = made(*args)
        signal.raise_signal(signal.SIGINT)  # to this thread: Python raises KeyboardInterrupt at its next chance
        return fd

    monkeypatch.setattr(codec.audio_io, "_open_new", interrupted)
    before = signal.signal(signal.SIGINT, signal.default_int_handler)  # as a terminal gives it (see above)
    try:
        with pytest.raises(KeyboardInterrupt), codec.audio_io.atomic_output(str(tmp_path / "x.ddc"), False):
            pass
    finally:
        signal.signal(signal.SIGINT, before)
    assert list(tmp_path.iterdir()) == []


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # Python installs KeyboardInterrupt over SIG_DFL, not over SIG_IGN


def test_eval_against_silence_says_why_there_are_no_scores(tmp_path):
    silence = tmp_path / "silence.wav"
    soundfile.write(silence, np.zeros(8000), 8000)
    result = run("eval", silence, silence)
    assert result.exit_code == 0 and result.stderr == ""  # no numpy warning leaks
    lines = dict(line.split(None, 1) for line in result.stdout.strip().splitlines())
    assert lines["snr_db"] == lines["pesq_wb"] == lines["visqol_mos"] == "n/a (silent reference)"
    assert lines["kbps"] == "n/a (TEST is PCM)"
    scores = json.loads(run("eval", silence, silence, "--json").stdout)  # strict JSON: null, never NaN or Infinity
    assert scores["snr_db"] is None and scores["visqol_mos"] is None


def test_eval_names_the_extra_a_missing_score_needs(monkeypatch):
    import importlib.util

    from codec import metrics

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "pesq" else real(name, *a))
    monkeypatch.setattr(metrics, "pesq_wb", lambda *args: None)  # as without pesq installed
    result = run("eval", DATA / "digit_0_jackson.wav", VECTORS / "digit_spectral_8k.ddc")
    assert result.exit_code == 0, result.output
    assert "pesq_wb                      n/a (pip install -e '.[eval]')" in result.stdout


def test_info_text_shows_what_fields_mean_not_unused_or_raw_codes():
    def fields(name):
        text = run("info", VECTORS / name).stdout
        return dict(line.split(None, 1) for line in text.strip().splitlines())

    waveform, spectral = fields("digit_mono_8k.ddc"), fields("digit_spectral_8k.ddc")
    assert waveform["mode"] == "waveform" and not {"phase", "phase_iterations", "phase_slack"} & set(waveform)
    stored = json.loads(run("info", VECTORS / "digit_spectral_8k.ddc", "--json").stdout)
    assert spectral["phase_iterations"] == str(stored["phase_iterations"]) and stored["snr_estimate"] == 255
    for shown in (waveform, spectral):
        assert "snr_estimate" not in shown and shown["estimated_input_snr_db"] == "not estimated"


def test_many_channels_at_a_low_bitrate_are_warned_about(tmp_path):
    t = np.arange(32_000) / 16_000
    source = tmp_path / "eight.wav"
    soundfile.write(source, np.stack([0.2 * np.sin(2 * np.pi * (200 + 50 * c) * t) for c in range(8)], axis=1), 16_000)
    result = run("encode", source, tmp_path / "eight.ddc", "--iterations", "5", "--quiet")
    assert result.exit_code == 0, result.output
    info = json.loads(run("info", tmp_path / "eight.ddc", "--json").stdout)
    [warning] = result.stderr.strip().splitlines()
    assert warning.startswith(f"ddcodec: warning: 8 channel(s) share networks of width {info['width']}, narrower")
    assert "expect poor quality; --bitrate " in warning
    wider = warning.split("--bitrate ")[1].split()[0]
    again = run("encode", source, tmp_path / "wider.ddc", "--iterations", "5", "--quiet", "--bitrate", wider)
    assert again.exit_code == 0 and again.stderr == ""  # the bitrate it names is enough
