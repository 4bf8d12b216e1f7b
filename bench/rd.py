"""Rate-distortion benchmark: ddcodec against MP3, Vorbis, Opus, Codec 2 (speech), FLAC and the reference Deep Decoder
recipe.

    python -m bench.rd                                      # the clips bundled in tests/data
    python -m bench.rd --corpus ../shared/corpus --iterations 300 --out bench/out/rd
    python -m bench.rd --quick                              # one short clip, a smoke test

Every codec codes 10-second excerpts at each target kbps (the lossy ones as
near as their settings allow, from below); scores come from codec.metrics after
alignment. Writes OUT.csv (a row per clip, codec and target), OUT.md (means per
category) and OUT_<category>.png (quality against real kbps, a line per codec).
"""

import argparse
import time
from pathlib import Path

from bench import contenders, report
from bench.clips import BUNDLED, Clip, load_clips
from codec import metrics
from codec.modes import MODES
from codec.options import BANDS


def sized(clip: Clip, codec: str, target: float | str, size: int) -> dict:
    """The columns every row has: which clip, which codec at which target, and what its bytes come to."""
    return {
        "clip": clip.name,
        "category": clip.category,
        "seconds": round(clip.seconds, 2),
        "codec": codec,
        "target_kbps": target,
        "kbps": metrics.bitrate_kbps(size, clip.seconds),
        "ratio_vs_pcm16": metrics.compression_ratio(size, *clip.audio.shape),
    }


def row(clip: Clip, coded: contenders.Coded, target: float) -> dict:
    speech = clip.category != "music"
    scores = metrics.score(clip.audio, coded.decoded, clip.rate, speech, search_delay=not coded.delay_free)
    timings = {"encode_s": coded.encode_s, "decode_s": coded.decode_s}
    return sized(clip, coded.codec, target, coded.size) | scores | timings


CODECS = (*(f"ddcodec-{mode}" for mode in MODES), *contenders.LOSSY, "codec2", "flac", "reference")


def run(clips: list[Clip], args: argparse.Namespace) -> list[dict]:
    """Every clip at every target with args.codecs; the reference only at its targets and categories."""
    rows = []
    for clip in clips:
        for target in args.targets:
            coded = [
                contenders.ddcodec(clip, target, args.iterations, m, band=band)
                for m in MODES
                if f"ddcodec-{m}" in args.codecs
                for band in args.bands
            ]
            coded += [contenders.lossy(clip, target, name) for name in contenders.LOSSY if name in args.codecs]
            if "codec2" in args.codecs and clip.category != "music" and contenders.codec2_installed():  # speech codec
                coded.append(contenders.codec2(clip, target))
            if (
                "reference" in args.codecs
                and target in args.reference.targets
                and clip.category in args.reference.categories
            ):
                coded.append(contenders.reference_recipe(clip, target, args.reference.iterations))
            for c in coded:
                rows.append(row(clip, c, target))
                print(f"{clip.name} {c.codec} {target}k -> {rows[-1]['kbps']:.1f}k snr {rows[-1]['snr_db']:.2f}")
        if "flac" not in args.codecs:
            continue
        rows.append(sized(clip, "flac", "lossless", contenders.flac_size(clip)))
    return rows


def write(rows: list[dict], out: Path, took: float, included: list[Path]) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    report.write_csv(rows, out.with_suffix(".csv"))
    lossy = [r for r in rows if r["codec"] != "flac"]
    flac = [r for r in rows if r["codec"] == "flac"]
    columns = ("kbps", "ratio_vs_pcm16", *report.METRICS, "encode_s")
    lines = [
        *report.preamble("Rate-distortion benchmark", "bench.rd", took),
        "Means per category, codec and target (per-clip rows in the CSV). PESQ-WB and STOI for speech and digits.",
        *([f"Rows of earlier runs included as they were: {', '.join(map(str, included))}."] if included else []),
        "",
        *report.mean_table(lossy, ("category", "target_kbps", "codec"), columns),
    ]
    if flac:
        lines += [
            "",
            "FLAC (lossless, 16-bit, level 8):",
            "",
            *report.mean_table(flac, ("category",), ("kbps", "ratio_vs_pcm16")),
        ]
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    for (category,), group in report.grouped(lossy, ("category",)).items():
        path = out.parent / f"{out.name}_{category}.png"
        report.plot(group, path, "kbps", "codec", ("snr_db", "lsd", "pesq_wb"), f"{category}: quality against kbps")


def main() -> None:
    parser = report.parser(__doc__, "rd")
    parser.add_argument("--targets", type=float, nargs="+", default=[3, 6, 12, 24, 48, 64], help="kbps")
    parser.add_argument("--codecs", nargs="+", choices=CODECS, default=list(CODECS))
    parser.add_argument("--bands", nargs="+", choices=BANDS, default=["auto"], help="ddcodec's --band values to run")
    parser.add_argument("--include", type=Path, nargs="*", default=[], help="CSVs of earlier runs to report beside")
    parser.add_argument("--reference-iterations", type=int, default=None, help="default: as --iterations, or 1500")
    parser.add_argument("--reference-targets", type=float, nargs="+", help="kbps to run the reference at (default all)")
    parser.add_argument(
        "--reference-categories", nargs="+", default=["speech", "music", "digits"], help="its cost grows as k^2"
    )
    args = parser.parse_args()
    if "codec2" in args.codecs and not contenders.codec2_installed():
        print("codec2: c2enc and c2dec not found (apt-get install codec2); its rows are left out", flush=True)
    if args.quick:
        clips = load_clips(BUNDLED, excerpt_s=0.5, limit=1)
        args.targets, args.iterations, args.reference_iterations = [16, 32], 20, 20
    else:
        clips = load_clips(args.corpus, args.excerpt)
    args.reference = argparse.Namespace(
        iterations=args.reference_iterations or args.iterations or 1500,
        targets=args.reference_targets or args.targets,
        categories=args.reference_categories,
    )
    began = time.perf_counter()
    rows = [row for path in args.include for row in report.read_csv(path)] + run(clips, args)
    write(rows, args.out, time.perf_counter() - began, args.include)
    print(f"wrote {args.out}.md, .csv and plots")


if __name__ == "__main__":
    main()
