"""Speed benchmark: encode and decode speed alone and on a shared machine, peak memory, the fit's GFLOP/s.

    python -m bench.speed                                    # bundled clips
    python -m bench.speed --corpus ../shared/corpus --out bench/results/speed
    python -m bench.speed --tables sharing --out bench/results/speed_sharing   # one table alone
    python -m bench.speed --quick                            # a smoke test

Two tables. **Modes**: speech at 16 kHz (24 kbps) and music at 44.1 kHz stereo (64 kbps), 10-second excerpts, in
each mode at its default fit and threads, with the SNR and LSD reached. **Sharing the cores**: the speech clip in
the default mode under each thread setting, (a) alone, (b) beside one CPU-bound process (a Python busy loop), and
(c) as one of two ddcodec encodes started together; the slowdown is against the same setting alone. "OpenMP's own
waiting" runs with OMP_WAIT_POLICY set empty, which OpenMP ignores: its built-in spinning, what ddcodec did before
it asked OpenMP to wait passively. An encode that runs past 8x its time alone is stopped and shown as "> N s".

Every encode and decode runs in a fresh process, which reports its own wall time (after its imports) and peak RSS
(VmHWM, Linux). Decoding is timed in-process: the first decode (which loads the compiled kernels) and then the
median of the next ones. Real-time factor (x) = audio seconds / wall seconds. The fit's FLOPs are counted from the
network shape: a forward pass costs k^2 n0 (2^d - 1) + rows k L multiply-adds per segment, a backward pass twice
that, two FLOPs a multiply-add (elementwise work not counted); the peak is a large float32 matmul in torch.
"""

import contextlib
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import soundfile
import torch

import codec
from bench import report
from bench.clips import Clip, load_clips
from codec import metrics
from codec.bitstream import Header
from codec.modes import DEFAULT, MODES

CHILD = """
import json, sys, time
import soundfile, codec
job = json.loads(sys.argv[1])
took = []
if job["verb"] == "encode":
    audio, rate = soundfile.read(job["audio"], dtype="float32", always_2d=True)
    began = time.perf_counter()
    data = codec.encode(audio, rate, bitrate=job["kbps"] * 1000, iterations=job["iterations"], mode=job["mode"],
                        threads=job["threads"])
    took.append(time.perf_counter() - began)
    open(job["ddc"], "wb").write(data)
else:
    data = open(job["ddc"], "rb").read()
    for _ in range(job["repeats"]):
        began = time.perf_counter()
        codec.decode(data, threads=job["threads"])
        took.append(time.perf_counter() - began)
# VmHWM, not getrusage: Linux carries the parent's peak RSS across exec into ru_maxrss.
status = open("/proc/self/status").read().split("VmHWM:")[1].split()
print(json.dumps({"seconds": took, "peak_rss_mb": int(status[0]) / 1024}))
"""
HOG = "while True: pass"
TARGETS = {"speech": 24.0, "music": 64.0}
DECODES = 6  # the first loads the kernels; the median of the other five is the warm speed
STOP_AFTER = 8.0  # an encode slower than this many times its time alone is stopped


@dataclass(frozen=True)
class Setting:
    """A thread setting to run the children under: --threads, and OMP_WAIT_POLICY (None: ddcodec's default)."""

    label: str
    threads: int
    wait_policy: str | None = None

    def env(self) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if key not in ("OMP_WAIT_POLICY", "DDCODEC_THREADS")}
        return env if self.wait_policy is None else {**env, "OMP_WAIT_POLICY": self.wait_policy}


SETTINGS = (
    Setting("1 thread (default)", 1),
    Setting("2 threads", 2),
    Setting("2 threads, OpenMP's own waiting", 2, ""),
)


