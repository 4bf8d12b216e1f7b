"""The phase side channel's oracle ladder (issue 35): the same weights decoded under phases the bitstream could send.

    python -m bench.phase_oracles --corpus ../shared/corpus/speech --out bench/results/phase_oracles \
        --cache bench/out/phase_cache

Every speech clip (10 s excerpts) is encoded once a rate at the default (--cache keeps the files). Each rung then
decodes that file with the decoder itself, its phase-gradient start (formats/ddc.md §7.1) swapped for an oracle's
that knows the original's STFT as the encoder framed it (the coded rate and level), then the file's own iterations
unless the rung says none:

- "as decoded": the decoder's start; "tolerance N Np": with its integration reaching N nepers under the loudest
  (5 in the format). "original phase": the coded magnitudes under the original's phase, with no iterations or then
  the file's; "within N Np": only on the cells within N nepers of the loudest, random elsewhere.
- "anchors": the integration as the decoder runs it, but each island's start (the loudest cell that no integrated
  phase has reached) takes the original's phase instead of its random draw, exact or in B bits (2 pi / 2**B steps).
  The islands follow from the decoded magnitudes alone, so only their phases cost: islands x B bits a second.
- "differences": every integrated cell gets the original's phase plus its island's offset: the offset of the random
  draw at the island's start (the scoping rung of bench/RESULTS.md) or none (exact differences and exact anchors:
  the original's phase on every integrated cell).
- "5-7 Np down": the decoder's own start, with the original's phase on the cells between its tolerance (5 Np under
  the loudest) and 7 Np, which it leaves at their draws.
- "time residuals": the exact-anchor start, then each bin stepped along time on the cells within N nepers of the
  loudest by the decoder's estimate of the phase advance plus the original's residual from it, exact or in B bits
  (a step of 2 pi / 2**B): residuals x B bits a second. Only the time direction is sent; the frequency direction
  joins the bins where the start put them.

Cells more than phase.TOLERANCE under a segment's loudest are not integrated: they keep their draws in every rung.
Scores are of the 16-bit PCM that `ddcodec decode` writes, against the clip at its own rate (bench/phase.py's row).
"""

import io
import time
from dataclasses import dataclass, field
from pathlib import Path
from unittest import mock

import numpy as np

import codec
from bench import report
from bench.clips import Clip, load_clips
from bench.phase import encoded, row
from codec import bitstream, phase, resample, spectrum
from codec.bitstream import Header
from codec.phase import draws, pghi

RATES = (24, 12)
ANCHOR_BITS = (2, 3, 4, 6)
RESIDUAL_NEPERS, RESIDUAL_BITS = (5.0, 2.0), (1, 2, 3)
ORIGINAL_NEPERS = (5.0, 7.0, 9.0)  # how deep under the loudest the original's phase must go
TOLERANCES = (7.0, 9.0)  # the decoder's own integration, taken as deep (no side channel)
CUT_BAND = "speech/tcd_CA01_01_48k"  # the clip whose band the default cut before the band was chosen by content


@dataclass(frozen=True)
class Original:
    """A clip's STFT (C, F, B) as the encoder framed it: at the coded rate, scaled by 1 / gain."""

    frames: np.ndarray
    stride: int  # frames from one segment's start to the next's

    def segment(self, index: int, length: int) -> np.ndarray:
        """Segment `index`'s `length` frames, zeros past the end."""
        part = self.frames[:, index * self.stride : index * self.stride + length]
        return np.pad(part, ((0, 0), (0, length - part.shape[1]), (0, 0)))


def original(clip: Clip, header: Header) -> Original:
    audio = (clip.audio * (1 / header.gain_factor)).astype(np.float32)  # as the encoder scales it
    if header.rate_divisor > 1:
        audio = resample.decimate(audio, header.rate_divisor)
    return Original(spectrum.analysis(audio, header.n_fft), header.segment_length - header.overlap)


def _magnitudes(y: np.ndarray, n_fft: int, valid: int) -> np.ndarray:
    """The decoder's magnitudes (C, L, B) in single precision, as its phase-gradient start makes them."""
    mag = spectrum.magnitude(y, n_fft, np.float32)
    mag[:, valid:] = 0.0
    return mag


