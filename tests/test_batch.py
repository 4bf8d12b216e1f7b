"""Many files in one command: planning, skipping what is done, failures, interruption, the summary, the runners."""

import os
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile
from conftest import DATA
from test_cli import FAST, run

import codec
from codec.batch import plan, report, resume, work
from codec.batch import run as runners
from codec.batch.plan import Job
from codec.batch.work import DONE, FAILED, SKIPPED, Outcome
from codec.errors import DdcodecError
from codec.options import EncodeOptions

DIGIT = DATA / "digit_0_jackson.wav"


@pytest.fixture
def tree(tmp_path):
    """in/a.wav, in/sub/b.wav, in/sub/deeper/c.flac, and things a run must pass over: a text file, a hidden file."""
    root = tmp_path / "in"
    (root / "sub" / "deeper").mkdir(parents=True)
    shutil.copy(DIGIT, root / "a.wav")
    shutil.copy(DIGIT, root / "sub" / "b.wav")
    audio, rate = soundfile.read(DIGIT)
    soundfile.write(root / "sub" / "deeper" / "c.flac", audio, rate)
    (root / "notes.txt").write_text("not audio")
    shutil.copy(DIGIT, root / ".hidden.wav")
    return root


def names(root, pattern="*"):
    return sorted(str(p.relative_to(root)) for p in root.rglob(pattern) if p.is_file())


def test_plan_mirrors_the_tree_and_skips_what_is_not_audio(tree, tmp_path):
    out = tmp_path / "out"
    flat = plan.plan([str(tree)], str(out), suffix=".ddc", wanted=codec.audio_io.is_audio_name, recursive=False)
    assert flat == [Job(tree / "a.wav", out / "a.ddc")]
    deep = plan.plan([str(tree)], str(out), suffix=".ddc", wanted=codec.audio_io.is_audio_name, recursive=True)
    assert [job.target.relative_to(out).as_posix() for job in deep] == ["a.ddc", "sub/b.ddc", "sub/deeper/c.ddc"]
    named = plan.plan([str(tree / "notes.txt")], str(out), suffix=".ddc", wanted=lambda p: False, recursive=False)
    assert named == [Job(tree / "notes.txt", out / "notes.ddc")]  # named files are always tried


def test_plan_refuses_outputs_it_cannot_place(tree, tmp_path):
    audio = codec.audio_io.is_audio_name
    with pytest.raises(DdcodecError, match="would both be written to"):
        plan.plan([str(tree / "a.wav"), str(tree / "sub" / "b.wav"), str(tree / "a.wav")], str(tmp_path), suffix=".ddc",
                  wanted=audio, recursive=False)  # fmt: skip
    with pytest.raises(DdcodecError, match="is not a directory"):
        plan.plan([str(tree)], str(tree / "a.wav"), suffix=".ddc", wanted=audio, recursive=False)
    with pytest.raises(DdcodecError, match="stdin or stdout"):
        plan.plan(["-", str(tree)], str(tmp_path), suffix=".ddc", wanted=audio, recursive=False)
    with pytest.raises(DdcodecError, match="is one of the inputs"):
        plan.plan([str(tree / "a.wav")], str(tree), suffix=".wav", wanted=audio, recursive=False)


def test_is_many():
    assert plan.is_many(["a.wav", "b.wav"], "out") and plan.is_many(["a.wav"], "out/")
    assert plan.is_many([str(DATA)], "x.ddc") and not plan.is_many([str(DIGIT)], "x.ddc")
    assert not plan.is_many(["-"], "-")


