"""What a many-file run says: a line per file, a bar over files with ETA, and the closing summary.

Progress counts seconds of audio, not files, so the ETA holds when file lengths differ. On a
terminal a rich bar stays under the per-file lines; elsewhere (logs of batch jobs) each
per-file line carries the ETA itself.
"""

import contextlib
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from codec.batch.work import DONE, FAILED, SKIPPED, Outcome

Say = Callable[[str], None]


@dataclass
class Tally:
    """The outcomes of a run so far."""

    files: int  # planned
    seconds: float  # planned audio, for the ETA; 0 for files whose length could not be read
    began: float = field(default_factory=time.perf_counter)
    outcomes: list[Outcome] = field(default_factory=list)

    def count(self, state: str) -> int:
        return sum(outcome.state == state for outcome in self.outcomes)

    @property
    def other_settings(self) -> int:
        """Outputs skipped though made with other settings than this run's."""
        return sum(bool(outcome.other_settings) for outcome in self.outcomes)

    @property
    def failures(self) -> list[Outcome]:
        return [outcome for outcome in self.outcomes if outcome.state == FAILED]

    def eta_s(self) -> float | None:
        """Seconds left at the rate of the files done so far (skipped files took no time, so they do not count)."""
        worked = [o for o in self.outcomes if o.state == DONE]
        rate = sum(o.seconds for o in worked) / (time.perf_counter() - self.began) if worked else 0.0
        left = self.seconds - sum(o.seconds for o in self.outcomes)
        return max(left, 0.0) / rate if rate > 0 else None

    def line(self, outcome: Outcome, verb: str) -> str:
        """One finished file, as the run reports it."""
        where = f"[{len(self.outcomes)}/{self.files}] {outcome.source} -> {outcome.target}"
        if outcome.state == SKIPPED and outcome.other_settings:
            return f"{where}: skipped, {verb}d with other settings: {outcome.other_settings}"
        if outcome.state == SKIPPED:
            return f"{where}: skipped, already {verb}d"
        return f"{where}: {outcome.kbps:.1f} kbps, {outcome.seconds:.1f} s of audio in {outcome.elapsed:.1f} s"

    def summary(self, verb: str) -> list[str]:
        """The closing lines: counts, hours of audio, total size and ratio (over every output there now), failures."""
        present = [o for o in self.outcomes if o.state != FAILED]
        seconds = sum(o.seconds for o in present)
        pcm, coded = sum(o.pcm_bytes for o in present), sum(o.coded_bytes for o in present)
        counts = f"{self.count(DONE)} {verb}d, {self.count(SKIPPED)} skipped, {self.count(FAILED)} failed"
        lines = [f"{verb}: {len(self.outcomes)} of {self.files} files ({counts}) in {_duration(self.elapsed_s)}"]
        if coded:
            lines.append(
                f"{_duration(seconds)} of audio: {_size(pcm)} as 16-bit PCM, {_size(coded)} as .ddc "
                f"(ratio {pcm / coded:.1f}, {coded * 8 / seconds / 1000:.1f} kbps)"
            )
        lines += [f"failed: {_failure(o)}" for o in self.failures]
        return lines

    @property
    def elapsed_s(self) -> float:
        return time.perf_counter() - self.began


def _failure(outcome: Outcome) -> str:
    """A failure's reason, naming its file once: most reasons name it already (they are a single file's too)."""
    named = re.search(rf"(^|\s){re.escape(outcome.source)}(:|\s|$)", outcome.message)
    return outcome.message if named else f"{outcome.source}: {outcome.message}"


def _with_eta(text: str, tally: Tally) -> str:
    eta = tally.eta_s() if len(tally.outcomes) < tally.files else None
    return text if eta is None else f"{text}; ETA {_duration(eta)}"


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.1f} s"
    return f"{seconds / 60:.1f} min" if seconds < 3600 else f"{seconds / 3600:.2f} h"


def _size(count: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if count >= scale:
            return f"{count / scale:.1f} {unit}"
    return f"{count} bytes"


@contextlib.contextmanager
def progress(
    tally: Tally, verb: str, say: Say, warn: Say, error: Say, quiet: bool
) -> Iterator[Callable[[Outcome], None]]:
    """A `report(outcome)` for the runner: records the outcome and shows it. Errors, warnings and outputs skipped
    though made with other settings show when quiet too."""

    def show(outcome: Outcome, echo: Say) -> None:
        tally.outcomes.append(outcome)
        for message in outcome.warnings:
            warn(f"{outcome.source}: {message}")
        if outcome.state == FAILED:
            error(_failure(outcome))
        elif not quiet or outcome.other_settings:  # an output skipped though made otherwise is said when quiet too
            echo(tally.line(outcome, verb))

    from rich.console import Console

    console = Console(stderr=True)
    if quiet or not console.is_terminal:

        def plain(outcome: Outcome) -> None:
            show(outcome, lambda text: say(_with_eta(text, tally)))

        yield plain
        return
    from rich.markup import escape
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    columns = (TextColumn(verb.removesuffix("e") + "ing"), BarColumn(), TextColumn("{task.fields[files]}"))
    with Progress(*columns, TimeElapsedColumn(), TimeRemainingColumn(), console=console, transient=True) as bar:
        task = bar.add_task(verb, total=tally.seconds or None, files=f"0/{tally.files} files")

        def rich(outcome: Outcome) -> None:
            show(outcome, lambda text: bar.console.print(escape(text), highlight=False))
            bar.update(task, advance=outcome.seconds, files=f"{len(tally.outcomes)}/{tally.files} files")

        yield rich
