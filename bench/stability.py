"""How much a speech clip's quality moves with the encoder's seed, the decoder's phase draw and the input's level
(issue 12, "stable fits").

    python -m bench.stability --corpus ../shared/corpus --out bench/results/stability_v8_draws

Every dev speech clip (10 s excerpts) at 24 kbps in the default mode, three ways:
- seed: encoded with seeds 0 to 4 at its own level;
- draw: seed 0's file decoded with the phase search's random start drawn from seeds 1 to 7 in place of the file's
  own (`phase_draw`): the same networks, so only the draw differs;
- level: seed 0 scaled to an RMS of -40, -30, -20 and -10 dBFS (a level whose peak would pass full scale is
  left out, not clipped), its decode (as the 16-bit file `ddcodec decode` writes) scaled back.
Each decode is scored against the clip at the clip's own level: PESQ-WB, the Zimtohrli MOS and LSD. Zimtohrli
models absolute level (one decode of lyra_sample2_16kHz scores 4.21, and 4.64 with it and the clip 20 dB quieter:
distortions fall under the threshold of hearing), so every level is scored at one level and the spread stays the
codec's own.
The spread of a clip is its best score minus its worst, per metric; the issue asks for at most 0.1 PESQ-WB either
way. The draw rows include seed 0's own decode, so a clip's draw spread is over 8 draws.
"""

import contextlib
import time
from collections.abc import Iterator
from unittest import mock

import numpy as np

import codec
from bench import report
from bench.clips import Clip, load_clips
from codec import metrics, phase
from codec.audio_io import as_written

KBPS = 24
SEEDS = (0, 1, 2, 3, 4)
DRAWS = (1, 2, 3, 4, 5, 6, 7)
LEVELS_DB = (-40, -30, -20, -10)
SCORES = {"pesq_wb": "PESQ-WB", "zimtohrli_mos": "Zimtohrli"}


def rms_db(audio: np.ndarray) -> float:
    return float(20 * np.log10(np.sqrt(np.mean(np.square(audio, dtype=np.float64))) + 1e-12))


@contextlib.contextmanager
def phase_draw(draw: int) -> Iterator[None]:
    """Inside, decodes draw the phase search's random start angles from seed `draw` instead of the file's seed.

    A probe, not a decoder option: formats/ddc.md §7 draws them from the header's seed, which also makes the
    networks' input, so rewriting the header would change the networks too. This changes the draw alone."""
    rebuild = phase.rebuild

    def redrawn(y, valid, start, iterations, seed, segment, shared, workers, slack=0.0):
        return rebuild(y, valid, start, iterations, draw, segment, shared, workers, slack)

    with mock.patch.object(phase, "rebuild", redrawn):
        yield


def scored(clip: Clip, data: bytes, gain: float = 1.0) -> dict:
    """The decode of `data`, made from the clip times `gain`, divided by `gain` and scored against the clip."""
    decoded = as_written(codec.decode(data)[0]) / np.float32(gain)
    scores = metrics.score(clip.audio, decoded, clip.rate, search_delay=False)
    kept = (*SCORES, "lsd")
    return {k: None if scores.get(k) is None else round(scores[k], 3) for k in kept}


def measure(clip: Clip, iterations: int | None) -> list[dict]:
    own = rms_db(clip.audio)
    base = {"clip": clip.name, "rate": clip.rate}

    def encoded(audio: np.ndarray, seed: int) -> bytes:
        return codec.encode(audio, clip.rate, bitrate=KBPS * 1000, seed=seed, iterations=iterations)

    rows, first = [], b""  # first: seed 0's file, which the draws decode
    for seed in SEEDS:
        data = encoded(clip.audio, seed)
        first = data if seed == SEEDS[0] else first
        rows.append(base | {"varied": "seed", "seed": seed, "draw": seed, "rms_dbfs": round(own, 1)})
        rows[-1] |= scored(clip, data)
    for draw in DRAWS:
        with phase_draw(draw):
            rows.append(base | {"varied": "draw", "seed": SEEDS[0], "draw": draw, "rms_dbfs": round(own, 1)})
            rows[-1] |= scored(clip, first)
    for level in LEVELS_DB:
        gain = 10 ** ((level - own) / 20)
        audio = (clip.audio * gain).astype(np.float32)
        if np.abs(audio).max() >= 1.0:
            continue
        rows.append(base | {"varied": "level", "seed": SEEDS[0], "draw": SEEDS[0], "rms_dbfs": level})
        rows[-1] |= scored(clip, encoded(audio, SEEDS[0]), gain)
    return rows


def members(group: list[dict], varied: str) -> list[dict]:
    """A clip's rows of one kind of variation; the draws include seed 0's own decode (its draw is the file's)."""
    own = [r for r in group if r["varied"] == "seed" and r["seed"] == SEEDS[0]] if varied == "draw" else []
    return own + [r for r in group if r["varied"] == varied]


def spreads(rows: list[dict]) -> list[str]:
    """Per clip, kind of variation and metric: the mean and the spread (best - worst); then mean and worst spread
    over the clips."""
    kinds = ("seed", "draw", "level")
    header = ["clip"] + [f"{kind}s: {label} mean / spread" for kind in kinds for label in SCORES.values()]
    lines = ["| " + " | ".join(header) + " |", "|---" * len(header) + "|"]
    found: dict[tuple[str, str], list[float]] = {(kind, key): [] for kind in kinds for key in SCORES}
    for (name,), group in report.grouped(rows, ("clip",)).items():
        cells = [name]
        for kind in kinds:
            for key in SCORES:
                values = [r[key] for r in members(group, kind) if r[key] is not None]
                if len(values) < 2:
                    cells.append("-")
                    continue
                found[kind, key].append(max(values) - min(values))
                cells.append(f"{np.mean(values):.2f} / {found[kind, key][-1]:.2f}")
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    for (kind, key), values in found.items():
        if values:
            mean, worst = np.mean(values), max(values)
            lines.append(
                f"- {kind} spread, {SCORES[key]}, over {len(values)} clips: mean {mean:.2f}, worst {worst:.2f}"
            )
    return lines


def main() -> None:
    args = report.parser(__doc__, "stability").parse_args()
    clips = [c for c in load_clips(args.corpus, 0.5 if args.quick else args.excerpt) if c.category == "speech"]
    clips = clips[:1] if args.quick else clips
    iterations = 20 if args.quick else args.iterations
    began = time.perf_counter()
    rows = []
    for clip in clips:
        rows += measure(clip, iterations)
        print(f"{clip.name}: done", flush=True)
    title = "Seed, phase-draw and level spread, speech at 24 kbps"
    lines = report.preamble(title, "bench.stability", time.perf_counter() - began)
    report.write(rows, args.out, lines + spreads(rows) + ["", *report.row_table(rows)])


if __name__ == "__main__":
    main()
