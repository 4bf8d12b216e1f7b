"""Frequency nodes against quality on every dev speech and music clip (issue 12, "fewer stored weights").

    python -m bench.nodes --corpus ../shared/corpus --out bench/results/nodes

Spectral networks output log-magnitudes at frequency nodes a bin apart up to bin 2q and floor(p / q) bins apart
above, which the decoder interpolates to the bins (format version 8, formats/ddc.md §11, codec/frequency.py);
q = 0 puts a node at every bin, as every version before 8 did. Each q (mono and multichannel files alike) codes
every dev speech clip (10 s excerpts) at 6, 12 and 24 kbps and every dev music clip at 64 kbps, seed 0, in the
default mode otherwise (band, phase search, fit steps). Speech is scored by PESQ-WB, music by the Zimtohrli MOS,
LSD beside both, each decode as the 16-bit PCM that `ddcodec decode` writes; encode seconds per audio second
beside them (one encode at a time).
"""

from bench import report
from bench.effort import speeds
from bench.loudness import summary, sweep

QS = (0, 8, 16, 32)
PLAN = {"speech": ((6, 12, 24), (0,)), "music": ((64,), (0,))}


def main() -> None:
    parser = report.parser(__doc__, "nodes")
    parser.add_argument("--qs", type=int, nargs="+", default=list(QS), help="frequency_q values to try (0: none)")
    args = parser.parse_args()
    rows, took = sweep(args, args.qs, ("frequency_q", "multichannel_frequency_q"), "q", PLAN)
    lines = report.preamble("Frequency nodes (format version 8)", "bench.nodes", took)
    report.write(rows, args.out, lines + summary(rows, "q") + ["", *speeds(rows, "q"), "", *report.row_table(rows)])


if __name__ == "__main__":
    main()
