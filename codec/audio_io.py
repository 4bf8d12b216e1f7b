"""Audio files in and out: reading any format libsndfile knows, writing PCM atomically.

"-" means stdin/stdout. Outputs go to a temporary file beside the target and are
renamed into place only when complete, so a failure never leaves a partial file.
"""

import contextlib
import io
import os
import secrets
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np
import soundfile

from codec.bitstream import MAGIC
from codec.errors import AudioError, DdcodecError, UsageError

STDIO = "-"


def display_name(source: str) -> str:
    """How messages name an input: its path, or "stdin" for "-"."""
    return "stdin" if source == STDIO else source


def read_bytes(source: str) -> bytes:
    """A whole input file's bytes (stdin for "-"); DdcodecError naming the problem for missing, unreadable or empty."""
    if source == STDIO:
        data = sys.stdin.buffer.read()
    else:
        if Path(source).is_dir():
            raise DdcodecError(f"{source} is a directory")
        try:
            data = Path(source).read_bytes()
        except OSError as exc:
            raise DdcodecError(f"cannot open {source}: {exc.strerror}") from None
    if not data:
        raise DdcodecError(f"{display_name(source)} is empty")
    return data


def read_audio(source: str) -> tuple[np.ndarray, int]:
    """Read a whole audio file (or stdin for "-") as (frames, channels) float32 and its sample rate."""
    return audio_from_bytes(read_audio_bytes(source), display_name(source))


def read_audio_bytes(source: str) -> bytes:
    """read_bytes, its problems raised as AudioError."""
    try:
        return read_bytes(source)
    except DdcodecError as exc:
        raise AudioError(str(exc)) from None


def audio_from_bytes(data: bytes, name: str) -> tuple[np.ndarray, int]:
    """Decode an audio file held in memory (any format libsndfile reads)."""
    if data.startswith(MAGIC):
        raise AudioError(f"{name} is a .ddc file, not audio (`ddcodec decode` turns it into audio)")
    try:
        audio, rate = soundfile.read(io.BytesIO(data), dtype="float32", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError, TypeError) as exc:
        reason = str(exc).splitlines()[0].split(": ")[-1]  # libsndfile's words, without its object repr
        raise AudioError(f"cannot read audio from {name}: {reason}") from None
    return audio, rate


def is_pcm(data: bytes) -> bool:
    """Whether an audio file stores samples losslessly (WAV, FLAC, AIFF ...), so its size says nothing of a codec."""
    lossy = {"VORBIS", "OPUS", "MPEG_LAYER_I", "MPEG_LAYER_II", "MPEG_LAYER_III"}
    try:
        return soundfile.info(io.BytesIO(data)).subtype not in lossy
    except (soundfile.LibsndfileError, RuntimeError, TypeError):
        return False


DEPTHS = ("DOUBLE", "FLOAT", "PCM_32", "PCM_24", "PCM_16")  # deepest first


def kept_depth(data: bytes, fmt: str) -> str:
    """The sample format a repaired copy of an audio file is written in: the file's own where it is deeper than
    16-bit PCM, or the deepest under it that `fmt` stores (FLAC: 24 bits); PCM_16 for any other file."""
    subtype = soundfile.info(io.BytesIO(data)).subtype
    deeper = DEPTHS[DEPTHS.index(subtype) :] if subtype in DEPTHS else DEPTHS[-1:]
    return next(s for s in deeper if soundfile.check_format(fmt, s))


# Extensions of files a directory encode picks up: what libsndfile reads, and the usual aliases.
_NOT_AUDIO = {"raw", "mat4", "mat5"}  # headerless, or matrices that merely can hold audio
AUDIO_SUFFIXES = frozenset(
    {f".{name.lower()}" for name in soundfile.available_formats() if name.lower() not in _NOT_AUDIO}
    | {".aif", ".aifc", ".oga", ".opus", ".wave"}
)


def is_audio_name(path: Path) -> bool:
    """Whether a file's extension says it is audio that read_audio can open."""
    return path.suffix.lower() in AUDIO_SUFFIXES


def to_pcm16(samples: np.ndarray) -> np.ndarray:
    """The format's conversion to 16-bit PCM: round(x * 32768) clipped to [-32768, 32767]."""
    return np.clip(np.rint(np.asarray(samples, np.float64) * 32768.0), -32768, 32767).astype(np.int16)


