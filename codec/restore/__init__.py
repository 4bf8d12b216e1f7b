"""Restoration (ddcodec restore, and encode's --declip/--gaps/--clicks/--mask/--bandwidth).

    restored, rate, report = restore(audio, sample_rate, Damage(gaps=True, clicks=True))

Damage says what to repair. The repairs run in the order of REPAIRS, each in a module of its own:
1. declip: clipped samples re-estimated beyond the clipping level (codec/restore/declip.py);
2. fill: the runs that a finder in FINDERS flags (codec/restore/detect.py: dropouts, clicks) or that the mask
   names, filled from their surroundings whatever found them (codec/restore/filler.py);
3. bandwidth: the band above the input's cutoff synthesized at a higher rate (codec/restore/bandwidth.py).
Numbers: bench/RESULTS.md, "Restoration".
"""

import functools
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from codec.errors import SettingError
from codec.restore import bandwidth, declip, detect
from codec.restore.filler import fill
from codec.restore.runs import Step, runs

Finder = Callable[[np.ndarray, int], np.ndarray]  # (audio (frames, C), sample rate) -> (frames,) bool, True: damaged
Progress = Callable[[int, int, float], None]  # (blocks done, blocks in all of one repair, seconds of audio reached)

MAX_BANDWIDTH_RATE = 384_000  # the highest rate a .ddc file holds
FULL_SCALE = 32767 / 32768  # the largest 16-bit sample

FINDERS: dict[str, Finder] = {"gaps": detect.gaps, "clicks": detect.clicks}


@dataclass(frozen=True)
class Damage:
    """What to restore: declipping, kinds of damage to find (names in FINDERS), stretches given as
    'START-END,...' seconds, and a sample rate to extend the band to (None: keep it)."""

    declip: bool = False
    gaps: bool = False
    clicks: bool = False
    mask: str | None = None
    bandwidth: int | None = None

    def __post_init__(self) -> None:
        if self.mask is not None:
            detect.mask_stretches(self.mask)
        if self.bandwidth is not None and not 1000 <= self.bandwidth <= MAX_BANDWIDTH_RATE:
            raise SettingError(
                f"--bandwidth must be a sample rate of 1000 to {MAX_BANDWIDTH_RATE} Hz, got {self.bandwidth}"
            )

    def __bool__(self) -> bool:
        return any(repair.wanted(self) for repair in REPAIRS.values())


@dataclass
class Report:
    """What a restore did to audio at `rate`: per kind, the stretches and samples it repaired; a rate change."""

    rate: int
    stretches: dict[str, int] = field(default_factory=dict)
    samples: dict[str, int] = field(default_factory=dict)
    rates: tuple[int, int] | None = None
    gain_db: float = 0.0  # applied at the end to keep restored peaks within full scale

    def summary(self) -> str:
        """One line."""
        ms = {name: count / self.rate * 1000 for name, count in self.samples.items()}
        parts = [f"{name}: {self.stretches[name]} ({ms[name]:.1f} ms)" for name in ms]
        if self.rates is not None:
            parts.append(f"band extended from {self.rates[0]} to {self.rates[1]} Hz sampling")
        if self.gain_db:
            parts.append(f"scaled by {self.gain_db:.1f} dB to keep the restored peaks within full scale")
        return ", ".join(parts) or "nothing found"


def _declip(
    audio: np.ndarray, sample_rate: int, damage: Damage, report: Report, step: Step | None
) -> tuple[np.ndarray, int]:
    found = declip.clipped(audio)
    report.stretches["clipped"] = sum(len(runs(found[:, c])) for c in range(found.shape[1]))
    report.samples["clipped"] = int(found.any(axis=1).sum())
    return declip.declip(audio, sample_rate, found, step), sample_rate


def _fill(
    audio: np.ndarray, sample_rate: int, damage: Damage, report: Report, step: Step | None
) -> tuple[np.ndarray, int]:
    found = {name: finder(audio, sample_rate) for name, finder in FINDERS.items() if getattr(damage, name)}
    if damage.mask is not None:
        found["mask"] = detect.parse_mask(damage.mask, sample_rate, len(audio))
    for name, flagged in found.items():
        report.stretches[name], report.samples[name] = len(runs(flagged)), int(flagged.sum())
    unknown = np.logical_or.reduce(list(found.values()))
    return (fill(audio, unknown, sample_rate, step) if unknown.any() else audio), sample_rate


def _extend(
    audio: np.ndarray, sample_rate: int, damage: Damage, report: Report, step: Step | None
) -> tuple[np.ndarray, int]:
    assert damage.bandwidth is not None
    report.rates = (sample_rate, damage.bandwidth)
    return bandwidth.extend(audio, sample_rate, damage.bandwidth), damage.bandwidth


@dataclass(frozen=True)
class Repair:
    wanted: Callable[[Damage], bool]
    # (audio, rate, damage, report, step: hears of each stretch repaired, or None) -> (audio, its sample rate)
    run: Callable[[np.ndarray, int, Damage, Report, Step | None], tuple[np.ndarray, int]]


REPAIRS: dict[str, Repair] = {
    "declip": Repair(lambda d: d.declip, _declip),
    "fill": Repair(lambda d: d.gaps or d.clicks or d.mask is not None, _fill),
    "bandwidth": Repair(lambda d: d.bandwidth is not None, _extend),
}


def _seconds(progress: Progress, sample_rate: int, done: int, total: int, at: int) -> None:
    progress(done, total, at / sample_rate)


def restore(
    audio: np.ndarray, sample_rate: int, damage: Damage, progress: Progress | None = None
) -> tuple[np.ndarray, int, Report]:
    """(frames, C) float audio repaired as `damage` asks: (audio, its sample rate, what was done). Audio where
    nothing is found comes back unchanged (the same values). Restored peaks can pass full scale (a file clipped
    at full scale declips beyond it); then the whole result is scaled down to FULL_SCALE, and the report says by
    how much, rather than letting 16-bit output clip them again. `progress` hears of each block (a window of
    clipped samples, a group of runs filled) repaired."""
    report = Report(sample_rate)
    for repair in REPAIRS.values():
        if repair.wanted(damage):
            step = None if progress is None else functools.partial(_seconds, progress, sample_rate)
            audio, sample_rate = repair.run(audio, sample_rate, damage, report, step)
    peak = max(float(np.max(audio, initial=0.0)), -float(np.min(audio, initial=0.0)))  # no |audio| copy
    if peak > FULL_SCALE:
        report.gain_db = 20 * float(np.log10(FULL_SCALE / peak))
        audio = (audio * (FULL_SCALE / peak)).astype(audio.dtype)
    return audio, sample_rate, report
