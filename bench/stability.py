"""How much a speech clip's quality moves with the encoder's seed and with the input's level (issue 12, "stable fits").

    python -m bench.stability --corpus ../shared/corpus --out bench/results/stability

Every dev speech clip (10 s excerpts) at 24 kbps in the default mode: with seeds 0 to 4 at its own level,
and with seed 0 scaled to an RMS of -40, -30, -20 and -10 dBFS (a level whose peak would pass full scale is
left out, not clipped). Each decode is scored against the input it was made from (PESQ-WB, LSD). The spread
of a clip is its best score minus its worst; the issue asks for at most 0.1 PESQ-WB either way.
"""

import time

import numpy as np

import codec
from bench import report
from bench.clips import Clip, load_clips
from codec import metrics
from codec.audio_io import as_written

KBPS = 24
SEEDS = (0, 1, 2, 3, 4)
LEVELS_DB = (-40, -30, -20, -10)


def rms_db(audio: np.ndarray) -> float:
    return float(20 * np.log10(np.sqrt(np.mean(np.square(audio, dtype=np.float64))) + 1e-12))


def scored(clip: Clip, audio: np.ndarray, seed: int, iterations: int | None) -> dict:
    data = codec.encode(audio, clip.rate, bitrate=KBPS * 1000, seed=seed, iterations=iterations)
    decoded = as_written(codec.decode(data)[0])
    scores = metrics.score(audio, decoded, clip.rate, search_delay=False)
    pesq = scores.get("pesq_wb")
    return {"pesq_wb": None if pesq is None else round(pesq, 3), "lsd": round(scores["lsd"], 3)}


def measure(clip: Clip, iterations: int | None) -> list[dict]:
    own = rms_db(clip.audio)
    rows = []
    for seed in SEEDS:
        row = {"clip": clip.name, "rate": clip.rate, "varied": "seed", "seed": seed, "rms_dbfs": round(own, 1)}
        rows.append(row | scored(clip, clip.audio, seed, iterations))
    for level in LEVELS_DB:
        audio = (clip.audio * 10 ** ((level - own) / 20)).astype(np.float32)
        if np.abs(audio).max() >= 1.0:
            continue
        row = {"clip": clip.name, "rate": clip.rate, "varied": "level", "seed": 0, "rms_dbfs": level}
        rows.append(row | scored(clip, audio, 0, iterations))
    return rows


def spreads(rows: list[dict]) -> list[str]:
    """Per clip and kind of variation: mean PESQ-WB and its spread (best - worst); then mean and worst over clips."""
    lines = ["| clip | seeds: PESQ-WB mean | seed spread | levels: PESQ-WB mean | level spread | levels tried |"]
    lines.append("|---|---|---|---|---|---|")
    found: dict[str, list[float]] = {"seed": [], "level": []}
    for (name,), group in report.grouped(rows, ("clip",)).items():
        cells = []
        for varied in ("seed", "level"):
            values = [r["pesq_wb"] for r in group if r["varied"] == varied and r["pesq_wb"] is not None]
            spread = max(values) - min(values) if len(values) > 1 else None
            if spread is not None:
                found[varied].append(spread)
            cells += [f"{np.mean(values):.2f}" if values else "-", "-" if spread is None else f"{spread:.2f}"]
        levels = ", ".join(str(int(r["rms_dbfs"])) for r in group if r["varied"] == "level")
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {levels} |")
    for varied, values in found.items():
        if values:
            lines.append("")
            mean, worst = np.mean(values), max(values)
            lines.append(f"{varied} spread over {len(values)} clips: mean {mean:.2f}, worst {worst:.2f}")
    return lines


def main() -> None:
    args = report.parser(__doc__, "stability").parse_args()
    clips = [c for c in load_clips(args.corpus, 0.5 if args.quick else args.excerpt) if c.category == "speech"]
    clips = clips[:1] if args.quick else clips
    iterations = 20 if args.quick else args.iterations
    began = time.perf_counter()
    rows = []
    for clip in clips:
        rows += measure(clip, iterations)
        print(f"{clip.name}: done", flush=True)
    lines = report.preamble("Seed and level spread, speech at 24 kbps", "bench.stability", time.perf_counter() - began)
    report.write(rows, args.out, lines + spreads(rows) + ["", *report.row_table(rows)])


if __name__ == "__main__":
    main()
