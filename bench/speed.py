"""Speed benchmark: encode and decode real-time factors, peak memory, and the fit's achieved GFLOP/s.

    python -m bench.speed                                    # bundled clips
    python -m bench.speed --corpus ../shared/corpus --out bench/out/speed
    python -m bench.speed --quick                            # a smoke test

Speech at 16 kHz (24 kbps) and music at 44.1 kHz stereo (64 kbps), 10-second
excerpts, in each mode at its default fit, with the SNR and LSD reached (the quality those seconds buy). Each
encode and decode runs in a fresh process, which reports its own wall time and
peak RSS (VmHWM, Linux). Real-time factor = audio seconds / wall seconds.
The fit's FLOPs are counted from the network shape: a forward pass costs
k^2 n0 (2^d - 1) + rows k L multiply-adds per segment, a backward pass twice that,
two FLOPs a multiply-add (elementwise work not counted). The machine's peak is
measured as the GFLOP/s of a large float32 matmul in torch.
"""

import io
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import soundfile
import torch

import codec
from bench import report
from bench.clips import Clip, load_clips
from codec import metrics
from codec.bitstream import Header
from codec.modes import MODES

CHILD = """
import json, sys, time
import soundfile, codec
job = json.loads(sys.argv[1])
began = time.perf_counter()
if job["verb"] == "encode":
    audio, rate = soundfile.read(job["audio"], dtype="float32", always_2d=True)
    began = time.perf_counter()
    data = codec.encode(audio, rate, bitrate=job["kbps"] * 1000, iterations=job["iterations"], mode=job["mode"])
    open(job["ddc"], "wb").write(data)
else:
    audio, rate = codec.decode(open(job["ddc"], "rb").read())
took = time.perf_counter() - began
# VmHWM, not getrusage: Linux carries the parent's peak RSS across exec into ru_maxrss.
status = open("/proc/self/status").read().split("VmHWM:")[1].split()
print(json.dumps({"seconds": took, "peak_rss_mb": int(status[0]) / 1024}))
"""
TARGETS = {"speech": 24.0, "music": 64.0}


def in_child(job: dict) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, json.dumps(job)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def fit_gflop(header: Header, iterations: int) -> float:
    """FLOPs of the fit in GFLOP: forward + backward (2x) matmuls, every segment, every iteration."""
    n0 = header.segment_length >> (header.depth - 1)
    forward = header.width**2 * n0 * (2**header.depth - 1) + header.rows * header.width * header.segment_length
    return 2 * 3 * forward * header.segments * iterations / 1e9


def matmul_peak_gflops(size: int = 2048, repeats: int = 10) -> float:
    a, b = torch.randn(size, size), torch.randn(size, size)
    a @ b  # warm up
    began = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * size**3 * repeats / (time.perf_counter() - began) / 1e9


def measure(clip: Clip, kbps: float, mode: str, iterations: int | None, folder: Path) -> dict:
    wav, ddc = folder / "in.wav", folder / "out.ddc"
    soundfile.write(wav, clip.audio, clip.rate, subtype="FLOAT")
    job = {"verb": "encode", "audio": str(wav), "ddc": str(ddc), "kbps": kbps, "mode": mode, "iterations": iterations}
    encode = in_child(job)
    decode = in_child({"verb": "decode", "ddc": str(ddc)})
    data = ddc.read_bytes()
    header = codec.read_header(io.BytesIO(data))
    decoded, _ = codec.decode(data)
    steps = iterations or MODES[mode].fit.steps(header.rows)
    return {
        "clip": clip.name,
        "mode": mode,
        "rate_hz": clip.rate,
        "channels": clip.audio.shape[1],
        "seconds": round(clip.seconds, 2),
        "kbps": kbps,
        "iterations": steps,
        "width": header.width,
        "segments": header.segments,
        "snr_db": metrics.snr_db(clip.audio, decoded),
        "lsd": metrics.lsd(clip.audio, decoded),
        "encode_s": encode["seconds"],
        "encode_rtf": clip.seconds / encode["seconds"],
        "encode_peak_rss_mb": encode["peak_rss_mb"],
        "fit_gflops": fit_gflop(header, steps) / encode["seconds"],
        "decode_s": decode["seconds"],
        "decode_rtf": clip.seconds / decode["seconds"],
        "decode_peak_rss_mb": decode["peak_rss_mb"],
    }


def main() -> None:
    args = report.parser(__doc__, "speed").parse_args()
    excerpt, iterations = (0.5, 20) if args.quick else (args.excerpt, args.iterations)
    clips = load_clips(args.corpus, excerpt)
    picks = [next(c for c in clips if c.category == "speech")]
    stereo = [c for c in clips if c.category == "music" and c.rate == 44100 and c.audio.shape[1] == 2]
    picks += [] if args.quick or not stereo else [max(stereo, key=lambda c: c.seconds)]
    began = time.perf_counter()
    peak = matmul_peak_gflops()
    with tempfile.TemporaryDirectory() as folder:
        rows = [measure(c, TARGETS[c.category], m, iterations, Path(folder)) for c in picks for m in MODES]
    lines = [
        *report.preamble("Speed benchmark", "bench.speed", time.perf_counter() - began),
        f"Measured float32 matmul peak (torch, 2048^2): {peak:.0f} GFLOP/s.",
        "",
        *report.row_table(rows, lambda v: f"{v:.3g}" if isinstance(v, float) else str(v)),
        "",
        *(
            f"- {r['clip']}, {r['mode']}: the fit ran at {r['fit_gflops']:.1f} GFLOP/s, "
            f"{100 * r['fit_gflops'] / peak:.0f} % of the matmul peak."
            for r in rows
        ),
    ]
    report.write(rows, args.out, lines)


if __name__ == "__main__":
    main()
