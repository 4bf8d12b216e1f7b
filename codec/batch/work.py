"""One file: encode or decode it path to path, or skip it when a valid output is already there.

`encode_path` / `decode_path` are what the single-file CLI runs. `encode_job` / `decode_job`
wrap them for a many-file run: module-level functions of picklable arguments that never
raise for a bad file (they return a failed Outcome), so the same call runs in this process,
in a process pool or as a Ray task.
"""

import contextlib
import dataclasses
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import soundfile

import codec
from codec import modes, speech_denoise
from codec.audio_io import (
    atomic_output,
    audio_from_bytes,
    display_name,
    kept_depth,
    open_input,
    output_format,
    read_audio,
    read_audio_bytes,
    write_audio,
)
from codec.batch import resume
from codec.batch.plan import Job
from codec.bitstream import Header
from codec.encoder.checks import check_audio
from codec.errors import AudioError, DdcodecError
from codec.options import EncodeOptions
from codec.restore import Damage, restore
from codec.restore import Progress as RestoreProgress

if TYPE_CHECKING:
    from codec.encoder.pipeline import Progress

# A stage's name ("restoring", "fitting") -> the progress display it reports to while it runs (its callback, or None)
Display = Callable[[str], contextlib.AbstractContextManager["Progress | None"]]

# Networks narrower than a mono file of the same rate and length gets at this bitrate (the lowest README measures:
# speech PESQ-WB 2.42, spectral width 41 at 10 s) code little. Channels share the bits: 8 channels of 16 kHz audio
# at 24k got width 6 (issue 37: Zimtohrli 1.59, 2.5 dB quiet); stereo 48 kHz at 24k gets 41, at 12k 23.
NARROW_BITRATE = 6000


def _no_display(stage: str) -> contextlib.AbstractContextManager[None]:
    return contextlib.nullcontext()


Warn = Callable[[str], None]

DONE, SKIPPED, FAILED = "done", "skipped", "failed"
WRITE_FRAMES = 1 << 16  # restored audio is converted and written this many frames at a time


@dataclass(frozen=True)
class Outcome:
    """What became of one job. The sizes are the file's, for the run's totals."""

    source: str
    target: str
    state: str  # DONE, SKIPPED or FAILED
    seconds: float = 0.0  # audio duration
    pcm_bytes: int = 0  # the audio as 16-bit PCM
    coded_bytes: int = 0  # the .ddc
    message: str = ""  # a failure's one-line reason
    warnings: tuple[str, ...] = ()
    elapsed: float = 0.0
    other_settings: str = ""  # a skipped output made with other settings: how they differ (resume.other_settings)

    @property
    def kbps(self) -> float:
        return self.coded_bytes * 8 / self.seconds / 1000 if self.seconds else 0.0


def encode_path(
    source: str,
    target: str,
    options: EncodeOptions,
    *,
    force: bool = False,
    display: Display = _no_display,
    warn: Warn = lambda message: None,
    note: Warn = lambda message: None,
) -> Header:
    """Encode an audio file (or "-") to a .ddc path (or "-"); warns when the bitrate asked is not what comes out
    or the speech denoiser finds no speech, and notes what a restore found. `display` shows the progress of each
    stage, "restoring" and "denoising" (if asked) and "fitting"."""
    from codec.encoder.denoise import BEFORE_FIT  # torch stays out of decode-only use
    from codec.encoder.pipeline import encode_stream

    if options.device == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise DdcodecError("--device cuda given but no CUDA device is available")
    audio, sample_rate = read_audio(source)
    try:  # before anything is said of the audio, such as a clamped bitrate
        check_audio(audio, sample_rate)
    except AudioError as exc:
        raise AudioError(f"{display_name(source)}: {exc}") from None
    with atomic_output(target, force, protect=[source]) as fileobj:  # first: a target it must refuse fails at once
        if options.restore:  # here rather than in the encoder, to say what was found
            with display("restoring") as progress:
                audio, sample_rate, found = restore(audio, sample_rate, options.restore, progress)
            note(f"restored {found.summary()}")
            options = dataclasses.replace(options, restore=Damage())
        cleaned = None
        if options.denoise in BEFORE_FIT:  # here rather than in the encoder, to show its progress and warning
            with display("denoising") as progress:
                cleaned = BEFORE_FIT[options.denoise](audio, sample_rate, progress)
            if cleaned.warning:
                warn(cleaned.warning)
        chosen = modes.get(options.mode)
        ceiling = chosen.max_bitrate(sample_rate, audio.shape[1])
        asked = options.bitrate / 1000
        if options.bitrate > ceiling:
            where = f"{sample_rate} Hz x {audio.shape[1]} channel(s)"
            warn(f"{asked:g}k asked, more than {options.mode} mode spends on {where}; using {ceiling / 1000:g}k")
            asked = ceiling / 1000
        with display("fitting") as progress:
            header = encode_stream(audio, sample_rate, fileobj, options, progress, cleaned=cleaned)
    if (narrow := _too_narrow(header, chosen, asked * 1000)) is not None:
        warn(narrow)
    kbps = codec.describe(header)["bitrate_kbps"]
    if not 0.8 * asked <= kbps <= 1.2 * asked:
        warn(f"the file came out at {kbps:.1f} kbps for {asked:g}k asked: the rate control's smallest or "
             "largest network for this clip's length, rate and channels")  # fmt: skip
    return header