def islands(g: np.ndarray, known: int, valid: int) -> tuple[np.ndarray, np.ndarray]:
    """(anchor, loud), both (L, B) for G (L, B): the flat index of the cell whose start each cell's integrated phase
    grew from, and the cells the integration sets (within the tolerance, as pghi.integrate selects them).

    The integration adds to each cell's phase a sum that depends on G alone, so integrating from starts 0 and from
    each cell's own index differs, cell by cell, by its anchor's index."""
    hop_ratio = 1 / spectrum.OVERLAP_FACTOR
    zero, index = np.zeros(g.shape), np.arange(g.size, dtype=np.float64).reshape(g.shape)
    pghi.integrate(g, zero, known, valid, hop_ratio, phase.TOLERANCE)
    pghi.integrate(g, index, known, valid, hop_ratio, phase.TOLERANCE)
    anchor = np.rint(index - zero).astype(np.int64)
    silent = np.log(2 * (g.shape[1] - 1) * 2.0**-15)
    loud = np.zeros(g.shape, bool)
    if valid > 0:
        loud[:valid] = (g[:valid] >= g[:valid].max() - phase.TOLERANCE) & (g[:valid] > silent)
    return anchor, loud


def quantized(angle: np.ndarray, bits: int | None) -> np.ndarray:
    """`angle` rounded to 2**bits uniform steps (exact where bits is None)."""
    if bits is None:
        return angle
    step = 2 * np.pi / 2**bits
    return np.round(angle / step) * step


