"""The spectral fit's loudness weight against quality on every dev speech and music clip (issue 12, "perceptual loss").

    python -m bench.loudness --corpus ../shared/corpus --out bench/results/loudness

The fit weighs each cell's squared log error by exp(w t), t the cell's standardized log-magnitude
(codec/modes/spectral.py, `loudness_weight`); w = 0 is the uniform L2 fit of earlier versions. Each weight
codes every dev speech clip (10 s excerpts) at 6, 12 and 24 kbps with seeds 0 and 1, and every dev music
clip at 64 kbps with seed 0, in the default mode otherwise. Speech is scored by PESQ-WB, music by the
Zimtohrli MOS (LSD beside both); each decode as the 16-bit PCM that `ddcodec decode` writes.
"""

import argparse
import dataclasses
import io
import time

import numpy as np

import codec
from bench import report
from bench.clips import Clip, load_clips
from codec import metrics, modes
from codec.audio_io import as_written
from codec.encoder.pipeline import encode_stream
from codec.options import EncodeOptions

WEIGHTS = (0.0, 0.2, 0.4, 0.6)
SPEECH_KBPS, SPEECH_SEEDS = (6, 12, 24), (0, 1)
MUSIC_KBPS, MUSIC_SEEDS = (64,), (0,)
SCORE = {"speech": "pesq_wb", "music": "zimtohrli_mos"}


def scored(clip: Clip, changes: dict[str, object], kbps: int, **options: object) -> dict:
    """One encode in the default spectral mode with `changes` to its fields and these EncodeOptions, decoded and
    scored, timed in this process; the row names the clip, rate and seed, not the changes (the caller adds what it
    varied)."""
    mode = dataclasses.replace(modes.get("spectral"), **changes)
    out = io.BytesIO()
    began = time.perf_counter()
    encode_stream(clip.audio, clip.rate, out, EncodeOptions(bitrate=kbps * 1000, **options), mode=mode)
    took = time.perf_counter() - began
    decoded = as_written(codec.decode(out.getvalue())[0])
    scores = metrics.score(clip.audio, decoded, clip.rate, clip.category == "speech", search_delay=False)
    row = {"clip": clip.name, "category": clip.category, "kbps": kbps, "seed": options.get("seed", 0)}
    score = {"score": scores[SCORE[clip.category]], "lsd": scores["lsd"], "encode_s": round(took, 2)}
    return row | score | {"encode_s_per_s": round(took / clip.seconds, 3)}


def dev_clips(args: argparse.Namespace) -> list[Clip]:
    """The speech and music clips a sweep codes (one of each with --quick), after one untimed encode that pays
    torch's start-up, so the first timed encode is not slower than the rest."""
    clips = [c for c in load_clips(args.corpus, 0.5 if args.quick else args.excerpt) if c.category in SCORE]
    if args.quick:
        clips = [next(c for c in clips if c.category == category) for category in SCORE]
    codec.encode(clips[0].audio[: clips[0].rate // 2], clips[0].rate, iterations=5)
    return clips


def summary(rows: list[dict], varied: str = "weight") -> list[str]:
    """Per category, rate and `varied` value: the score's mean and worst over clips (each clip's mean over seeds),
    its mean seed spread, and the LSD's mean."""
    lines = [f"| category | kbps | {varied} | score | mean | worst clip | seed spread | LSD |", "|---" * 8 + "|"]
    for (category, kbps, value), group in report.grouped(rows, ("category", "kbps", varied)).items():
        clips = report.grouped(group, ("clip",)).values()
        per_clip = [[r["score"] for r in g if r["score"] is not None] for g in clips]
        means = [np.mean(s) for s in per_clip if s]
        spreads = [max(s) - min(s) for s in per_clip if len(s) > 1]
        spread = f"{np.mean(spreads):.2f}" if spreads else "-"
        lsd = np.mean([r["lsd"] for r in group])
        scores = f"{np.mean(means):.2f}", f"{min(means):.2f}"
        cells = (category, kbps, value, SCORE[category], *scores, spread, f"{lsd:.3f}")
        lines.append("| " + " | ".join(map(str, cells)) + " |")
    return lines


def sweep(
    args: argparse.Namespace, values: list, fields: tuple[str, ...], varied: str, plan: dict
) -> tuple[list[dict], float]:
    """Every dev speech and music clip coded with the spectral mode's `fields` set to each of `values` (a row's
    `varied` column), at the rates and seeds `plan` gives each category; the rows sorted, and the seconds it took.
    With --quick: one clip of each category (dev_clips), two values, 20 fit steps."""
    began = time.perf_counter()
    clips = dev_clips(args)
    iterations = 20 if args.quick else args.iterations
    rows = []
    for value in values[:2] if args.quick else values:
        for clip in clips:
            rates, seeds = plan[clip.category]
            changes = dict.fromkeys(fields, value)
            rows += [
                {varied: value} | scored(clip, changes, k, seed=s, iterations=iterations) for k in rates for s in seeds
            ]
        print(f"{varied} {value}: done", flush=True)
    rows.sort(key=lambda r: (r["category"], r["kbps"], r[varied]))
    return rows, time.perf_counter() - began


def main() -> None:
    parser = report.parser(__doc__, "loudness")
    parser.add_argument("--weights", type=float, nargs="+", default=list(WEIGHTS), help="loudness weights to try")
    args = parser.parse_args()
    plan = {"speech": (SPEECH_KBPS, SPEECH_SEEDS), "music": (MUSIC_KBPS, MUSIC_SEEDS)}
    rows, took = sweep(args, args.weights, ("loudness_weight",), "weight", plan)
    lines = report.preamble("The spectral fit's loudness weight", "bench.loudness", took)
    report.write(rows, args.out, lines + summary(rows) + ["", *report.row_table(rows)])


if __name__ == "__main__":
    main()
