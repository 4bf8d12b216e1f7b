"""Phase searches of spectral synthesis (formats/ddc.md §7): quality and decode speed, same weights.

    python -m bench.phase --corpus ../shared/corpus --out bench/results/phase_v8

Every speech clip at 24 and 12 kbps and music clip at 64 kbps (10 s excerpts, default fit) is encoded once;
its header's `phase`, `phase_iterations` and `phase_slack` are then rewritten to each search below, so only
the phase changes. Each is decoded in this process (after a warm-up decode, so numba's compiled kernel is loaded) and
scored as the 16-bit PCM that `ddcodec decode` writes: PESQ-WB and STOI for speech, LSD and the Zimtohrli
MOS for both.
"true" rows run the same search on the original's own magnitudes (one segment, no network): the
phase step's ceiling. Two oracle rows per speech file at 24 kbps say where the rest is lost: the file's own
magnitudes with the original's phase ("original phase"), and with the phase the search without iterations
finds from the original's magnitudes ("pghi+0 of true magnitudes"). --cache DIR keeps the encoded files, so a
rerun only decodes.
"""

import io
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import codec
from bench import report
from bench.clips import Clip, load_clips
from codec import bitstream, metrics, phase, resample, spectrum
from codec.audio_io import as_written
from codec.bitstream import SLACK_STEPS_PER_NEPER, PhaseSearch
from codec.decoder.runs import iter_runs

RATES = {"speech": (24, 12), "music": (64,)}
# (phase, phase_iterations, phase_slack): the start, the iterations, and how far they may move a magnitude (1/64 neper)
SEARCHES: tuple[PhaseSearch, ...] = (
    (phase.GRIFFIN_LIM, 32, 0),
    *((phase.PGHI, k, 0) for k in (0, 1, 2, 4, 8, 16)),
    *((phase.PGHI, k, 10) for k in (1, 2, 4, 6, 8, 16)),
    (phase.PGHI, 8, 6),
    (phase.PGHI, 8, 16),
    (phase.PGHI, 16, 16),
)


def label(search: PhaseSearch) -> str:
    start, iterations, slack = search
    return f"{phase.STARTS[start].name}+{iterations}" + (f" slack {slack}/64" if slack else "")


def encoded(clip: Clip, kbps: int, iterations: int | None, cache: Path | None) -> bytes:
    path = cache / f"{clip.name.replace('/', '_')}_{kbps}.ddc" if cache else None
    if path and path.exists():
        return path.read_bytes()
    data = codec.encode(clip.audio, clip.rate, bitrate=kbps * 1000, iterations=iterations)
    if path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return data


def row(clip: Clip, kbps: int | str, search: PhaseSearch, reference: np.ndarray, audio: np.ndarray, rate: int):
    """A result row: `audio` scored against `reference` as the 16-bit PCM that `ddcodec decode` writes."""
    speech = clip.category != "music"
    scores = metrics.score(reference, as_written(audio), rate, speech, search_delay=False)
    kept = ("pesq_wb", "stoi", "lsd", "zimtohrli_mos")
    rounded = {k: None if scores.get(k) is None else round(scores[k], 3) for k in kept}
    return {"clip": clip.name, "category": clip.category, "kbps": kbps, "search": label(search)} | rounded


def decoded(clip: Clip, data: bytes, search: PhaseSearch, kbps: int) -> dict:
    start, iterations, slack = search
    data = bitstream.rewrite_header(data, phase=start, phase_iterations=iterations, phase_slack=slack)
    began = time.perf_counter()
    audio, rate = codec.decode(data)
    took = time.perf_counter() - began
    return row(clip, kbps, search, clip.audio, audio, rate) | {
        "decode_s": round(took, 4),
        "decode_rtf": round(clip.seconds / took, 1),
    }


@dataclass(frozen=True)
class Truth:
    """A clip at the rate the codec codes it at 24 kbps, and its log-magnitudes (C, F, B): no network."""

    audio: np.ndarray
    rate: int
    n_fft: int
    log_magnitude: np.ndarray


def truth(clip: Clip) -> Truth:
    spectral = codec.modes.get("spectral")
    divisor = spectral.rate_divisor(24_000, clip.rate, clip.audio.shape[1])
    audio = resample.decimate(clip.audio, divisor) if divisor > 1 else clip.audio
    rate = clip.rate // divisor
    n_fft = 1 << spectral.synthesis(rate)
    channels, bins = audio.shape[1], n_fft // 2 + 1
    log_magnitude = spectrum.analyze(audio, n_fft).reshape(-1, channels, bins).transpose(1, 0, 2)
    return Truth(audio, rate, n_fft, log_magnitude)