def _too_narrow(header: Header, mode: modes.Mode, bitrate: float) -> str | None:
    """A warning when the file's networks are narrower than NARROW_BITRATE gives mono audio of its rate and length,
    with the bitrate that would widen them to that (doubling from the one asked); None when they are not."""
    rate, frames, channels = header.coded_rate, header.coded_frames, header.channels
    floor = mode.shape(NARROW_BITRATE, rate, 1, frames).width
    if header.width >= floor:
        return None
    ceiling = mode.max_bitrate(rate, channels)
    wider = bitrate
    while wider < ceiling and mode.shape(wider, rate, channels, frames).width < floor:
        wider = min(2 * wider, ceiling)
    reached = mode.shape(wider, rate, channels, frames).width
    advice = f"--bitrate {wider / 1000:g}k gives width {reached}" if reached >= floor else "fewer channels would"
    return (f"{channels} channel(s) share networks of width {header.width}, narrower than mono gets at "
            f"{NARROW_BITRATE / 1000:g}k ({floor}): expect poor quality; {advice}")  # fmt: skip


def decode_path(
    source: str,
    target: str,
    *,
    threads: int | None = None,
    force: bool = False,
    progress: Callable[[int, int, float], None] | None = None,
) -> Header:
    """Decode a .ddc path (or "-") to 16-bit PCM audio in the format the target's extension names.

    progress: called after each block with (frames done, frames in all, seconds of audio done)."""
    fmt = output_format(target)
    with open_input(source) as fileobj, codec.open(fileobj, threads) as reader:
        with atomic_output(target, force, protect=[source]) as out:
            write_audio(out, _counted(reader, progress), reader.sample_rate, reader.channels, fmt)
        return reader.header


def restore_path(
    source: str,
    target: str,
    damage: Damage,
    *,
    speech: bool = False,
    force: bool = False,
    progress: RestoreProgress | None = None,
    warn: Warn = lambda message: None,
) -> list[str]:
    """Restore an audio file (or "-") to a file (or WAV on "-") in the format the target's extension names, as
    deep as the input (audio_io.kept_depth: 24-bit stays 24-bit, 16-bit and lossy inputs give 16-bit PCM);
    `speech`: then keep only its speech (codec.speech_denoise, warning where it finds none). Returns what was done,
    a phrase a step."""
    fmt = output_format(target)
    data = read_audio_bytes(source)
    audio, sample_rate = audio_from_bytes(data, display_name(source))
    done = []
    with atomic_output(target, force, protect=[source]) as out:  # first: a target it must refuse fails at once
        restored, rate = audio, sample_rate
        if damage:
            restored, rate, found = restore(audio, sample_rate, damage, progress)
            done.append(f"restored {found.summary()}")
        if speech:
            cleaned = speech_denoise.denoise(restored, rate, progress)
            restored = cleaned.audio
            done.append(cleaned.summary)
            if cleaned.warning:
                warn(cleaned.warning)
        blocks = (restored[i : i + WRITE_FRAMES] for i in range(0, len(restored), WRITE_FRAMES))
        write_audio(out, blocks, rate, restored.shape[1], fmt, kept_depth(data, fmt))
    return done


