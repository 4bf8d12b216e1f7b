"""Audio files in and out: reading any format libsndfile knows, writing 16-bit PCM atomically.

"-" means stdin/stdout. Outputs go to a temporary file beside the target and are
renamed into place only when complete, so a failure never leaves a partial file.
"""

import contextlib
import io
import os
import sys
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np
import soundfile

from codec.errors import AudioError, DdcodecError

STDIO = "-"


def read_audio(source: str) -> tuple[np.ndarray, int]:
    """Read a whole audio file (or stdin for "-") as (frames, channels) float32 and its sample rate."""
    try:
        if source == STDIO:
            data, rate = soundfile.read(io.BytesIO(sys.stdin.buffer.read()), dtype="float32", always_2d=True)
        else:
            if Path(source).is_dir():
                raise AudioError(f"{source} is a directory, not an audio file")
            data, rate = soundfile.read(source, dtype="float32", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError, TypeError) as exc:
        raise AudioError(f"cannot read audio from {source}: {str(exc).splitlines()[0]}") from None
    return data, rate


def to_pcm16(samples: np.ndarray) -> np.ndarray:
    """The format's conversion to 16-bit PCM: round(x * 32768) clipped to [-32768, 32767]."""
    return np.clip(np.rint(np.asarray(samples, np.float64) * 32768.0), -32768, 32767).astype(np.int16)


def output_format(target: str) -> str:
    """libsndfile format name for an output path from its extension (WAV for stdout)."""
    if target == STDIO:
        return "WAV"
    ext = Path(target).suffix.lstrip(".").upper()
    formats = soundfile.available_formats()
    known = {"OGA": "OGG", "AIF": "AIFF"}.get(ext, ext)
    if known not in formats or known in ("RAW", "MP3", "OGG"):
        raise AudioError(f"cannot write audio as '.{ext.lower()}' (use .wav, .flac, .aiff, .au, .w64 ...)")
    return known


@contextlib.contextmanager
def atomic_output(target: str, force: bool, protect: Iterable[str] = ()) -> Iterator[BinaryIO]:
    """A binary file to write `target` through: renamed into place on success, removed on failure.

    Refuses an existing target unless `force`, and always refuses a target that is one of `protect`.
    """
    if target == STDIO:
        buffer = io.BytesIO()
        yield buffer
        sys.stdout.buffer.write(buffer.getvalue())
        sys.stdout.buffer.flush()
        return
    path = Path(target)
    if any(p != STDIO and path.exists() and path.resolve() == Path(p).resolve() for p in protect):
        raise DdcodecError(f"refusing to overwrite the input file {target}")
    if path.is_dir():
        raise DdcodecError(f"{target} is a directory")
    if path.exists() and not force:
        raise DdcodecError(f"{target} already exists (use --force to overwrite)")
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent or Path("."))
    except OSError as exc:
        raise DdcodecError(f"cannot write {target}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as fileobj:
            yield fileobj
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def write_pcm16(fileobj: BinaryIO, blocks: Iterable[np.ndarray], sample_rate: int, channels: int, fmt: str) -> None:
    """Stream float blocks (frames, channels) to an audio file as 16-bit PCM."""
    with soundfile.SoundFile(fileobj, "w", sample_rate, channels, "PCM_16", format=fmt) as out:
        for block in blocks:
            out.write(to_pcm16(block))