def true_magnitudes(clip: Clip, true: Truth, search: PhaseSearch) -> dict:
    """The search on the original's own magnitudes: the phase step's ceiling."""
    channels, count, bins = true.log_magnitude.shape
    no_frames = np.zeros((channels, 0, bins), np.complex128)
    start, iterations, slack = search
    frames = phase.rebuild(
        true.log_magnitude, count, start, iterations, 0, 0, no_frames, spectrum.ALL_CORES, slack / SLACK_STEPS_PER_NEPER
    )
    skip = true.n_fft - true.n_fft // spectrum.OVERLAP_FACTOR  # the leading padding of spectrum.analyze
    out = spectrum.istft(frames, true.n_fft)[:, skip : skip + len(true.audio)].T
    return row(clip, "true", search, true.audio, out, true.rate)


def oracles(clip: Clip, data: bytes, true: Truth) -> list[dict]:
    """The decoded magnitudes of a one-segment mono file (coded at true's rate) under two phases it cannot know."""
    header, exponents, codes = bitstream.read(io.BytesIO(data))
    if header.segments != 1 or header.channels != 1 or header.coded_rate != true.rate:
        return []
    count, skip = true.log_magnitude.shape[1], true.n_fft - true.n_fft // spectrum.OVERLAP_FACTOR
    coded = next(iter_runs(header, exponents, codes, header.rows * header.segment_length))[0].T[None, :count]
    original = spectrum.analysis(true.audio * np.float32(1 / header.gain_factor), true.n_fft)  # at the coded level
    no_frames = np.zeros((1, 0, original.shape[2]), np.complex128)
    log_original = spectrum.log_magnitude(original, true.n_fft)
    integrated = phase.rebuild(log_original, count, phase.PGHI, 0, 0, 0, no_frames, spectrum.ALL_CORES)
    rows = []
    for name, angle in (("original phase", np.angle(original)), ("pghi+0 of true magnitudes", np.angle(integrated))):
        frames = spectrum.magnitude(coded, true.n_fft) * np.exp(1j * angle)
        out = spectrum.istft(frames, true.n_fft)[:, skip : skip + len(true.audio)].T * header.gain_factor
        rows.append(row(clip, 24, (phase.PGHI, 0, 0), true.audio, out, true.rate) | {"search": name})
    return rows


def _stat(group: list[dict], key: str, worst: Callable[[list], float]) -> str:
    values = [r[key] for r in group if r.get(key) is not None]
    return f"{np.mean(values):.2f} / {worst(values):.2f}" if values else "-"


def summary(rows: list[dict]) -> list[str]:
    """Mean and worst clip per category, rate and search."""
    head = "| category | kbps | search | clips | PESQ-WB mean / worst | STOI mean | LSD mean / worst |"
    lines = [head + " Zimtohrli mean / worst | decode x real time mean / slowest |", "|" + "---|" * 9]
    for (category, kbps, search), group in report.grouped(rows, ("category", "kbps", "search")).items():
        stoi = [r["stoi"] for r in group if r.get("stoi") is not None]
        cells = (
            _stat(group, "pesq_wb", min),
            f"{np.mean(stoi):.3f}" if stoi else "-",
            _stat(group, "lsd", max),
            _stat(group, "zimtohrli_mos", min),
            _stat(group, "decode_rtf", min),
        )
        lines.append(f"| {category} | {kbps} | {search} | {len(group)} | " + " | ".join(cells) + " |")
    return lines


def main() -> None:
    p = report.parser(__doc__, "phase")
    p.add_argument("--cache", type=Path, default=None, help="folder to keep (and reuse) the encoded files in")
    args = p.parse_args()
    clips = [c for c in load_clips(args.corpus, 0.5 if args.quick else args.excerpt) if c.category in RATES]
    clips = clips[:1] if args.quick else clips
    iterations = 20 if args.quick else args.iterations
    began = time.perf_counter()
    codec.decode(codec.encode(np.zeros((4000, 1), np.float32) + 0.1, 8000, iterations=2))  # loads the kernel
    rows = []
    for clip in clips:
        for kbps in RATES[clip.category]:
            data = encoded(clip, kbps, iterations, args.cache)
            rows += [decoded(clip, data, search, kbps) for search in SEARCHES]
        if clip.category == "speech":
            true = truth(clip)
            rows += [true_magnitudes(clip, true, search) for search in SEARCHES]
            rows += oracles(clip, encoded(clip, 24, iterations, args.cache), true)
        print(f"{clip.name}: done", flush=True)
    lines = report.preamble("Phase searches, same weights", "bench.phase", time.perf_counter() - began)
    lines += ["Means over clips; worst is the lowest PESQ, the highest LSD, the slowest decode.", ""]
    report.write(rows, args.out, lines + summary(rows) + ["", *report.row_table(rows)])


if __name__ == "__main__":
    main()
