"""Which files a many-file run works on, and where each one's output goes.

Inputs are files or directories. A directory gives the files in it that the verb reads
(audio for encode, .ddc for decode), with `recursive` those of its subdirectories too, and
its tree is mirrored under the output directory. Hidden names are skipped, the `.part`
temporaries of an interrupted run among them. A named file is always planned: if it is
missing or unreadable, that file fails in its turn and the others go on.
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from codec.audio_io import STDIO
from codec.errors import DdcodecError, UsageError


@dataclass(frozen=True)
class Job:
    """One input file and the output it becomes."""

    source: Path
    target: Path


def is_many(sources: list[str], target: str) -> bool:
    """Whether a command line asks for a many-file run: several inputs, a directory among
    them, or an output that is an existing directory (as `cp a b dir/` does)."""
    if len(sources) > 1 or target.endswith("/"):
        return True
    return any(s != STDIO and Path(s).is_dir() for s in sources) or (target != STDIO and Path(target).is_dir())


def plan(sources: list[str], target: str, *, suffix: str, wanted: Callable[[Path], bool], recursive: bool) -> list[Job]:
    """The jobs of a run, in a stable order; UsageError for outputs the command line cannot mean (a file, stdout),
    DdcodecError for outputs that would collide."""
    if STDIO in sources or target == STDIO:
        raise UsageError("- (stdin or stdout) cannot be used with several files or a directory")
    out = Path(target)
    if out.exists() and not out.is_dir():
        raise UsageError(f"{target} is not a directory (several inputs need an output directory)")
    if not out.exists() and out.suffix and not target.endswith("/"):
        raise UsageError(f"{target} looks like a file name, but a directory or several inputs need an output directory "
                         f"(write {target}/ for a directory of that name)")  # fmt: skip
    jobs = []
    for source in map(Path, sources):
        if not source.is_dir():
            jobs.append(Job(source, out / source.with_suffix(suffix).name))
            continue
        found = source.rglob("*") if recursive else source.iterdir()
        for path in sorted(found):
            relative = path.relative_to(source)
            if path.is_file() and wanted(path) and not any(part.startswith(".") for part in relative.parts):
                jobs.append(Job(path, out / relative.with_suffix(suffix)))
    _check_distinct(jobs)
    return jobs


def _check_distinct(jobs: list[Job]) -> None:
    """Two inputs must not share an output, and no output may be one of the inputs."""
    sources = {job.source.resolve() for job in jobs}
    seen: dict[Path, Path] = {}
    for job in jobs:
        key = job.target.resolve()
        if key in seen:
            raise DdcodecError(f"{seen[key]} and {job.source} would both be written to {job.target}")
        if key in sources:
            raise DdcodecError(f"the output {job.target} of {job.source} is one of the inputs")
        seen[key] = job.source
