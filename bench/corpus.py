"""Encode and decode every clip of a corpus at given bitrates; record real bitrate, SNR and seconds.

    python -m bench.corpus --corpus ../shared/corpus --bitrates 24k --out bench/out/corpus_24k.md
    python -m bench.corpus --corpus ../shared/corpus --bitrates ladder --iterations 50 --out bench/out/rates.md

`--bitrates ladder` sweeps 6 kbps up to half of 16-bit PCM for each clip (the
rate-control promise of README "Rate control"); fewer iterations there only
make it faster, since rate control works on whatever weights the fit produced.
"""

import argparse
import csv
import io
import time
from pathlib import Path

import soundfile

import codec
from bench.clips import AUDIO_SUFFIXES
from codec.metrics import snr_db


def ladder(sample_rate: int, channels: int) -> list[float]:
    """6 kbps doubling up to half the 16-bit PCM rate, which is always included."""
    top = sample_rate * channels * 16 / 2
    rates = [6000.0]
    while rates[-1] * 2 < top:
        rates.append(rates[-1] * 2)
    return [*rates, top]


def run(path: Path, bitrate: float, iterations: int | None) -> dict:
    audio, rate = soundfile.read(path, dtype="float32", always_2d=True)
    start = time.perf_counter()
    data = codec.encode(audio, rate, bitrate=bitrate, iterations=iterations)  # the default mode's own fit
    encode_s = time.perf_counter() - start
    start = time.perf_counter()
    decoded, _ = codec.decode(data)
    decode_s = time.perf_counter() - start
    header = codec.read_header(io.BytesIO(data))
    real = len(data) * 8 / header.duration
    return {
        "clip": f"{path.parent.name}/{path.name}",
        "rate_hz": rate,
        "channels": audio.shape[1],
        "seconds": round(header.duration, 2),
        "target_kbps": round(bitrate / 1000, 2),
        "real_kbps": round(real / 1000, 2),
        "error_pct": round(100 * (real / bitrate - 1), 2),
        "width": header.width,
        "segments": header.segments,
        "levels": header.levels,
        "snr_db": round(snr_db(audio, decoded), 2),
        "encode_s": round(encode_s, 1),
        "decode_s": round(decode_s, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=Path("tests/data"))
    parser.add_argument("--bitrates", default="24k", help="comma list like 6k,24k, or 'ladder'")
    parser.add_argument("--iterations", type=int, default=None)
    parser.add_argument("--out", type=Path, default=Path("bench/out/corpus.md"))
    args = parser.parse_args()
    clips = sorted(p for p in args.corpus.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES)
    rows = []
    for clip in clips:
        info = soundfile.info(str(clip))
        if args.bitrates == "ladder":
            rates = ladder(info.samplerate, info.channels)
        else:
            rates = [float(r[:-1]) * 1000 if r.endswith("k") else float(r) for r in args.bitrates.split(",")]
        for bitrate in rates:
            rows.append(run(clip, bitrate, args.iterations))
            print(" ".join(f"{k}={v}" for k, v in rows[-1].items()), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out.with_suffix(".csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
    lines += ["| " + " | ".join(str(v) for v in row.values()) + " |" for row in rows]
    worst = max(abs(r["error_pct"]) for r in rows)
    lines.append(f"\n{len(rows)} encodes; worst bitrate error {worst:.2f} %.")
    args.out.write_text("\n".join(lines) + "\n")
    print(lines[-1])


if __name__ == "__main__":
    main()