def _counted(reader: codec.Reader, progress: Callable[[int, int, float], None] | None) -> Iterator[np.ndarray]:
    done = 0
    for block in reader:
        yield block
        done += len(block)
        if progress is not None:
            progress(done, reader.frames, done / reader.sample_rate)


def encode_job(job: Job, options: EncodeOptions, force: bool) -> Outcome:
    """Encode one file of a run, unless its output is already a complete encoding of it (skipped in any settings,
    the Outcome saying which differ: --force redoes it)."""

    def attempt(warnings: list[str]) -> Outcome:
        if not force and (header := resume.encoded(job, options)) is not None:
            other = "; ".join(resume.other_settings(header, options))
            return dataclasses.replace(_outcome(job, SKIPPED, header), other_settings=other)
        header = encode_path(str(job.source), str(job.target), options, force=force, warn=warnings.append)
        return _outcome(job, DONE, header)

    return _guarded(job, attempt)


def decode_job(job: Job, threads: int | None, force: bool) -> Outcome:
    """Decode one file of a run, unless its output is already its complete decoding."""

    def attempt(warnings: list[str]) -> Outcome:
        if not force and (header := resume.decoded(job)) is not None:
            return _outcome(job, SKIPPED, header)
        return _outcome(job, DONE, decode_path(str(job.source), str(job.target), threads=threads, force=force))

    return _guarded(job, attempt)


def audio_seconds(path: Path) -> float:
    """An audio file's duration from its header, for the run's ETA; 0 when it cannot be read (it fails later)."""
    try:
        return soundfile.info(str(path)).duration
    except (OSError, RuntimeError):
        return 0.0


def ddc_seconds(path: Path) -> float:
    """As audio_seconds, for a .ddc."""
    try:
        with open_input(str(path)) as fileobj:
            return codec.read_header(fileobj).duration
    except DdcodecError:
        return 0.0


def failed(job: Job, message: str, elapsed: float = 0.0) -> Outcome:
    return Outcome(str(job.source), str(job.target), FAILED, message=message, elapsed=elapsed)


def one_line(exc: BaseException) -> str:
    """An unexpected exception as one line: its type, its message's first line, and where it was raised."""
    text = (str(exc).strip().splitlines() or [""])[0]
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" at {Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
    return f"unexpected {type(exc).__name__}{where}: {text}"


def _guarded(job: Job, attempt: Callable[[list[str]], Outcome]) -> Outcome:
    """Run one job's attempt: timed, with its warnings, and a failure as an Outcome rather than an exception."""
    began, warnings = time.perf_counter(), []
    try:
        job.target.parent.mkdir(parents=True, exist_ok=True)  # the mirrored tree, made as its files are
        _remove_stale_parts(job.target)
        outcome = attempt(warnings)
    except DdcodecError as exc:
        return failed(job, str(exc), time.perf_counter() - began)
    except OSError as exc:
        return failed(job, f"cannot write {exc.filename or job.target}: {exc.strerror}", time.perf_counter() - began)
    except Exception as exc:  # a bug must cost one file of a thousand, not the run
        return failed(job, one_line(exc), time.perf_counter() - began)
    return dataclasses.replace(outcome, warnings=tuple(warnings), elapsed=time.perf_counter() - began)


def _outcome(job: Job, state: str, header: Header) -> Outcome:
    return Outcome(
        str(job.source),
        str(job.target),
        state,
        seconds=header.duration,
        pcm_bytes=2 * header.samples,
        coded_bytes=header.size + header.payload_bytes,
    )


def _remove_stale_parts(target: Path) -> None:
    """A run killed outright (SIGKILL, power loss) leaves its hidden `.NAME.*.part` temporary: the rerun removes it."""
    for stale in target.parent.glob(f".{target.name}.*.part"):
        stale.unlink(missing_ok=True)