@dataclass(frozen=True)
class OriginalPhase(phase.Start):
    """The magnitudes under the original's phase (shared by the channels as the decoder shares its own), on every
    cell or on those within `nepers` of the segment's loudest (the rest keep the decoder's random draws)."""

    original: Original
    nepers: float | None = None

    def frames(
        self, y: np.ndarray, n_fft: int, valid: int, seed: int, segment: int, shared: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        angle = np.angle(self.original.segment(segment, y.shape[1]).sum(axis=0))
        if self.nepers is not None:
            g = pghi._loudness(np.ascontiguousarray(y.transpose(0, 2, 1)), valid)
            quiet = g < g[: max(valid, 1)].max() - self.nepers
            angle[quiet] = draws.start_angle(seed, segment, y.shape[1:])[quiet]
        mag = _magnitudes(y, n_fft, valid)
        return pghi.polar(mag, np.cos(angle).astype(np.float32), np.sin(angle).astype(np.float32)), mag


@dataclass(frozen=True)
class OracleStart(phase.Start):
    """The decoder's phase-gradient start with each island's start phase sent: the original's in `bits` bits
    (None: exact), or, with `random_anchors`, the decoder's draw. With `differences` the integrated cells step with
    the original's phase differences instead of those the magnitudes give. `anchors` collects the count of coded
    island starts, segment by segment (those in frames shared with the previous segment are known already)."""

    original: Original
    bits: int | None = None
    differences: bool = False
    random_anchors: bool = False
    anchors: list[int] = field(default_factory=list)

    def frames(
        self, y: np.ndarray, n_fft: int, valid: int, seed: int, segment: int, shared: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        angle = self.angle(y, valid, seed, segment, shared)
        mag = _magnitudes(y, n_fft, valid)
        return pghi.polar(mag, np.cos(angle), np.sin(angle)), mag

    def angle(self, y: np.ndarray, valid: int, seed: int, segment: int, shared: np.ndarray) -> np.ndarray:
        """The start's shared phase (L, B), float32."""
        known = shared.shape[1]
        start = draws.start_angle(seed, segment, y.shape[1:])
        start[:known] = np.angle(shared.sum(axis=0))
        by_bin = np.ascontiguousarray(y.transpose(0, 2, 1))  # (C, B, L), as the decoder's start lays it out
        g = pghi._loudness(by_bin, valid)  # the integration's G, so its islands are the decoder's
        anchor, loud = islands(g, known, min(valid, len(g)))
        coded = np.unique(anchor[loud])
        coded = coded[coded >= known * g.shape[1]]  # starts in shared frames are known already
        self.anchors.append(len(coded))
        target = np.angle(self.original.segment(segment, y.shape[1]).sum(axis=0))
        flat = start.reshape(-1)
        if not self.random_anchors:
            flat[coded] = quantized(target.reshape(-1)[coded], self.bits)
        if self.differences:
            offset = flat - target.reshape(-1)  # at each anchor: its phase less the original's
            integrated = loud & (np.arange(len(g))[:, None] >= known)
            start[integrated] = target[integrated] + offset[anchor[integrated]]
            return np.mod(start, 2 * np.pi).astype(np.float32)
        return pghi.angles(by_bin, valid, start, known, 1 / spectrum.OVERLAP_FACTOR, phase.TOLERANCE)


@dataclass(frozen=True)
class QuietBand(phase.Start):
    """The decoder's own start, with the original's phase on the cells it leaves at their draws down to `nepers`
    under the segment's loudest: what the integration cannot reach, sent alone."""

    original: Original
    nepers: float

    def frames(
        self, y: np.ndarray, n_fft: int, valid: int, seed: int, segment: int, shared: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        angle = OracleStart(self.name, self.original, random_anchors=True).angle(y, valid, seed, segment, shared)
        g = pghi._loudness(np.ascontiguousarray(y.transpose(0, 2, 1)), valid)
        loudest = g[: max(valid, 1)].max()
        band = (g < loudest - phase.TOLERANCE) & (g >= loudest - self.nepers)
        band[: shared.shape[1]] = False  # frames shared with the previous segment are known
        angle[band] = np.angle(self.original.segment(segment, y.shape[1]).sum(axis=0))[band]
        mag = _magnitudes(y, n_fft, valid)
        return pghi.polar(mag, np.cos(angle), np.sin(angle)), mag


@dataclass(frozen=True)
class TimeResiduals(phase.Start):
    """The exact-anchor start, then each bin stepped along time wherever a cell and the next are within `nepers` of
    the segment's loudest: by the decoder's estimate of the phase advance (the trapezoid of pghi's omega from the
    decoded magnitudes) plus the original's advance less it, sent in `bits` bits (None: exact). Elsewhere, and where
    a run of such steps begins, the phase is the start's. `cells` collects the count of sent residuals a segment."""

    original: Original
    nepers: float
    bits: int | None = None
    cells: list[int] = field(default_factory=list)

    def frames(
        self, y: np.ndarray, n_fft: int, valid: int, seed: int, segment: int, shared: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        angle = OracleStart(self.name, self.original).angle(y, valid, seed, segment, shared).astype(np.float64)
        g = pghi._loudness(np.ascontiguousarray(y.transpose(0, 2, 1)), valid)
        frames, bins = g.shape
        valid = min(valid, frames)
        loud = np.zeros(g.shape, bool)
        if valid > 0:
            loud[:valid] = g[:valid] >= g[:valid].max() - self.nepers
        hop_ratio = 1 / spectrum.OVERLAP_FACTOR
        d_bin = np.zeros(g.shape)
        d_bin[:, 1:-1] = (g[:, 2:] - g[:, :-2]) / 2
        omega = 2 * np.pi * hop_ratio * np.arange(bins) + hop_ratio / pghi.LAMBDA * d_bin  # pghi.integrate's omega
        estimate = (omega[:-1] + omega[1:]) / 2
        target = np.angle(self.original.segment(segment, frames).sum(axis=0))
        residual = np.angle(np.exp(1j * (target[1:] - target[:-1] - estimate)))  # wrapped to (-pi, pi]
        step = estimate + quantized(residual, self.bits)
        sent = loud[:-1] & loud[1:]
        sent[: max(shared.shape[1] - 1, 0)] = False  # frames shared with the previous segment are known
        self.cells.append(int(sent.sum()))
        for t in range(frames - 1):
            angle[t + 1] = np.where(sent[t], angle[t] + step[t], angle[t + 1])
        angle = np.mod(angle, 2 * np.pi).astype(np.float32)
        mag = _magnitudes(y, n_fft, valid)
        return pghi.polar(mag, np.cos(angle), np.sin(angle)), mag


@dataclass(frozen=True)
class Rung:
    name: str
    start: phase.Start | None  # None: the decoder's own
    iterations: bool = True  # False: none after the start (the file's own otherwise)
    tolerance: float = phase.TOLERANCE  # nepers under a segment's loudest that the integration reaches


def rungs(true: Original) -> list[Rung]:
    return [
        Rung("as decoded", None),
        *(Rung(f"as decoded, tolerance {n:g} Np", None, tolerance=n) for n in TOLERANCES),
        Rung("original phase", OriginalPhase("original", true), iterations=False),
        Rung("original phase, then the iterations", OriginalPhase("original", true)),
        *(
            Rung(
                f"original phase within {n:g} Np" + (", then the iterations" if it else ""),
                OriginalPhase("original", true, n),
                it,
            )
            for n in ORIGINAL_NEPERS
            for it in (False, True)
        ),
        Rung("differences, random anchors", OracleStart("oracle", true, differences=True, random_anchors=True)),
        Rung("differences, exact anchors", OracleStart("oracle", true, differences=True)),
        Rung("differences, exact anchors, no iterations", OracleStart("oracle", true, differences=True), False),
        Rung("original phase 5-7 Np down, the decoder's above, no iterations", QuietBand("band", true, 7.0), False),
        Rung("original phase 5-7 Np down, the decoder's above, then the iterations", QuietBand("band", true, 7.0)),
        Rung("anchors, exact", OracleStart("oracle", true)),
        *(Rung(f"anchors, {_bits(bits)}", OracleStart("oracle", true, bits)) for bits in ANCHOR_BITS),
        *(
            Rung(f"time residuals within {nepers:g} Np, {_bits(bits)}", TimeResiduals("oracle", true, nepers, bits))
            for nepers in RESIDUAL_NEPERS
            for bits in (None, *RESIDUAL_BITS)
        ),
    ]


def _bits(bits: int | None) -> str:
    return "exact" if bits is None else f"{bits} bit" + "s" * (bits > 1)


def decoded(clip: Clip, data: bytes, kbps: int, rung: Rung) -> dict:
    """The rung's decode of `data`, scored, with what its side channel sends and costs (None where it sends none)."""
    if not rung.iterations:
        data = bitstream.rewrite_header(data, phase_iterations=0, phase_slack=0)
    header = bitstream.read_header(io.BytesIO(data))
    own = rung.start or phase.STARTS[phase.PGHI]
    with mock.patch.dict(phase.STARTS, {phase.PGHI: own}), mock.patch.object(phase, "TOLERANCE", rung.tolerance):
        audio, rate = codec.decode(data)
    search = (header.phase, header.phase_iterations, header.phase_slack)
    start, sent, bits = rung.start, None, None
    if isinstance(start, OracleStart | TimeResiduals):  # island starts or residuals
        sent, bits = sum(start.anchors if isinstance(start, OracleStart) else start.cells) / clip.seconds, start.bits
    return row(clip, kbps, search, clip.audio, audio, rate) | {
        "rung": rung.name,
        "sent_per_s": None if sent is None else round(sent, 1),
        "side_kbps": None if sent is None or bits is None else round(sent * bits / 1000, 3),
    }


def _cells(values: list[float]) -> str:
    return f"{np.mean(values):.2f} / {min(values):.2f}" if values else "-"


def summary(rows: list[dict]) -> list[str]:
    """Mean and worst clip per rate and rung, and the means without the clip whose band the default used to cut."""
    lines = [
        "| kbps | rung | clips | side kbps | sent / s | PESQ-WB mean / worst | Zimtohrli mean / worst |"
        " PESQ-WB, Zimtohrli without tcd_CA01_01_48k |",
        "|" + "---|" * 8,
    ]
    for (kbps, rung), group in report.grouped(rows, ("kbps", "rung")).items():
        kept = [r for r in group if r["clip"] != CUT_BAND]
        side = [r["side_kbps"] for r in group if r.get("side_kbps") is not None]
        counts = [r["sent_per_s"] for r in group if r.get("sent_per_s") is not None]
        cells = (
            f"{np.mean(side):.2f}" if side else "-",
            f"{np.mean(counts):.0f}" if counts else "-",
            _cells([r["pesq_wb"] for r in group]),
            _cells([r["zimtohrli_mos"] for r in group]),
            f"{np.mean([r['pesq_wb'] for r in kept]):.2f}, {np.mean([r['zimtohrli_mos'] for r in kept]):.2f}"
            if kept
            else "-",
        )
        lines.append(f"| {kbps} | {rung} | {len(group)} | " + " | ".join(cells) + " |")
    return lines


def main() -> None:
    p = report.parser(__doc__, "phase_oracles")
    p.add_argument("--cache", type=Path, default=None, help="folder to keep (and reuse) the encoded files in")
    p.add_argument("--rates", type=int, nargs="+", default=list(RATES), help="kbps to encode each clip at")
    args = p.parse_args()
    clips = [c for c in load_clips(args.corpus, 0.5 if args.quick else args.excerpt) if c.category == "speech"]
    clips, rates = (clips[:1], args.rates[:1]) if args.quick else (clips, args.rates)
    iterations = 20 if args.quick else args.iterations
    cache = None if args.quick else args.cache  # a quick run's half second must not pass for the 10 s excerpt
    began = time.perf_counter()
    rows = []
    for clip in clips:
        for kbps in rates:
            data = encoded(clip, kbps, iterations, cache)
            true = original(clip, bitstream.read_header(io.BytesIO(data)))
            rows += [decoded(clip, data, kbps, rung) for rung in rungs(true)]
        print(f"{clip.name}: done", flush=True)
    took = time.perf_counter() - began
    lines = report.preamble("Phase side-channel oracles, same weights", "bench.phase_oracles", took)
    lines += [
        "Means over clips; worst is the lowest clip. Sent / s: island starts or time residuals a second;"
        " side kbps: those x bits.",
        "",
    ]
    report.write(rows, args.out, lines + summary(rows) + ["", *report.row_table(rows)])


if __name__ == "__main__":
    main()
