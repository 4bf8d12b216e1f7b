"""Restoration against classical baselines (issue 16): damage added at known places in clean clips.

    python -m bench.restore --corpus ../shared/corpus --excerpt 6 --out bench/results/restore

Every speech and music clip, in its own copy per task:
- gets 8 dropouts of 5, 20, 50 or 200 ms (set to digital silence; no Janssen at 200 ms), or 20 clicks (bursts
  of noise 0.2-1 ms long under a Hann window, peaking at 0.3-1 x the clip's peak), at random places where it is
  sounding (seeded by its name);
- is clipped at 0.3 and 0.5 of its peak;
- is resampled to 16 kHz (speech) or 44.1 kHz (music), the reference, and comes in at half that rate.
Each method repairs the damage. SNR is measured over the damaged (or clipped) samples only, LSD
(codec/metrics.py) over the whole clip; LSD alone measures bandwidth extension. ddcodec restores as
`ddcodec restore --gaps` (and so on) does, finding the damage itself. The "true mask" rows fill the places we
damaged, to part the finder from the filler; "spectral filler" is what `restore` fills runs over 100 ms with,
measured here on shorter ones. The clean rows run `--declip --gaps --clicks` on undamaged clips: what a user
loses by asking for a restore that was not needed.
"""

import time
import zlib
from collections.abc import Callable

import numpy as np

from bench import report, restore_baselines
from bench.clips import Clip, load_clips
from codec import metrics
from codec.restore import Damage, fill, inpaint, restore

GAPS_MS = (5, 20, 50)
LONG_GAP_MS = 200  # beyond Janssen's reach (its cost grows with the square of the run): ddcodec's spectral filler
CLIP_LEVELS = (0.3, 0.5)  # of the clip's peak
# Bandwidth: each category's clips at this rate are the reference, and come in at half of it.
BANDWIDTH_RATES = {"speech": 16000, "music": 44100}
DROPOUTS, CLICKS = 8, 20
SPACING_S = 0.25


def places(audio: np.ndarray, rate: int, count: int, length: int, rng: np.random.Generator) -> list[int]:
    """Starts of `count` stretches `length` long, SPACING_S apart, where the clip's level over the stretch is at
    least a tenth of its RMS (sounding, not a pause)."""
    power = np.convolve(np.mean(audio**2, axis=1), np.ones(length) / length, "valid")
    margin = round(0.1 * rate)
    candidates = np.flatnonzero(power[margin:-margin] > 0.01 * np.mean(audio**2)) + margin
    chosen: list[int] = []
    for start in rng.permutation(candidates):
        if all(abs(start - other) > SPACING_S * rate for other in chosen):
            chosen.append(int(start))
        if len(chosen) == count:
            break
    return sorted(chosen)


