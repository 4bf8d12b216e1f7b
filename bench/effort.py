"""The fit's effort (its steps as a multiple of the default) against quality and encode time, on every dev speech
and music clip (issue 12: "encode no slower than 1x real time at the default effort; an --effort knob").

    python -m bench.effort --corpus ../shared/corpus --out bench/results/effort

Each effort codes every dev speech clip (10 s excerpts) at 6, 12 and 24 kbps and every dev music clip at 64 kbps,
seed 0, in the default mode otherwise. Scores as in bench.loudness (speech PESQ-WB, music Zimtohrli MOS, LSD beside
both); encode time in seconds per second of audio on this machine (under 1 is faster than real time), one encode at
a time, in this process, after one untimed encode for torch's start-up.
"""

import time

import codec
from bench import report
from bench.clips import Clip, load_clips
from bench.loudness import SCORE, summary
from codec import metrics
from codec.audio_io import as_written
from codec.options import EncodeOptions

EFFORTS = (0.5, 1.0, 2.0)
KBPS = {"speech": (6, 12, 24), "music": (64,)}


def scored(clip: Clip, effort: float, kbps: int, quick: bool) -> dict:
    options = (
        EncodeOptions(bitrate=kbps * 1000, iterations=20)
        if quick
        else EncodeOptions(bitrate=kbps * 1000, effort=effort)
    )
    began = time.perf_counter()
    data = codec.encode(clip.audio, clip.rate, options)
    took = time.perf_counter() - began
    decoded = as_written(codec.decode(data)[0])
    scores = metrics.score(clip.audio, decoded, clip.rate, clip.category == "speech", search_delay=False)
    row = {"clip": clip.name, "category": clip.category, "effort": effort, "kbps": kbps, "seed": 0}
    return row | {
        "score": scores[SCORE[clip.category]],
        "lsd": scores["lsd"],
        "encode_s": round(took, 2),
        "encode_s_per_s": round(took / clip.seconds, 3),
    }


def main() -> None:
    parser = report.parser(__doc__, "effort")
    parser.add_argument("--efforts", type=float, nargs="+", default=list(EFFORTS), help="efforts to try")
    args = parser.parse_args()
    clips = [c for c in load_clips(args.corpus, 0.5 if args.quick else args.excerpt) if c.category in KBPS]
    if args.quick:  # one clip of each category, one rate, two efforts of 20 steps
        clips = [next(c for c in clips if c.category == category) for category in KBPS]
    efforts = args.efforts[:2] if args.quick else args.efforts
    began = time.perf_counter()
    codec.encode(clips[0].audio[: clips[0].rate // 2], clips[0].rate, iterations=5)  # torch's start-up, untimed
    rows = []
    for effort in efforts:
        for clip in clips:
            rates = KBPS[clip.category][-1:] if args.quick else KBPS[clip.category]
            rows += [scored(clip, effort, kbps, args.quick) for kbps in rates]
        print(f"effort {effort}: done", flush=True)
    rows.sort(key=lambda r: (r["category"], r["kbps"], r["effort"]))
    lines = report.preamble("The fit's effort", "bench.effort", time.perf_counter() - began)
    report.write(rows, args.out, [*lines, *summary(rows, "effort"), "", *speeds(rows), "", *report.row_table(rows)])


def speeds(rows: list[dict]) -> list[str]:
    """Per category, rate and effort: encode seconds per audio second, mean and slowest clip."""
    lines = ["| category | kbps | effort | encode s per audio s: mean | slowest clip |", "|---" * 5 + "|"]
    for key, group in report.grouped(rows, ("category", "kbps", "effort")).items():
        times = [float(r["encode_s_per_s"]) for r in group]
        lines.append("| " + " | ".join((*map(str, key), f"{sum(times) / len(times):.2f}", f"{max(times):.2f}")) + " |")
    return lines


if __name__ == "__main__":
    main()
