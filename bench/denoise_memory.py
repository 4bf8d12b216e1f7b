"""The speech denoiser on long input (issue 36: memory bounded on an hour of audio): peak memory and speed of
codec.speech_denoise.denoise on noisy speech repeated to each length, each length in a fresh process.

    python -m bench.denoise_memory --corpus ../shared/corpus --minutes 2 8 60 --out bench/results/denoise_memory

Needs the `denoise` extra. The input is the first real noisy recording (noisy/p287_001_noisy.flac, resampled to
--rate) repeated to each length, mono. Peak RSS is the process's whole peak; "before" is the peak once the input is
built, so peak - before is what denoising adds (the output, the same size as the input, and its working memory).
"""

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import soundfile
from scipy import signal

from bench import report

NOISY = Path("noisy") / "p287_001_noisy.flac"


def measure(path: Path, minutes: float, rate: int) -> dict:
    """One length, in this process: the denoiser's time and the process's peak memory, before and after."""
    from codec import speech_denoise

    clip, clip_rate = soundfile.read(path, dtype="float32", always_2d=True)
    clip = signal.resample_poly(clip, rate, clip_rate, axis=0).astype(np.float32)
    audio = np.resize(clip, (int(minutes * 60 * rate), clip.shape[1]))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    began = time.perf_counter()
    cleaned = speech_denoise.denoise(audio, rate)
    took = time.perf_counter() - began
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "minutes": minutes,
        "rate": rate,
        "input_mib": round(audio.nbytes / 2**20, 1),
        "peak_mib": round(peak),
        "before_mib": round(before),
        "added_mib": round(peak - before),
        "seconds": round(took, 1),
        "x_real_time": round(minutes * 60 / took, 2),
        "estimated_snr_db": round(cleaned.snr_db, 1),
    }


def main() -> None:
    p = report.parser(__doc__, "denoise_memory")
    p.add_argument("--minutes", type=float, nargs="+", default=[2, 8, 60], help="lengths of input to denoise")
    p.add_argument("--rate", type=int, default=16_000, help="sample rate of the input")
    p.add_argument("--one", type=float, help=argparse.SUPPRESS)  # measure one length in this process, print JSON
    args = p.parse_args()
    path = args.corpus / NOISY
    if not path.exists():
        p.error(f"needs {NOISY} under --corpus (the shared corpus)")
    if args.one is not None:
        print(json.dumps(measure(path, args.one, args.rate)))
        return
    began = time.perf_counter()
    rows = []
    for minutes in [0.05] if args.quick else args.minutes:
        command = [sys.executable, "-m", "bench.denoise_memory", "--corpus", str(args.corpus), "--rate", str(args.rate)]
        done = subprocess.run([*command, "--one", str(minutes)], check=True, capture_output=True, text=True)
        rows.append(json.loads(done.stdout.splitlines()[-1]))
        print(rows[-1], flush=True)
    lines = report.preamble("The speech denoiser on long input", "bench.denoise_memory", time.perf_counter() - began)
    lines += ["One fresh process a length; the model runs on one thread.", ""]
    report.write(rows, args.out, [*lines, *report.row_table(rows)])


if __name__ == "__main__":
    main()