def test_encode_and_decode_a_tree_then_a_rerun_skips_everything(tree, tmp_path):
    out, back = tmp_path / "out", tmp_path / "back"
    result = run("encode", tree, out, "--recursive", "--iterations", "20")
    assert result.exit_code == 0, result.output
    assert names(out) == ["a.ddc", "sub/b.ddc", "sub/deeper/c.ddc"]
    assert "encode: 3 of 3 files (3 encoded, 0 skipped, 0 failed)" in result.stderr
    assert "[3/3]" in result.stderr and "ratio 5." in result.stderr  # about 24 kbps against 8 kHz 16-bit PCM
    for ddc in out.rglob("*.ddc"):
        with codec.open(ddc) as reader:
            assert reader.sample_rate == 8000

    stamps = {p: p.stat().st_mtime_ns for p in out.rglob("*.ddc")}
    again = run("encode", tree, out, "-r", "--iterations", "20")
    assert again.exit_code == 0 and "(0 encoded, 3 skipped, 0 failed)" in again.stderr
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*.ddc")} == stamps

    decoded = run("decode", out, back, "-r", "--format", "flac")
    assert decoded.exit_code == 0, decoded.output
    assert names(back) == ["a.flac", "sub/b.flac", "sub/deeper/c.flac"]
    info = soundfile.info(back / "sub" / "b.flac")
    assert (info.samplerate, info.frames, info.subtype) == (8000, soundfile.info(DIGIT).frames, "PCM_16")
    assert "(0 decoded, 3 skipped" in run("decode", out, back, "-r", "--format", "flac").stderr


def test_a_bad_file_fails_alone_and_the_run_exits_1(tree, tmp_path):
    (tree / "broken.wav").write_bytes(b"RIFF but not really")
    out = tmp_path / "out"
    result = run("encode", tree, out, "--iterations", "20")
    assert result.exit_code == 1
    broken = str(tree / "broken.wav")
    [said] = [line for line in result.stderr.splitlines() if line.startswith("ddcodec: error: ")]
    assert said == f"ddcodec: error: cannot read audio from {broken}: Format not recognised."  # the path once
    assert f"failed: cannot read audio from {broken}: Format not recognised." in result.stderr
    assert names(out) == ["a.ddc"]  # the good file is done, the bad one left nothing behind


def test_an_existing_output_that_is_not_this_inputs_encoding_is_kept_unless_forced(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "digit_0_jackson.ddc").write_bytes(b"someone else's file")
    result = run("encode", DIGIT, out, *FAST)
    assert result.exit_code == 1 and "is not a complete encoding" in result.stderr
    assert (out / "digit_0_jackson.ddc").read_bytes() == b"someone else's file"
    assert run("encode", DIGIT, out, *FAST, "--force").exit_code == 0
    with codec.open(out / "digit_0_jackson.ddc") as reader:
        assert reader.sample_rate == 8000


def test_a_rerun_with_bandwidth_extension_skips_what_it_encoded(tmp_path):
    out = tmp_path / "out"
    first = run("encode", DIGIT, f"{out}/", "--bandwidth", "16000", *FAST)  # 8 kHz in, 16 kHz coded
    assert first.exit_code == 0, first.output
    with codec.open(out / "digit_0_jackson.ddc") as reader:
        assert reader.sample_rate == 16000
    again = run("encode", DIGIT, out, "--bandwidth", "16000", "--iterations", "20")
    assert again.exit_code == 0 and "(0 encoded, 1 skipped, 0 failed)" in again.stderr, again.stderr
    assert "with other settings" not in again.stderr


def test_a_rerun_with_other_settings_says_what_differs_and_force_redoes_it(tmp_path):
    out = tmp_path / "out"
    assert run("encode", DIGIT, f"{out}/", "-b", "24k", *FAST).exit_code == 0
    target = out / "digit_0_jackson.ddc"
    stamp = target.stat().st_mtime_ns
    other = run("encode", DIGIT, out, "-b", "6k", *FAST)  # quiet: the skip is said all the same
    assert other.exit_code == 0 and target.stat().st_mtime_ns == stamp
    lines = other.stderr.strip().splitlines()
    assert len(lines) == 2 and "skipped, encoded with other settings: made for another bitrate than 6k" in lines[0]
    assert lines[1] == (
        "ddcodec: warning: 1 output(s) already there were made with other settings and skipped (said above); "
        "--force redoes them"
    )
    redone = run("encode", DIGIT, out, "-b", "6k", "--force", *FAST)
    assert redone.exit_code == 0 and redone.stderr == "" and target.stat().st_mtime_ns != stamp
    assert run("encode", DIGIT, out, "-b", "6k", *FAST).stderr == ""  # the same settings: skipped quietly


