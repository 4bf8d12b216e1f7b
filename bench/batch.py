"""Many-file throughput: files per minute of `ddcodec encode DIR OUT` run alone, with --jobs and on a local Ray.

    python -m bench.batch --corpus ../shared/corpus --out bench/results/batch
    python -m bench.batch --quick                       # the bundled clips, 20 steps: a smoke test

Each category folder of the corpus (speech, digits: whole files, not excerpts) is encoded by
the installed command in a subprocess, as a user runs it, so the wall time includes process,
torch and Ray start-up. Then the outputs are decoded the same ways. Throughput is files per
minute and audio seconds per wall second (x real time). Ray rows are skipped when Ray is absent.
"""

import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import report
from codec.audio_io import is_audio_name

RUNNERS = {"alone": [], "jobs 2": ["--jobs", "2"], "ray local": ["--ray"]}
SETS = ("digits", "speech")


def audio_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and is_audio_name(p))


def timed(verb: str, source: Path, target: Path, extra: list[str]) -> float:
    cli = [sys.executable, "-c", "from codec.cli import main; main()"]
    command = [*cli, verb, str(source), str(target), "--quiet", *extra]
    began = time.perf_counter()
    subprocess.run(command, check=True, env={**os.environ, "RAY_ADDRESS": ""})  # a Ray of its own, not a cluster's
    return time.perf_counter() - began


def measure(name: str, files: list[Path], iterations: int | None, folder: Path) -> list[dict]:
    import soundfile

    source = folder / name
    source.mkdir()
    for path in files:
        shutil.copy(path, source / path.name)
    seconds = sum(soundfile.info(str(p)).duration for p in files)
    steps = [] if iterations is None else ["--iterations", str(iterations)]
    rows = []
    for runner, extra in RUNNERS.items():
        if runner.startswith("ray") and importlib.util.find_spec("ray") is None:
            continue
        coded, decoded = folder / f"{name}-{runner}-ddc", folder / f"{name}-{runner}-wav"
        for verb, src, dst, more in (("encode", source, coded, steps), ("decode", coded, decoded, [])):
            wall = timed(verb, src, dst, extra + more)
            rows.append({
                "set": name, "verb": verb, "runner": runner, "files": len(files), "audio_s": round(seconds, 1),
                "wall_s": round(wall, 1), "files_per_min": round(60 * len(files) / wall, 1),
                "x_real_time": round(seconds / wall, 2),
            })  # fmt: skip
            print(rows[-1], flush=True)
    return rows


def main() -> None:
    args = report.parser(__doc__, "batch").parse_args()
    iterations = 20 if args.quick else args.iterations
    folders = {"bundled": args.corpus} if args.quick else {name: args.corpus / name for name in SETS}
    began = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        rows = [
            row for name, path in folders.items() for row in measure(name, audio_files(path), iterations, Path(folder))
        ]
    lines = [
        *report.preamble("Many-file throughput", "bench.batch", time.perf_counter() - began),
        "Whole corpus files, default bitrate (24 kbps) and mode (spectral); wall time of the command.",
        "",
        *report.row_table(rows),
    ]
    report.write(rows, args.out, lines)


if __name__ == "__main__":
    main()
