"""The README's one plot: speech and music against Opus, MP3 and Vorbis, from the recorded rate-distortion CSVs.

    python -m bench.summary

Reads bench/results/rd_speech.csv, rd_v8_music_visqol.csv and rd_v8_music_high.csv (no coding, no
scoring: it only averages what those runs recorded), writes bench/results/summary.png and prints the means it plots
as a markdown table. Each point is a codec at one target: the mean over the clips of the real kbps and of the score.
"""

import argparse
import csv
from collections import defaultdict
from pathlib import Path

RESULTS = Path("bench/results")
SPEECH = ("rd_speech.csv",)
MUSIC = ("rd_v8_music_visqol.csv", "rd_v8_music_high.csv")
# (panel title, CSV files, score column); the codecs each panel draws, ddcodec first.
PANELS = (
    ("speech, Zimtohrli MOS", SPEECH, "zimtohrli_mos"),
    ("speech, PESQ-WB", SPEECH, "pesq_wb"),
    ("music, Zimtohrli MOS", MUSIC, "zimtohrli_mos"),
)
CODECS = {"ddcodec-spectral": "ddcodec", "opus": "Opus", "mp3": "MP3", "vorbis": "Vorbis"}
COLOURS = {"ddcodec": "C0", "Opus": "C2", "MP3": "C1", "Vorbis": "C3"}
TICKS = (6, 12, 24, 48, 64, 128)


def means(files: tuple[str, ...], score: str, results: Path) -> dict[str, list[tuple[float, float, float]]]:
    """codec -> [(target kbps, mean real kbps, mean score)], sorted by target; rows without the score are left out."""
    groups = defaultdict(list)
    for name in files:
        with open(results / name, newline="") as f:
            for row in csv.DictReader(f):
                if row["codec"] in CODECS and row[score]:
                    groups[row["codec"], float(row["target_kbps"])].append((float(row["kbps"]), float(row[score])))
    out = defaultdict(list)
    for (codec, target), points in sorted(groups.items(), key=lambda item: item[0][1]):
        kbps = sum(p[0] for p in points) / len(points)
        value = sum(p[1] for p in points) / len(points)
        if out[codec] and abs(out[codec][-1][1] - kbps) < 0.05:
            continue  # a codec that cannot go lower lands at the same setting for several targets: one point
        out[codec].append((target, kbps, value))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=RESULTS, help="folder of the recorded CSVs")
    parser.add_argument("--out", type=Path, default=RESULTS / "summary.png")
    args = parser.parse_args()

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    fig, axes = plt.subplots(1, len(PANELS), figsize=(4.2 * len(PANELS), 3.6))
    print("| panel | codec | target kbps | real kbps | mean score |\n|---|---|---:|---:|---:|")
    for ax, (title, files, score) in zip(axes, PANELS, strict=True):
        for codec, points in means(files, score, args.results).items():
            label = CODECS[codec]
            ax.plot(
                [p[1] for p in points],
                [p[2] for p in points],
                "o-",
                label=label,
                color=COLOURS[label],
                lw=2.5 if label == "ddcodec" else 1.2,
            )
            for target, kbps, value in points:
                print(f"| {title} | {label} | {target:g} | {kbps:.1f} | {value:.2f} |")
        ax.set_title(title)
        ax.set_xlabel("kbps (real, mean over clips)")
        ax.set_xscale("log")
        low, high = ax.get_xlim()
        ax.set_xticks([t for t in TICKS if low <= t <= high], minor=False)
        ax.set_xlim(low, high)
        ax.set_xticks([], minor=True)
        ax.xaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
