"""Peaks of spectral decodes with and without the peak limit (formats/ddc.md §9), and what the limit costs.

    python -m bench.peaks --corpus ../shared/corpus --out bench/results/peaks

Every speech clip at 24 kbps and music clip at 64 kbps (10 s excerpts, default fit) is encoded once and
decoded twice: as written, and with its `peak` field set to 0 (no limit), so the weights are the same.
Reports each decode's peak against the original's in dB, samples at 16-bit full scale, LSD and PESQ-WB
of the 16-bit PCM that `ddcodec decode` writes.
"""

import time

import numpy as np

import codec
from bench import report
from bench.clips import Clip, load_clips
from codec import bitstream, metrics
from codec.audio_io import as_written

TARGETS = {"speech": 24, "music": 64}


def measure(clip: Clip, iterations: int | None) -> dict:
    kbps = TARGETS[clip.category]
    data = codec.encode(clip.audio, clip.rate, bitrate=kbps * 1000, iterations=iterations)
    unlimited = bitstream.rewrite_header(data, peak=0)
    peak = float(np.abs(clip.audio).max())
    row = {"clip": clip.name, "kbps": kbps, "peak": round(peak, 3)}
    for name, encoded in (("free", unlimited), ("limited", data)):
        pcm = as_written(codec.decode(encoded)[0])
        scores = metrics.score(clip.audio, pcm, clip.rate, clip.category != "music", search_delay=False)
        row[f"{name}_over_db"] = round(20 * np.log10(np.abs(pcm).max() / peak), 2)
        row[f"{name}_full_scale"] = int(np.sum(np.abs(pcm) >= 32767 / 32768))
        row[f"{name}_lsd"] = round(scores["lsd"], 4)
        row[f"{name}_pesq_wb"] = None if scores.get("pesq_wb") is None else round(scores["pesq_wb"], 3)
    return row


def main() -> None:
    args = report.parser(__doc__, "peaks").parse_args()
    clips = [c for c in load_clips(args.corpus, 0.5 if args.quick else args.excerpt) if c.category in TARGETS]
    began = time.perf_counter()
    iterations = 20 if args.quick else args.iterations
    rows = [measure(c, iterations) for c in (clips[:1] if args.quick else clips)]
    lines = [*report.preamble("Peaks with and without the limit", "bench.peaks", time.perf_counter() - began)]
    report.write(rows, args.out, lines + report.row_table(rows))


if __name__ == "__main__":
    main()