def test_other_settings_names_each_setting_the_header_records(tmp_path):
    target = tmp_path / "a.ddc"
    assert run("encode", DIGIT, target, "-b", "16k", *FAST).exit_code == 0
    with target.open("rb") as fileobj:
        header = codec.read_header(fileobj)
    made = EncodeOptions(bitrate=16_000)
    assert resume.other_settings(header, made) == []
    assert resume.other_settings(header, EncodeOptions(bitrate=16_000, iterations=5)) == []  # not recorded
    differs = {
        "mode spectral, not waveform": EncodeOptions(bitrate=16_000, mode="waveform"),
        "seed 0, not 7": EncodeOptions(bitrate=16_000, seed=7),
        "another bitrate than 32k": EncodeOptions(bitrate=32_000),
        "4 phase iterations, not 0": EncodeOptions(bitrate=16_000, phase_iterations=0),
        "--denoise off, not auto": EncodeOptions(bitrate=16_000, denoise="auto"),
        "--denoise off, not speech": EncodeOptions(bitrate=16_000, denoise="speech"),
    }
    for phrase, options in differs.items():
        [found] = resume.other_settings(header, options)
        assert phrase in found, found


def test_a_full_band_kept_for_its_content_is_not_taken_for_other_settings(tmp_path):
    rate = 48_000
    t = np.arange(rate) / rate
    airy = 0.2 * np.sin(2 * np.pi * 220 * t) + 0.05 * np.sin(2 * np.pi * 11_000 * t)  # content above 8 kHz
    source, target = tmp_path / "airy.wav", tmp_path / "airy.ddc"
    soundfile.write(source, airy.astype(np.float32), rate)
    assert run("encode", source, target, "-b", "24k", *FAST).exit_code == 0
    with target.open("rb") as fileobj:
        header = codec.read_header(fileobj)
    assert header.rate_divisor == 1  # auto kept the full band
    assert resume.other_settings(header, EncodeOptions(bitrate=24_000)) == []


def test_an_output_older_than_its_source_is_not_taken_as_done(tmp_path):
    out = tmp_path / "out"
    source = tmp_path / "a.wav"
    shutil.copy(DIGIT, source)
    assert run("encode", source, f"{out}/", *FAST).exit_code == 0  # the slash: an output directory
    later = time.time() + 10
    os.utime(source, (later, later))  # the recording was edited after its encode
    result = run("encode", source, out, *FAST)
    assert result.exit_code == 1 and "is not a complete encoding" in result.stderr


def test_an_interrupted_run_leaves_no_partial_file_and_resumes(tree, tmp_path, monkeypatch):
    out = tmp_path / "out"
    real = work.encode_path
    calls = []

    def interrupted_on_the_second(source, target, *args, **kwargs):
        calls.append(source)
        if len(calls) == 2:
            with codec.audio_io.atomic_output(target, False) as fileobj:
                fileobj.write(b"half a file")
                raise KeyboardInterrupt
        return real(source, target, *args, **kwargs)

    monkeypatch.setattr(work, "encode_path", interrupted_on_the_second)
    result = run("encode", tree, out, "-r", *FAST)
    assert result.exit_code == 130 and "interrupted" in result.stderr
    assert names(out, ".*") == [] and names(out) == ["a.ddc"]
    monkeypatch.setattr(work, "encode_path", real)
    resumed = run("encode", tree, out, "-r", "--iterations", "20")
    assert resumed.exit_code == 0 and "(2 encoded, 1 skipped, 0 failed)" in resumed.stderr


