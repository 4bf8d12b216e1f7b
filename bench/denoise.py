"""Denoising benchmark: code noisy speech, score the result against the clean speech.

    python -m bench.denoise                                   # bundled speech clip
    python -m bench.denoise --corpus ../shared/corpus --iterations 300 --out bench/out/denoise
    python -m bench.denoise --quick                           # a smoke test

Noise (fixed seeds): white at 0 and 10 dB SNR, pink (1/f power) at 5 dB. Methods:
the noisy input itself; ddcodec, Opus and MP3 of the noisy input at the same
kbps; noisereduce's spectral gating (if installed) and scipy's Wiener filter.
Writes OUT.csv, OUT.md (means per condition and method) and OUT.png.
"""

import time

import numpy as np
from scipy import signal

from bench import contenders, report
from bench.clips import Clip, load_clips
from codec import metrics
from codec.modes import MODES

CONDITIONS = {"white 0 dB": ("white", 0.0), "white 10 dB": ("white", 10.0), "pink 5 dB": ("pink", 5.0)}
WIENER_SIZE = 9  # samples; scipy's default of 3 barely filters


def noise(kind: str, shape: tuple[int, int], seed: int) -> np.ndarray:
    """Unit-variance white noise, or pink noise shaped to 1/f power in the frequency domain."""
    white = np.random.default_rng(seed).standard_normal(shape)
    if kind == "white":
        return white
    spectrum = np.fft.rfft(white, axis=0)
    spectrum /= np.sqrt(np.maximum(np.arange(len(spectrum)), 1))[:, None]
    pink = np.fft.irfft(spectrum, n=shape[0], axis=0)
    return pink / pink.std()


def noisy(clip: Clip, kind: str, snr_db: float, seed: int) -> Clip:
    clean = clip.audio.astype(np.float64)
    n = noise(kind, clean.shape, seed)
    n *= np.sqrt(np.mean(clean**2) / np.mean(n**2) / 10 ** (snr_db / 10))
    return Clip(clip.name, clip.category, (clean + n).astype(np.float32), clip.rate)


def spectral_gating(audio: np.ndarray, rate: int) -> np.ndarray | None:
    try:
        import noisereduce
    except ImportError:
        return None
    return np.stack([noisereduce.reduce_noise(y=channel, sr=rate) for channel in audio.T], axis=1)


def methods(dirty: Clip, kbps: float, iterations: int | None) -> dict[str, tuple[np.ndarray, float | None]]:
    """Each method's output and its bitrate (None for the filters, which store nothing)."""
    out: dict[str, tuple[np.ndarray, float | None]] = {
        "noisy input": (dirty.audio, None),
        "wiener": (np.stack([signal.wiener(c, WIENER_SIZE) for c in dirty.audio.T.astype(np.float64)], 1), None),
    }
    gated = spectral_gating(dirty.audio, dirty.rate)
    if gated is not None:
        out["noisereduce"] = (gated, None)
    coded = [contenders.ddcodec(dirty, kbps, iterations, mode) for mode in MODES]
    coded += [contenders.lossy(dirty, kbps, n) for n in ("opus", "mp3")]
    for c in coded:
        out[c.codec] = (c.decoded, metrics.bitrate_kbps(c.size, dirty.seconds))
    return out


def run(clips: list[Clip], kbps: float, iterations: int | None) -> list[dict]:
    rows = []
    for clip in clips:
        for seed, (condition, (kind, snr)) in enumerate(CONDITIONS.items()):
            dirty = noisy(clip, kind, snr, seed)
            for name, (output, rate) in methods(dirty, kbps, iterations).items():
                scores = metrics.score(clip.audio, output, clip.rate, speech=True)
                rows.append(
                    {"clip": clip.name, "condition": condition, "input_snr_db": snr, "method": name}
                    | {"target_kbps": kbps, "kbps": rate, **scores}
                )
                print(f"{clip.name} {condition} {name}: snr {scores['snr_db']:.2f} lsd {scores['lsd']:.2f}")
    return rows


def main() -> None:
    parser = report.parser(__doc__, "denoise")
    parser.add_argument("--kbps", type=float, default=24.0, help="bitrate of the codecs")
    args = parser.parse_args()
    excerpt, iterations = (0.5, 20) if args.quick else (args.excerpt, args.iterations)
    clips = [c for c in load_clips(args.corpus, excerpt) if c.category == "speech"][: 1 if args.quick else None]
    began = time.perf_counter()
    rows = run(clips, args.kbps, iterations)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    report.write_csv(rows, args.out.with_suffix(".csv"))
    lines = [
        *report.preamble("Denoising benchmark", "bench.denoise", time.perf_counter() - began),
        f"Speech plus noise, scored against the clean speech; codecs at {args.kbps:g} kbps. Means over clips.",
        "",
        *report.mean_table(rows, ("condition", "method"), ("kbps", *report.METRICS)),
    ]
    args.out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    title = "denoising: score against input SNR"
    report.plot(rows, args.out.with_suffix(".png"), "input_snr_db", "method", report.METRICS, title, point="condition")
    print(f"wrote {args.out}.md, .csv and .png")


if __name__ == "__main__":
    main()