def as_written(samples: np.ndarray) -> np.ndarray:
    """Float samples as `ddcodec decode` writes them: rounded to 16-bit PCM (to_pcm16), read back in [-1, 1)."""
    return to_pcm16(samples) / 32768.0


WRITTEN = "name it .wav, .flac, .aiff, .au, .w64, .rf64 or .caf"  # the formats an output's extension can choose


def output_format(target: str) -> str:
    """libsndfile format name for an output path from its extension (WAV for stdout); UsageError naming the
    extensions that work for any other name."""
    if target == STDIO:
        return "WAV"
    ext = Path(target).suffix.lstrip(".").upper()
    known = {"OGA": "OGG", "AIF": "AIFF"}.get(ext, ext)
    if known in soundfile.available_formats() and known not in ("RAW", "MP3", "OGG"):
        return known
    if not ext:
        raise UsageError(f"{target} has no extension to choose the audio format by: {WRITTEN}")
    if ext == "DDC":
        raise UsageError(f"{target} is named as a .ddc file, but the output is audio: {WRITTEN}")
    raise UsageError(f"cannot write audio as '.{ext.lower()}': {WRITTEN}")


@contextlib.contextmanager
def open_input(source: str) -> Iterator[BinaryIO]:
    """Open a .ddc path (or stdin for "-") for reading, turning OS errors into one-line DdcodecErrors."""
    if source == STDIO:
        yield sys.stdin.buffer
        return
    if Path(source).is_dir():
        raise DdcodecError(f"{source} is a directory")
    try:
        fileobj = open(source, "rb")  # noqa: SIM115 - closed below; OSError must be caught here only
    except OSError as exc:
        raise DdcodecError(f"cannot open {source}: {exc.strerror}") from None
    with fileobj:
        yield fileobj


@contextlib.contextmanager
def atomic_output(target: str, force: bool, protect: Iterable[str] = ()) -> Iterator[BinaryIO]:
    """A binary file to write `target` through: renamed into place on success, removed on failure.

    Refuses an existing target unless `force`, and always refuses a target that is one of `protect`.
    """
    if target == STDIO:
        buffer = io.BytesIO()
        yield buffer
        try:
            sys.stdout.buffer.write(buffer.getvalue())
            sys.stdout.buffer.flush()
        except BrokenPipeError:
            # The reader went away: say so, and keep Python from failing again on flush at exit.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise DdcodecError("stdout was closed before the output was written") from None
        return
    path = Path(target)
    if any(p != STDIO and path.exists() and path.resolve() == Path(p).resolve() for p in protect):
        raise DdcodecError(f"refusing to overwrite the input file {target}")
    if path.is_dir():
        raise DdcodecError(f"{target} is a directory")
    if path.exists() and not force:
        raise DdcodecError(f"{target} already exists (use --force to overwrite)")
    # Named before it is made, so that the guard below removes it whenever the run stops, even at a Ctrl-C that lands
    # between making it and the next line (a temporary file from tempfile.mkstemp was once left behind so). The pid
    # and 48 random bits keep the name this call's own.
    temp = path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(6)}.part"
    try:
        fd = _open_new(temp, target)
        with os.fdopen(fd, "wb") as fileobj:
            yield fileobj
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def _open_new(temp: Path, target: str) -> int:
    """A new file at `temp` for writing (never an existing one, nor through a link), with the permissions any new
    file gets (the umask applies); DdcodecError naming `target` if it cannot be made."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    try:
        return os.open(temp, flags, 0o666)
    except OSError as exc:
        raise DdcodecError(f"cannot write {target}: {exc.strerror}") from None


def write_audio(
    fileobj: BinaryIO,
    blocks: Iterable[np.ndarray],
    sample_rate: int,
    channels: int,
    fmt: str,
    subtype: str = "PCM_16",
) -> None:
    """Stream float blocks (frames, channels) in [-1, 1) to an audio file: 16-bit PCM by to_pcm16, other subtypes
    by libsndfile's conversion."""
    with soundfile.SoundFile(fileobj, "w", sample_rate, channels, subtype, format=fmt) as out:
        for block in blocks:
            out.write(to_pcm16(block) if subtype == "PCM_16" else np.asarray(block, np.float64))
