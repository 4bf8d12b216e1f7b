"""Benchmark rows -> CSV (every row), markdown (means per category, codec and target) and PNG plots."""

import argparse
import csv
import os
import platform
import shlex
import sys
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import numpy as np

from bench.clips import BUNDLED

METRICS = ("snr_db", "si_sdr_db", "lsd", "pesq_wb", "stoi", "zimtohrli_mos", "visqol_mos")


def machine() -> str:
    """CPU model, core count and Python, for the record."""
    model = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        lines = [line for line in cpuinfo.read_text().splitlines() if line.startswith("model name")]
        model = lines[0].split(":", 1)[1].strip() if lines else model
    return f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}, no GPU used"


def parser(doc: str, name: str) -> argparse.ArgumentParser:
    """The options every benchmark shares; `name` sets the default output stem bench/out/NAME."""
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", type=Path, default=BUNDLED, help="folder of clips (default: the bundled ones)")
    p.add_argument("--iterations", type=int, default=None, help="ddcodec fit steps (default: the encoder's)")
    p.add_argument("--excerpt", type=float, default=10.0, help="seconds of each clip")
    p.add_argument("--quick", action="store_true", help="half a second of one clip, 20 iterations: a smoke test")
    p.add_argument("--out", type=Path, default=Path("bench/out") / name, help="output stem (.md, .csv, .png)")
    return p


def preamble(title: str, module: str, took: float) -> list[str]:
    """A results file's first lines: title, the command that remakes it, the machine and the time it took."""
    return [
        f"# {title}",
        "",
        f"Command: `python -m {module} {shlex.join(sys.argv[1:])}`  ",  # quoted: it runs as shown
        f"Machine: {machine()}; took {took / 60:.1f} min.",
        "",
    ]


def _mean(values: list) -> float | None:
    numbers = [v for v in values if v is not None and v != ""]
    return float(np.mean(numbers)) if numbers else None


def _fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def grouped(rows: list[dict], by: tuple[str, ...]) -> dict[tuple, list[dict]]:
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for row in rows:
        groups[tuple(row[key] for key in by)].append(row)
    return groups


def write_csv(rows: list[dict], path: Path) -> None:
    fields = list(dict.fromkeys(key for row in rows for key in row))
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


def read_csv(path: Path) -> list[dict]:
    """Rows written by write_csv, numbers as floats and empty cells as None."""

    def value(text: str) -> float | str | None:
        if text == "":
            return None
        try:
            return float(text)
        except ValueError:
            return text

    with open(path, newline="") as f:
        return [{key: value(text) for key, text in row.items()} for row in csv.DictReader(f)]


def plain(value: object) -> str:
    """A table cell as it is, '-' where there is no value."""
    return "-" if value is None else str(value)


def row_table(rows: list[dict], cell: Callable[[object], str] = plain) -> list[str]:
    """Markdown table of every row, its keys as the columns."""
    columns = list(rows[0])
    body = ("| " + " | ".join(cell(v) for v in row.values()) + " |" for row in rows)
    return ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns), *body]


def write(rows: list[dict], out: Path, lines: list[str]) -> None:
    """Every row to OUT.csv, `lines` to OUT.md, and the lines to stdout."""
    out.parent.mkdir(parents=True, exist_ok=True)
    write_csv(rows, out.with_suffix(".csv"))
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def mean_table(rows: list[dict], by: tuple[str, ...], columns: tuple[str, ...]) -> list[str]:
    """Markdown table of the mean of `columns` over rows grouped by `by` (in first-seen order)."""
    lines = ["| " + " | ".join((*by, "clips", *columns)) + " |", "|" + "---|" * (len(by) + 1 + len(columns))]
    for key, group in grouped(rows, by).items():
        means = [_fmt(_mean([r.get(c) for r in group])) for c in columns]
        lines.append("| " + " | ".join((*map(str, key), str(len(group)), *means)) + " |")
    return lines


def plot(
    rows: list[dict], path: Path, x: str, series: str, metrics: tuple[str, ...], title: str, point: str = "target_kbps"
) -> None:
    """One PNG: a panel per metric against `x`, a line per `series` value, a point per `point` value (means)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [m for m in metrics if any(r.get(m) is not None for r in rows)]
    fig, axes = plt.subplots(1, len(shown), figsize=(4.2 * len(shown), 3.6), squeeze=False)
    for axis, metric in zip(axes[0], shown, strict=True):
        for name, group in grouped(rows, (series,)).items():
            points = sorted(
                (_mean([r[x] for r in g]), _mean([r.get(metric) for r in g])) for g in grouped(group, (point,)).values()
            )
            points = [(px, py) for px, py in points if px is not None and py is not None]
            if points:
                axis.plot(*zip(*points, strict=True), marker="o", label=name[0])
        axis.set_xlabel(x)
        axis.set_ylabel(metric)
        axis.grid(alpha=0.3)
    axes[0][0].legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