def start(job: dict, setting: Setting) -> subprocess.Popen:
    job = {**job, "threads": setting.threads}
    command = [sys.executable, "-c", CHILD, json.dumps(job)]
    return subprocess.Popen(command, env=setting.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(child: subprocess.Popen, timeout: float | None = None) -> dict | None:
    """The child's report, or None when it ran past `timeout` seconds (it is stopped)."""
    try:
        out, err = child.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        child.kill()
        child.communicate()
        return None
    if child.returncode:
        raise RuntimeError(f"benchmark child failed: {err.strip().splitlines()[-1:]}")
    return json.loads(out.strip().splitlines()[-1])


@contextlib.contextmanager
def cpu_hog() -> Iterator[None]:
    """One CPU-bound process beside the block."""
    hog = subprocess.Popen([sys.executable, "-c", HOG])
    try:
        time.sleep(0.5)  # let it take its core
        yield
    finally:
        hog.kill()
        hog.wait()


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


def jobs(clip: Clip, mode: str, iterations: int | None, folder: Path) -> tuple[dict, dict]:
    """The encode and decode jobs for one clip (its audio written to `folder`)."""
    wav, ddc = folder / f"{clip.name.replace('/', '_')}.wav", folder / f"{clip.name.replace('/', '_')}_{mode}.ddc"
    if not wav.exists():  # one clip's audio serves every mode and thread setting
        soundfile.write(wav, clip.audio, clip.rate, subtype="FLOAT")
    encode = {"verb": "encode", "audio": str(wav), "ddc": str(ddc), "kbps": TARGETS[clip.category], "mode": mode}
    return {**encode, "iterations": iterations}, {"verb": "decode", "ddc": str(ddc), "repeats": DECODES}


def measure(clip: Clip, mode: str, iterations: int | None, folder: Path) -> dict:
    """One clip in one mode at the default threads: speeds, memory and what the fit reached."""
    encode_job, decode_job = jobs(clip, mode, iterations, folder)
    default = SETTINGS[0]
    encode, decode = finish(start(encode_job, default)), finish(start(decode_job, default))
    data = Path(encode_job["ddc"]).read_bytes()
    header = codec.read_header(io.BytesIO(data))
    decoded, _ = codec.decode(data)
    steps = iterations or MODES[mode].fit.steps(header.rows)
    warm = statistics.median(decode["seconds"][1:])
    return {
        "clip": clip.name,
        "mode": mode,
        "rate_hz": clip.rate,
        "channels": clip.audio.shape[1],
        "seconds": round(clip.seconds, 2),
        "kbps": TARGETS[clip.category],
        "iterations": steps,
        "width": header.width,
        "segments": header.segments,
        "snr_db": metrics.snr_db(clip.audio, decoded),
        "lsd": metrics.lsd(clip.audio, decoded),
        "encode_s": encode["seconds"][0],
        "encode_rtf": clip.seconds / encode["seconds"][0],
        "encode_peak_rss_mb": encode["peak_rss_mb"],
        "fit_gflops": fit_gflop(header, steps) / encode["seconds"][0],
        "decode_first_s": decode["seconds"][0],
        "decode_rtf": clip.seconds / warm,
        "decode_peak_rss_mb": decode["peak_rss_mb"],
    }


def sharing(clip: Clip, setting: Setting, iterations: int | None, folder: Path) -> dict:
    """One thread setting's encode and decode speeds alone, beside a CPU-bound process, and two encodes at once."""
    encode_job, decode_job = jobs(clip, DEFAULT, iterations, folder)
    alone = finish(start(encode_job, setting))["seconds"][0]
    cap = max(STOP_AFTER * alone, 10.0)
    with cpu_hog():
        hogged = finish(start(encode_job, setting), cap)
    pair = [start(encode_job, setting), start(encode_job, setting)]
    both = [finish(child, cap) for child in pair]
    decode_alone = finish(start(decode_job, setting))["seconds"][1:]
    with cpu_hog():
        decode_hogged = finish(start(decode_job, setting))["seconds"][1:]
    slower = None if None in both else max(b["seconds"][0] for b in both)
    return {
        "clip": clip.name,
        "setting": setting.label,
        "seconds": round(clip.seconds, 2),
        "encode_alone_s": alone,
        "encode_beside_hog_s": hogged and hogged["seconds"][0],
        "encode_two_at_once_s": slower,
        "stopped_after_s": cap,
        "decode_alone_rtf": clip.seconds / statistics.median(decode_alone),
        "decode_beside_hog_rtf": clip.seconds / statistics.median(decode_hogged),
    }


def sharing_table(rows: list[dict]) -> list[str]:
    def took(row: dict, key: str) -> str:
        value = row[key]
        if value is None:
            return f"> {row['stopped_after_s']:.0f} s (stopped)"
        return f"{value:.1f} s ({value / row['encode_alone_s']:.2f}x)"

    lines = [
        "| setting | encode alone | beside a busy loop | two encodes at once (the slower) | decode alone | "
        "decode beside a busy loop |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['setting']} | {r['encode_alone_s']:.1f} s | {took(r, 'encode_beside_hog_s')} | "
            f"{took(r, 'encode_two_at_once_s')} | {r['decode_alone_rtf']:.0f}x | {r['decode_beside_hog_rtf']:.0f}x |"
        )
    return lines


def main() -> None:
    parser = report.parser(__doc__, "speed")
    parser.add_argument("--tables", nargs="+", choices=("modes", "sharing"), default=["modes", "sharing"])
    args = parser.parse_args()
    excerpt, iterations = (0.5, 20) if args.quick else (args.excerpt, args.iterations)
    clips = load_clips(args.corpus, excerpt)
    speech = next(c for c in clips if c.category == "speech")
    stereo = [c for c in clips if c.category == "music" and c.rate == 44100 and c.audio.shape[1] == 2]
    picks = [speech] + ([] if args.quick or not stereo else [max(stereo, key=lambda c: c.seconds)])
    settings = SETTINGS[:1] if args.quick else SETTINGS
    began = time.perf_counter()
    peak = matmul_peak_gflops()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        rows = [measure(c, m, iterations, folder) for c in picks for m in MODES] if "modes" in args.tables else []
        shared = [sharing(speech, s, iterations, folder) for s in settings] if "sharing" in args.tables else []
    lines = [
        *report.preamble("Speed benchmark", "bench.speed", time.perf_counter() - began),
        f"Measured float32 matmul peak (torch, 2048^2): {peak:.0f} GFLOP/s.",
    ]
    if rows:
        lines += ["", "## Modes, at the default threads", ""]
        lines += report.row_table(rows, lambda v: f"{v:.3g}" if isinstance(v, float) else str(v))
        lines += [""] + [
            f"- {r['clip']}, {r['mode']}: the fit ran at {r['fit_gflops']:.1f} GFLOP/s, "
            f"{100 * r['fit_gflops'] / peak:.0f} % of the matmul peak."
            for r in rows
        ]
    if shared:
        lines += ["", f"## Sharing the cores: {speech.name}, {speech.seconds:.1f} s, {DEFAULT} mode", ""]
        lines += sharing_table(shared)
    report.write([{"table": "modes", **r} for r in rows] + [{"table": "sharing", **r} for r in shared], args.out, lines)


if __name__ == "__main__":
    main()
