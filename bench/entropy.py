"""What an entropy coder could save over zstd on the quantized weights (issue 12: "entropy coding of the codes with
an explicit probability model ... replacing zstd where it wins").

    python -m bench.entropy --corpus ../shared/corpus --out bench/results/entropy

Every dev speech clip at 24 kbps and music clip at 64 kbps (10 s excerpts, default encoder) is encoded once, and its
payload is measured in bits a weight four ways:
- `zstd`: the file's payload as written (step bytes included);
- `order0`: the codes' empirical entropy, each tensor of each segment with its own histogram: what an ideal
  adaptive or two-pass coder without context reaches, before it pays for its tables;
- `gauss`, `laplace`: the cost under a discretized Gaussian or Laplace per tensor and segment whose scale is the
  codes' own (RMS, mean |code|): what a coder with one stored scale a tensor (Cool-chic's, C3's) would spend.
The step bytes (one a tensor a segment) are counted at 8 bits in the last three, as the raw payload holds them.
"""

import io
import time

import numpy as np
from scipy import special

import codec
from bench import report
from bench.clips import load_clips
from codec import bitstream

KBPS = {"speech": 24, "music": 64}


def order0_bits(codes: np.ndarray) -> float:
    """Empirical entropy of the codes, in bits in all."""
    _, counts = np.unique(codes, return_counts=True)
    return float(-(counts * np.log2(counts / counts.sum())).sum())


def _gauss_cdf(x: np.ndarray, rms: float) -> np.ndarray:
    return special.ndtr(x / rms)


def _laplace_cdf(x: np.ndarray, mean_abs: float) -> np.ndarray:
    return 0.5 + 0.5 * np.sign(x) * (1 - np.exp(-np.abs(x) / mean_abs))


# model -> (its CDF, the scale it takes from the codes): a zero-mean Gaussian of their RMS, a Laplace of their mean |v|
MODELS = {
    "gauss": (_gauss_cdf, lambda v: float(np.sqrt(np.mean(v**2)))),
    "laplace": (_laplace_cdf, lambda v: float(np.mean(np.abs(v)))),
}
MIN_SCALE = 0.3  # a tensor of zeros would otherwise have no distribution


def model_bits(values: np.ndarray, model: str) -> float:
    """Bits of integer `values` under MODELS[model], discretized to the integers, with the values' own scale."""
    cdf, scale_of = MODELS[model]
    v = values.astype(np.float64)
    scale = max(scale_of(v), MIN_SCALE)
    p = np.maximum(cdf(v + 0.5, scale) - cdf(v - 0.5, scale), 1e-300)
    return float(-np.log2(p).sum())


def measured(name: str, category: str, data: bytes) -> dict:
    """One file's payload in bits a weight: as written, and the three bounds."""
    header, exponents, codes = bitstream.read(io.BytesIO(data))
    weights = sum(c.size for c in codes)
    steps = 8 * exponents.size
    per_tensor = [(c[s], bitstream.zigzag_decode(c[s])) for c in codes for s in range(len(c))]
    return {
        "clip": name,
        "category": category,
        "width": header.width,
        "levels": header.levels,
        "weights": weights,
        "zstd": round(8 * header.payload_bytes / weights, 3),
        "order0": round((steps + sum(order0_bits(c) for c, _ in per_tensor)) / weights, 3),
    } | {model: round((steps + sum(model_bits(v, model) for _, v in per_tensor)) / weights, 3) for model in MODELS}


def main() -> None:
    args = report.parser(__doc__, "entropy").parse_args()
    began = time.perf_counter()
    clips = [c for c in load_clips(args.corpus, 0.5 if args.quick else args.excerpt) if c.category in KBPS]
    if args.quick:
        clips = clips[:1]
    steps = 20 if args.quick else args.iterations
    rows = []
    for clip in clips:
        data = codec.encode(clip.audio, clip.rate, bitrate=KBPS[clip.category] * 1000, iterations=steps)
        rows.append(measured(clip.name, clip.category, data))
    columns = ("zstd", "order0", *MODELS)
    title = "Payload bits a weight: zstd against entropy bounds"
    lines = report.preamble(title, "bench.entropy", time.perf_counter() - began)
    lines += [*report.mean_table(rows, ("category",), columns), "", *report.row_table(rows)]
    report.write(rows, args.out, lines)


if __name__ == "__main__":
    main()
