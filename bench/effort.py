"""The fit's effort (its steps as a multiple of the default) against quality and encode time, on every dev speech
and music clip (issue 12: "encode no slower than 1x real time at the default effort; an --effort knob").

    python -m bench.effort --corpus ../shared/corpus --out bench/results/effort_v8_fused

Each effort codes every dev speech clip (10 s excerpts) at 6, 12 and 24 kbps and every dev music clip at 64 kbps,
seed 0, in the default mode otherwise. Scores as in bench.loudness (speech PESQ-WB, music Zimtohrli MOS, LSD beside
both); encode time in seconds per second of audio on this machine (under 1 is faster than real time), one encode at
a time, in this process, after one untimed encode for torch's start-up.
"""

import time

from bench import report
from bench.loudness import dev_clips, scored, summary

EFFORTS = (0.5, 1.0, 2.0)
KBPS = {"speech": (6, 12, 24), "music": (64,)}


def main() -> None:
    parser = report.parser(__doc__, "effort")
    parser.add_argument("--efforts", type=float, nargs="+", default=list(EFFORTS), help="efforts to try")
    args = parser.parse_args()
    began = time.perf_counter()
    clips = dev_clips(args)  # with --quick: one clip of each category, one rate, two efforts of 20 steps
    efforts = args.efforts[:2] if args.quick else args.efforts
    rows = []
    for effort in efforts:
        steps = {"iterations": 20} if args.quick else {"effort": effort}
        for clip in clips:
            rates = KBPS[clip.category][-1:] if args.quick else KBPS[clip.category]
            rows += [{"effort": effort} | scored(clip, {}, kbps, **steps) for kbps in rates]
        print(f"effort {effort}: done", flush=True)
    rows.sort(key=lambda r: (r["category"], r["kbps"], r["effort"]))
    lines = report.preamble("The fit's effort", "bench.effort", time.perf_counter() - began)
    report.write(rows, args.out, [*lines, *summary(rows, "effort"), "", *speeds(rows), "", *report.row_table(rows)])


def speeds(rows: list[dict], varied: str = "effort") -> list[str]:
    """Per category, rate and `varied` value: encode seconds per audio second, mean and slowest clip."""
    lines = [f"| category | kbps | {varied} | encode s per audio s: mean | slowest clip |", "|---" * 5 + "|"]
    for key, group in report.grouped(rows, ("category", "kbps", varied)).items():
        times = [float(r["encode_s_per_s"]) for r in group]
        lines.append("| " + " | ".join((*map(str, key), f"{sum(times) / len(times):.2f}", f"{max(times):.2f}")) + " |")
    return lines


if __name__ == "__main__":
    main()