def dropouts(clip: Clip, ms: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    audio = clip.audio.astype(np.float64)
    length = round(ms / 1000 * clip.rate)
    unknown = np.zeros(len(audio), bool)
    for start in places(audio, clip.rate, DROPOUTS, length, rng):
        unknown[start : start + length] = True
    return np.where(unknown[:, None], 0.0, audio), unknown


def clicks(clip: Clip, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    audio = clip.audio.astype(np.float64)
    peak = np.abs(audio).max()
    damaged, unknown = audio.copy(), np.zeros(len(audio), bool)
    for start in places(audio, clip.rate, CLICKS, round(0.001 * clip.rate), rng):
        width = max(2, round(rng.uniform(0.0002, 0.001) * clip.rate))
        burst = rng.standard_normal((width, audio.shape[1]))
        burst /= np.abs(burst).max()
        shape = burst * np.hanning(width + 2)[1:-1, None] * rng.uniform(0.3, 1.0) * peak
        damaged[start : start + width] += shape
        unknown[start : start + width] = True
    return np.clip(damaged, -1, 1), unknown


def clipped(clip: Clip, level: float) -> tuple[np.ndarray, np.ndarray]:
    audio = clip.audio.astype(np.float64)
    limit = level * np.abs(audio).max()
    return np.clip(audio, -limit, limit), np.abs(audio) >= limit


def row(clip: Clip, task: str, method: str, restored: np.ndarray, unknown: np.ndarray, took: float) -> dict:
    audio = clip.audio.astype(np.float64)
    snr = metrics.snr_db(audio[unknown], restored[unknown]) if unknown.any() else None  # unknown: (frames[, C])
    lsd = float(np.mean([metrics.lsd(audio[:, c], restored[:, c]) for c in range(audio.shape[1])]))
    return {
        "clip": clip.name,
        "category": clip.category,
        "task": task,
        "method": method,
        "snr_db": None if snr is None else round(snr, 2),
        "lsd": round(lsd, 3),
        "flagged_pct": None,
        "seconds": round(took, 2),
    }


Method = Callable[[np.ndarray, np.ndarray, int], np.ndarray]  # (damaged, true mask, rate) -> restored

GAP_METHODS: dict[str, Method] = {
    "nothing (silence)": lambda x, unknown, rate: restore_baselines.zeros(x, unknown),
    "linear": lambda x, unknown, rate: restore_baselines.linear(x, unknown),
    "Janssen AR": lambda x, unknown, rate: restore_baselines.janssen(x, unknown, rate),
    "ddcodec --gaps": lambda x, unknown, rate: restore(x, rate, Damage(gaps=True))[0],
    "spectral filler, true mask": lambda x, unknown, rate: inpaint.fill(x, unknown, rate),
}
CLIP_METHODS: dict[str, Method] = {
    "nothing (clipped)": lambda x, clipped, rate: x,
    "cubic spline": lambda x, clipped, rate: restore_baselines.cubic(x, clipped),
    "ddcodec --declip": lambda x, clipped, rate: restore(x, rate, Damage(declip=True))[0],
}
CLICK_METHODS: dict[str, Method] = {
    "nothing": lambda x, unknown, rate: x,
    "median declicker": lambda x, unknown, rate: restore_baselines.median_declick(x, rate),
    "ddcodec --clicks": lambda x, unknown, rate: restore(x, rate, Damage(clicks=True))[0],
    "ddcodec, true mask": lambda x, unknown, rate: fill(x, unknown, rate),
}


def scored(clip: Clip, task: str, methods: dict[str, Method], damaged: np.ndarray, unknown: np.ndarray) -> list[dict]:
    rows = []
    for method, run in methods.items():
        began = time.perf_counter()
        restored = run(damaged, unknown, clip.rate)
        rows.append(row(clip, task, method, restored, unknown, time.perf_counter() - began))
    return rows


def extended(clip: Clip) -> list[dict]:
    """The clip at its category's BANDWIDTH_RATES rate, halved, then brought back by each method; LSD only."""
    rate = BANDWIDTH_RATES[clip.category]
    reference = Clip(clip.name, clip.category, metrics.resample(clip.audio, clip.rate, rate), rate)
    low = metrics.resample(reference.audio, rate, rate // 2)
    task = f"bandwidth {rate // 2} -> {rate} Hz"
    methods = {
        "plain resampling": lambda: restore_baselines.resampled(low, rate // 2, rate),
        "ddcodec --bandwidth": lambda: restore(low, rate // 2, Damage(bandwidth=rate))[0],
    }
    rows = []
    for method, run in methods.items():
        began = time.perf_counter()
        out = run()[: len(reference.audio)]
        rows.append(row(reference, task, method, out, np.zeros(len(out), bool), time.perf_counter() - began))
    return rows


def measure(clip: Clip) -> list[dict]:
    rng = np.random.default_rng(zlib.crc32(clip.name.encode()))
    rows = []
    for ms in GAPS_MS:
        rows += scored(clip, f"gaps {ms} ms", GAP_METHODS, *dropouts(clip, ms, rng))
    long = {name: GAP_METHODS[name] for name in ("nothing (silence)", "linear", "ddcodec --gaps")}
    rows += scored(clip, f"gaps {LONG_GAP_MS} ms", long, *dropouts(clip, LONG_GAP_MS, rng))
    rows += scored(clip, "clicks", CLICK_METHODS, *clicks(clip, rng))
    for level in CLIP_LEVELS:
        rows += scored(clip, f"clipped at {level:g} of peak", CLIP_METHODS, *clipped(clip, level))
    rows += extended(clip)
    audio = clip.audio.astype(np.float64)
    began = time.perf_counter()
    restored, _, found = restore(audio, clip.rate, Damage(declip=True, gaps=True, clicks=True))
    clean = row(clip, "clean", "ddcodec --declip --gaps --clicks", restored, np.zeros(len(audio), bool), 0.0)
    clean["seconds"] = round(time.perf_counter() - began, 2)
    clean["flagged_pct"] = round(100 * sum(found.samples.values()) / len(audio), 3)
    return [*rows, clean]


def summary(rows: list[dict]) -> list[str]:
    """Per task, category and method: SNR over the damage and LSD, mean / worst clip, and seconds per clip."""
    lines = ["| task | category | method | clips | SNR dB, mean / worst | LSD, mean / worst | s per clip |"]
    lines.append("|---|---|---|---|---|---|---|")
    for (task, category, method), group in report.grouped(rows, ("task", "category", "method")).items():
        snr = [r["snr_db"] for r in group if r["snr_db"] is not None]
        lsd = [r["lsd"] for r in group]
        snr_cell = f"{np.mean(snr):.2f} / {min(snr):.2f}" if snr else "-"
        seconds = np.mean([r["seconds"] for r in group])
        cells = (task, category, method, str(len(group)), snr_cell, f"{np.mean(lsd):.3f} / {max(lsd):.3f}")
        lines.append("| " + " | ".join(cells) + f" | {seconds:.2f} |")
    clean = [r for r in rows if r["task"] == "clean"]
    if clean:
        flagged = [r["flagged_pct"] for r in clean]
        lines += [
            "",
            f"Clean clips: {np.mean(flagged):.3f} % of samples flagged on average, at most {max(flagged):.3f} %.",
        ]
    return lines


def main() -> None:
    args = report.parser(__doc__, "restore").parse_args()
    clips = [
        c for c in load_clips(args.corpus, 0.5 if args.quick else args.excerpt) if c.category in ("speech", "music")
    ]
    clips = clips[:1] if args.quick else clips
    began = time.perf_counter()
    rows = []
    for clip in clips:
        rows += measure(clip)
        print(f"{clip.name}: done", flush=True)
    lines = report.preamble("Restoration against classical baselines", "bench.restore", time.perf_counter() - began)
    gap_rows = [r | {"gap_ms": float(r["task"].split()[1])} for r in rows if r["task"].startswith("gaps")]
    if gap_rows:
        plot = args.out.with_suffix(".png")
        report.plot(gap_rows, plot, "gap_ms", "method", ("snr_db", "lsd"), "Dropouts: SNR over the gap, LSD", "gap_ms")
        lines += [f"![dropouts]({plot.name})", ""]
    report.write(rows, args.out, lines + summary(rows) + ["", *report.row_table(rows)])


if __name__ == "__main__":
    main()
