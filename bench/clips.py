"""Benchmark clips: every audio file under a folder, cut to an excerpt and labelled speech, music or digits."""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile

AUDIO_SUFFIXES = {".wav", ".flac", ".ogg", ".mp3", ".aiff"}
BUNDLED = Path(__file__).parent.parent / "tests" / "data"


@dataclass(frozen=True)
class Clip:
    name: str
    category: str  # "speech", "music", "digits" or "noisy" (noisy speech and its clean original)
    audio: np.ndarray  # (frames, channels) float32
    rate: int

    @property
    def seconds(self) -> float:
        return len(self.audio) / self.rate


def category(path: Path) -> str:
    """From the corpus folder (digits/, speech/, noisy/, music/) or the bundled file's name."""
    text = str(path).lower()
    for name in ("digits", "speech", "noisy"):
        if name.rstrip("s") in text:
            return name
    return "music"


def load_clips(folder: Path = BUNDLED, excerpt_s: float = 10.0, limit: int | None = None) -> list[Clip]:
    """The first `excerpt_s` seconds of each audio file under `folder`, sorted by path; at most `limit` files."""
    paths = sorted(p for p in folder.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES)[:limit]
    clips = []
    for path in paths:
        audio, rate = soundfile.read(path, dtype="float32", always_2d=True)
        clips.append(Clip(f"{path.parent.name}/{path.stem}", category(path), audio[: int(excerpt_s * rate)], rate))
    return clips