def test_a_killed_runs_temporary_file_is_removed_by_the_rerun(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    stale = out / ".digit_0_jackson.ddc.k1ll3d.part"
    stale.write_bytes(b"left by kill -9")
    assert run("encode", DIGIT, out, *FAST).exit_code == 0
    assert not stale.exists() and (out / "digit_0_jackson.ddc").exists()


def test_jobs_run_in_separate_processes(tree, tmp_path):
    out = tmp_path / "out"
    result = run("encode", tree, out, "-r", "--jobs", "2", *FAST)
    assert result.exit_code == 0, result.output
    assert names(out) == ["a.ddc", "sub/b.ddc", "sub/deeper/c.ddc"]


def _dies_on_poison(job: Job) -> Outcome:
    if job.source.name == "poison.wav":
        os._exit(9)  # a worker killed by the OOM killer, say
    return Outcome(str(job.source), str(job.target), DONE)


def test_a_file_that_kills_its_worker_fails_alone(tmp_path):
    jobs = [Job(tmp_path / name, tmp_path / "out" / name) for name in ("a.wav", "poison.wav", "b.wav", "c.wav")]
    seen = []
    runners.processes(jobs, _dies_on_poison, seen.append, workers=2)
    states = {Path(outcome.source).name: outcome.state for outcome in seen}
    assert len(seen) == 4 and states == {"a.wav": DONE, "poison.wav": FAILED, "b.wav": DONE, "c.wav": DONE}
    assert "worker process stopped" in next(o.message for o in seen if o.state == FAILED)


def test_ray_runs_the_same_jobs(tree, tmp_path):
    pytest.importorskip("ray")
    out = tmp_path / "out"
    result = run("encode", tree, out, "-r", "--ray", *FAST)
    assert result.exit_code == 0, result.output
    assert names(out) == ["a.ddc", "sub/b.ddc", "sub/deeper/c.ddc"]


def test_without_ray_installed_ray_is_a_one_line_error(tree, tmp_path, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_ray(name, *args, **kwargs):
        if name == "ray":
            raise ImportError("No module named 'ray'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ray)
    result = run("encode", tree, tmp_path / "out", "--ray", *FAST)
    assert result.exit_code == 1 and "pip install -e '.[cluster]'" in result.stderr
    assert not (tmp_path / "out").exists()  # the run could not start, so it made nothing


def test_many_file_options_on_one_file_are_warned_about(tmp_path):
    result = run("encode", DIGIT, tmp_path / "one.ddc", "--ray", "--jobs", "2", *FAST)
    assert result.exit_code == 0, result.output
    assert result.stderr.strip().splitlines() == [
        "ddcodec: warning: --jobs, --ray ignored: they act on many files "
        "(several inputs, a directory, or an output directory), and this is one file"
    ]


def test_summary_totals_count_every_output_present():
    tally = report.Tally(files=4, seconds=30.0)
    tally.outcomes += [
        Outcome("a", "a.ddc", DONE, seconds=10.0, pcm_bytes=320_000, coded_bytes=30_000),
        Outcome("b", "b.ddc", SKIPPED, seconds=10.0, pcm_bytes=320_000, coded_bytes=34_000),
        Outcome("c", "c.ddc", FAILED, message="cannot read audio from c"),
        Outcome("d", "d.ddc", FAILED, message="unexpected ValueError at x.py:1: bad"),
    ]
    lines = tally.summary("encode")
    assert lines[0].startswith("encode: 4 of 4 files (1 encoded, 1 skipped, 2 failed)")
    assert lines[1] == "20.0 s of audio: 640.0 kB as 16-bit PCM, 64.0 kB as .ddc (ratio 10.0, 25.6 kbps)"
    assert lines[2:] == ["failed: cannot read audio from c", "failed: d: unexpected ValueError at x.py:1: bad"]
