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
- "low band": the bins up to 1, 2 or 4 kHz take the original's complex STFT, magnitude and phase (what a waveform
  coder of the low band gives exactly, as Opus's hybrid mode codes its SILK band), the bins above the decoded
  magnitudes under the decoder's own start or with its islands turned to fit the band ("aligned": the integration
  continued from the band's phase); then no iterations, or the file's with the band put back after each projection
  ("held"), so only the bins above move. "phase only": the band's phase under the decoded magnitudes. "from Opus":
  the band as Opus codes it alone at 8 kHz (libsndfile, bench.contenders), its file's kbps and the band's SNR given.
- "harmonic advance": the exact-anchor start, then on voiced frames each bin stepped along time, on the cells
  within N nepers of the loudest, by the advance of the harmonic of f0 nearest it, 2 pi k f0 hop / rate: f0 from
  the original by YIN, or fitted to the original's phase advances (the most one number a frame can carry), exact or
  in 7 bits over 60-400 Hz: f0 values x bits a second.
- "held": the decoder's own start, with the original's phase on the cells within N nepers of the loudest (and under
  1 or 2 kHz: "low band's phase"), under the decoded magnitudes, then the file's iterations with those cells put
  back after each projection. The phase is sent as its difference from the decoder's start angle, exact or in
  B bits (2 pi / 2**B steps, so within pi / 2**B of the original's): cells x B bits a second, and the empirical
  entropy of the B-bit codes (pooled over the clip) as what an entropy coder could reach.
- "pulse": a source-filter model of the voiced low band's phase from two numbers a frame. The decoder's own start,
  with, on voiced frames, the cells within N nepers of the loudest and under 1 or 2 kHz taking the phase of a pulse
  train through a filter: the filter's phase at the cell's harmonic k of f0 (the minimum phase of the decoded
  magnitudes; or the decoder's start at the harmonic's peak; or zero), less 2 pi k f0 tau, tau the time from the
  frame's centre to the next pulse (and the window's linear phase); on each harmonic's whole lobe or its peak bin
  only. f0 is the original's by YIN in 7 bits (as the harmonic advance sends it), tau fitted to the original's
  phase on those cells, exact or in B bits of a period; held through the iterations as "held" is. Voiced frames x
  (B + 7) bits a second; the model's and the start's median |phase error| on the cells.
- "harmonic phase": one number a harmonic a voiced frame. The decoder's own start, with, on voiced frames, the cells
  within N nepers of the loudest and under 1 or 2 kHz taking a stationary partial's phase on each harmonic k's lobe
  (the bins whose nearest harmonic it is) or its peak bin only: the harmonic's phase at the frame's centre, read off
  the original at the bin nearest k f0 and sent exact or in B bits, less the window's linear phase (this codec's
  frames take the phase of their first sample) and turned by pi on the window's negative sidelobes. f0 is the
  original's by YIN in 7 bits; held through the iterations as "held" is. Voiced frames x 7 bits + harmonic phases x
  B bits a second, and as an entropy coder could send the phases' codes less their prediction from the previous
  frame's (advanced by 2 pi k f0 hop / rate); the model's and the start's median |phase error| on the cells.
- "from an MDCT coder": the low band as bench.band_coder codes it (critically sampled to 1 or 2 kHz, uniform steps
  under per-frame scales, priced at its entropy), held as the exact band is: magnitude and phase, or its phase only
  under the decoded magnitudes, on every cell under the split or only where the band's magnitude is at least a
  share of the decoded one (elsewhere the coarse coder's zeros leave the coding noise's phase).
- "more iterations:": as decoded, the exact low band to 1 kHz and two of the transform coder's bands, with 8 or 16
  iterations instead of the file's: does a held band let more iterations carry its phase further?

Cells more than phase.TOLERANCE under a segment's loudest are not integrated: they keep their draws in every rung.
Scores are of the 16-bit PCM that `ddcodec decode` writes, against the clip at its own rate (bench/phase.py's row).
"""

import io
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import NamedTuple, TypeVar
from unittest import mock

import numpy as np

import codec
from bench import band_coder, contenders, report
from bench.clips import Clip, load_clips
from bench.phase import encoded, row
from codec import bitstream, phase, resample, spectrum
from codec.bitstream import Header
from codec.metrics import resample as resample_to
from codec.phase import draws, griffin_lim, pghi

RATES = (24, 12)
ANCHOR_BITS = (2, 3, 4, 6)
RESIDUAL_NEPERS, RESIDUAL_BITS = (5.0, 2.0), (1, 2, 3)
ORIGINAL_NEPERS = (5.0, 7.0, 9.0)  # how deep under the loudest the original's phase must go
TOLERANCES = (7.0, 9.0)  # the decoder's own integration, taken as deep (no side channel)
SPLITS = (1000, 2000, 4000)  # Hz: the low band's top, coded as a waveform
OPUS_KBPS = (10, 12, 16, 24)  # what Opus is asked for to code the low band alone (its side cost)
OPUS_RATE = 8000
OPUS = "low band from Opus"  # the Opus rungs' names begin so
MDCT = "low band from an MDCT coder"  # and the transform coder's (bench.band_coder)
MDCT_SPLITS = (1000, 2000)
MDCT_STEPS = (1.0, 0.7, 0.5, 0.35, 0.25)  # a coefficient's step over its frame's scale: about 14 to 24 dB of band SNR
MID = " of the channels' mean"  # in the name of a band coded once for every channel (band_coder's mid)
MORE = "more iterations:"  # the rungs that run more iterations than the file's (4 for mono) begin so
MORE_ITERATIONS = (8, 16)
MORE_STEPS = (0.7, 0.35)  # the transform coder's bands given more iterations
MDCT_RELIABLE = (0.25, 0.5)  # the phase-only band held only where its magnitude is at least this share of the decoded
F0_RANGE = (60.0, 400.0)  # Hz that the f0 track covers
F0_BITS = (None, 7)  # an f0 a voiced step between frames: exact or in B bits, log-uniform over F0_RANGE
HARMONIC_NEPERS = (5.0, 7.0)
F0_FIT = 0.03  # how far (relative) fitted() may move an f0
YIN_THRESHOLD, SILENCE_DB = 0.15, 50.0
HELD_NEPERS, HELD_BITS, HELD_SPLITS = (5.0, 7.0), (2, 3, 4), (1000, 2000)
OWN_HELD_NEPERS = (2.0, 3.0, 5.0)  # the decoder's own phase held: how deep under the loudest
PULSE_BITS = (4, 5, 6)  # a pulse time: one period in 2**B steps
PULSE_GRID = 4096  # pulse times a period that the oracle's search tries
CUT_BAND = "speech/tcd_CA01_01_48k"  # the clip whose band the default cut before the band was chosen by content


@dataclass(frozen=True)
class Original:
    """A clip's STFT (C, F, B) as the encoder framed it: at the coded rate, scaled by 1 / gain, and its f0 a frame."""

    frames: np.ndarray
    stride: int  # frames from one segment's start to the next's
    rate: int  # the coded rate
    f0: np.ndarray  # (F,) Hz, 0 where unvoiced (pitch())

    def segment(self, index: int, length: int) -> np.ndarray:
        """Segment `index`'s `length` frames, zeros past the end."""
        return _frames(self.frames, index * self.stride, length, axis=1)

    def pitch(self, index: int, length: int) -> np.ndarray:
        """Segment `index`'s f0 (length,), unvoiced (0) past the end."""
        return _frames(self.f0, index * self.stride, length, axis=0)


def _frames(a: np.ndarray, first: int, length: int, axis: int) -> np.ndarray:
    """`length` frames of `a` from `first` along `axis`, zeros past the end."""
    part = a.take(np.arange(first, min(first + length, a.shape[axis])), axis=axis)
    pad = [(0, 0)] * a.ndim
    pad[axis] = (0, length - part.shape[axis])
    return np.pad(part, pad)


def original(clip: Clip, header: Header, voiced: bool = True) -> Original:
    """The clip as the encoder framed it; its f0 only if `voiced` (a coded band is only ever framed, and YIN takes
    four times the STFT's time), else unvoiced throughout."""
    audio = (clip.audio * (1 / header.gain_factor)).astype(np.float32)  # as the encoder scales it
    if header.rate_divisor > 1:
        audio = resample.decimate(audio, header.rate_divisor)
    rate = clip.rate // header.rate_divisor
    stride = header.segment_length - header.overlap
    frames = spectrum.analysis(audio, header.n_fft)
    f0 = pitch(audio, header.n_fft, rate) if voiced else np.zeros(frames.shape[1])
    return Original(frames, stride, rate, f0)


def pitch(audio: np.ndarray, n_fft: int, rate: int, low: float = F0_RANGE[0], high: float = F0_RANGE[1]) -> np.ndarray:
    """f0 (F,) in Hz of (frames, C) audio's channel mean at each STFT frame's centre (analysis()'s framing), 0 where
    unvoiced: YIN (de Cheveigne & Kawahara 2002), the cumulative mean normalised difference over `low` to `high`,
    its first dip under YIN_THRESHOLD followed down to its minimum, refined by a parabola. Frames more than
    SILENCE_DB under the loudest frame are unvoiced."""
    x = spectrum.padded(audio, n_fft).mean(axis=0)
    hop, longest = n_fft // spectrum.OVERLAP_FACTOR, int(np.ceil(rate / low))
    width = longest  # the difference's window: one longest period
    frames = spectrum.frame_count(len(audio), n_fft)
    starts = np.arange(frames) * hop + n_fft // 2 - (width + longest) // 2  # window and lags centred on the frame
    padded = np.pad(x, (width + longest, width + longest))
    seg = padded[(starts + width + longest)[:, None] + np.arange(width + longest)]  # (F, width + longest)
    size = 1 << int(np.ceil(np.log2(2 * (width + longest))))
    r = np.fft.irfft(np.fft.rfft(seg, size) * np.conj(np.fft.rfft(seg[:, :width], size)), size)[:, : longest + 1]
    energy = np.concatenate([np.zeros((frames, 1)), np.cumsum(seg**2, axis=1)], axis=1)
    lagged = energy[:, width : width + longest + 1] - energy[:, : longest + 1]  # sum of x[j + tau]² over the window
    d = np.maximum(lagged[:, :1] + lagged - 2 * r, 0.0)  # sum over j < width of (x[j] - x[j + tau])²
    cumulative = np.cumsum(d[:, 1:], axis=1)
    cmnd = np.ones_like(d)
    cmnd[:, 1:] = d[:, 1:] * np.arange(1, longest + 1) / np.maximum(cumulative, 1e-30)
    loud = lagged[:, 0] > lagged[:, 0].max() * 10 ** (-SILENCE_DB / 10)
    f0 = np.zeros(frames)
    shortest = int(np.floor(rate / high))
    for t in np.flatnonzero(loud):
        dips = np.flatnonzero(cmnd[t, shortest:longest] < YIN_THRESHOLD)
        if not len(dips):
            continue
        tau = shortest + dips[0]
        while tau < longest - 1 and cmnd[t, tau + 1] < cmnd[t, tau]:
            tau += 1
        a, b, c = cmnd[t, tau - 1 : tau + 2]
        bend = a - 2 * b + c
        f0[t] = rate / (tau + (0.5 * (a - c) / bend if bend > 0 else 0.0))
    return f0


def _magnitudes(y: np.ndarray, n_fft: int, valid: int) -> np.ndarray:
    """The decoder's magnitudes (C, L, B) in single precision, as its phase-gradient start makes them."""
    mag = spectrum.magnitude(y, n_fft, np.float32)
    mag[:, valid:] = 0.0
    return mag


def loudness(y: np.ndarray, valid: int) -> np.ndarray:
    """The phase-gradient integration's G (L, B) of decoded magnitudes y (C, L, B), laid out as the decoder lays it."""
    return pghi._loudness(np.ascontiguousarray(y.transpose(0, 2, 1)), valid)


def own_start(
    name: str, true: Original, y: np.ndarray, valid: int, seed: int, segment: int, shared: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The decoder's own start angle (L, B) and its integration's loudness G (L, B): what most rungs change."""
    return OracleStart(name, true, random_anchors=True).start(y, valid, seed, segment, shared)


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
            g = loudness(y, valid)
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
        return self.start(y, valid, seed, segment, shared)[0]

    def start(
        self, y: np.ndarray, valid: int, seed: int, segment: int, shared: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The start's shared phase (L, B), float32, and the integration's G (L, B) it followed."""
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
            return np.mod(start, 2 * np.pi).astype(np.float32), g
        return pghi.angles(by_bin, valid, start, known, 1 / spectrum.OVERLAP_FACTOR, phase.TOLERANCE), g


@dataclass(frozen=True)
class QuietBand(phase.Start):
    """The decoder's own start, with the original's phase on the cells it leaves at their draws down to `nepers`
    under the segment's loudest: what the integration cannot reach, sent alone."""

    original: Original
    nepers: float

    def frames(
        self, y: np.ndarray, n_fft: int, valid: int, seed: int, segment: int, shared: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        angle, g = own_start(self.name, self.original, y, valid, seed, segment, shared)
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
        angle, g = OracleStart(self.name, self.original).start(y, valid, seed, segment, shared)
        angle = angle.astype(np.float64)
        frames, bins = g.shape
        loud = _within(g, valid, self.nepers)
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
        angle = _stepped(angle, step, sent)
        mag = _magnitudes(y, n_fft, valid)
        return pghi.polar(mag, np.cos(angle), np.sin(angle)), mag


def _within(g: np.ndarray, valid: int, nepers: float) -> np.ndarray:
    """The cells (L, B) of G's first `valid` frames within `nepers` of the loudest among them."""
    loud = np.zeros(g.shape, bool)
    valid = min(valid, len(g))
    if valid > 0:
        loud[:valid] = g[:valid] >= g[:valid].max() - nepers
    return loud


def _stepped(angle: np.ndarray, step: np.ndarray, sent: np.ndarray) -> np.ndarray:
    """`angle` (L, B), float64, with each bin stepped along time by `step` (L - 1, B) from frame t to t + 1 where
    `sent` (L - 1, B); the start's elsewhere. Wrapped to [0, 2 pi), float32."""
    for t in range(len(step)):
        angle[t + 1] = np.where(sent[t], angle[t] + step[t], angle[t + 1])
    return np.mod(angle, 2 * np.pi).astype(np.float32)


def steps(f0: np.ndarray) -> np.ndarray:
    """The f0 (L - 1,) of each step from frame t to t + 1 of the track f0 (L,): the two frames' mean where both are
    voiced, 0 elsewhere."""
    both = (f0[:-1] > 0) & (f0[1:] > 0)
    return np.where(both, (f0[:-1] + f0[1:]) / 2, 0.0)


def harmonic_advance(f0: np.ndarray, bins: int, n_fft: int, rate: int) -> tuple[np.ndarray, np.ndarray]:
    """(advance, voiced), both (L - 1, B), for the steps' f0 (L - 1,) (0: unvoiced): each bin's phase advance
    2 pi k f0 hop / rate, k the harmonic nearest the bin (within half a spacing), where f0 > 0 and k >= 1. A
    stationary partial at k f0 advances its STFT phase so, in this codec's framing (a frame's phase is that of its
    first sample)."""
    k, _ = harmonics(f0, bins, n_fft, rate)
    hop = n_fft // spectrum.OVERLAP_FACTOR
    return 2 * np.pi * k * f0[:, None] * hop / rate, k >= 1


def harmonics(f0: np.ndarray, bins: int, n_fft: int, rate: int) -> tuple[np.ndarray, np.ndarray]:
    """(k, peak), both (L, B) int, for an f0 (L,) a row (0: unvoiced): the harmonic of f0 nearest each bin (0 where
    unvoiced or under half a spacing) and the bin nearest that harmonic's frequency."""
    voiced = f0 > 0
    spacing = np.where(voiced, f0, 1.0)[:, None] * n_fft / rate  # bins a harmonic
    k = np.where(voiced[:, None], np.rint(np.arange(bins) / spacing), 0).astype(np.int64)
    return k, np.minimum(np.rint(k * spacing), bins - 1).astype(np.int64)


def fitted(f0: np.ndarray, frames: np.ndarray, n_fft: int, rate: int) -> np.ndarray:
    """The steps' f0 (L - 1,) moved within F0_FIT of each voiced one to the value whose harmonic advances best match
    the phase advances of the complex frames (L, B), weighted by both frames' magnitudes: the most one f0 a step
    can say about the phase (an oracle of the original's phase)."""
    out = f0.copy()
    freqs = np.arange(frames.shape[1]) * rate / n_fft
    weight = np.abs(frames[:-1] * frames[1:])
    advance = np.angle(frames[1:] * np.conj(frames[:-1]))
    trial = 1 + np.linspace(-F0_FIT, F0_FIT, 601)[:, None]
    hop = n_fft // spectrum.OVERLAP_FACTOR
    for t in np.flatnonzero(f0 > 0):
        k = np.rint(freqs / (f0[t] * trial))
        match = weight[t] * (k >= 1) * np.cos(advance[t] - 2 * np.pi * k * f0[t] * trial * hop / rate)
        out[t] = f0[t] * trial[np.argmax(match.sum(axis=1)), 0]
    return out


def quantized_f0(f0: np.ndarray, bits: int | None) -> np.ndarray:
    """The voiced values of `f0` in 2**bits log-uniform steps over F0_RANGE, clipped to it (exact: bits None)."""
    if bits is None:
        return f0
    low, high = F0_RANGE
    step = np.log(high / low) / (2**bits - 1)
    coded = low * np.exp(np.round(np.log(np.clip(f0, low, high) / low) / step) * step)
    return np.where(f0 > 0, coded, 0.0)


@dataclass(frozen=True)
class HarmonicAdvance(phase.Start):
    """The exact-anchor start, then on voiced frames each bin stepped along time, wherever a cell and the next are
    within `nepers` of the segment's loudest, by its nearest harmonic's advance (harmonic_advance) at the original's
    f0 (pitch(), or with `fit` fitted() to the original's phase), exact or in `bits` bits: a time residual predicted
    for every such cell from one number a step. `voiced` collects the count of sent f0 values a segment."""

    original: Original
    nepers: float
    bits: int | None = None
    fit: bool = False
    voiced: list[int] = field(default_factory=list)

    def frames(
        self, y: np.ndarray, n_fft: int, valid: int, seed: int, segment: int, shared: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        angle, g = OracleStart(self.name, self.original).start(y, valid, seed, segment, shared)
        angle = angle.astype(np.float64)
        track = self.original.pitch(segment, len(g))
        track[valid:] = 0.0
        f0 = steps(track)
        if self.fit:
            f0 = fitted(f0, self.original.segment(segment, len(g)).sum(axis=0), n_fft, self.original.rate)
        f0 = quantized_f0(f0, self.bits)
        f0[: max(shared.shape[1] - 1, 0)] = 0.0  # frames shared with the previous segment are known
        step, voiced = harmonic_advance(f0, g.shape[1], n_fft, self.original.rate)
        loud = _within(g, valid, self.nepers)
        self.voiced.append(int((f0 > 0).sum()))
        angle = _stepped(angle, step, voiced & loud[:-1] & loud[1:])
        mag = _magnitudes(y, n_fft, valid)
        return pghi.polar(mag, np.cos(angle), np.sin(angle)), mag


_STEP = griffin_lim._step  # the iterations' own step, which Held.hold wraps


@dataclass(frozen=True)
class Held(phase.Start):
    """A start whose chosen cells the iterations keep: frames() leaves in `held` the segment's start frames X and
    the mask (L, B) of the cells to keep, for hold()."""

    held: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list, kw_only=True)

    def keep(self, x: np.ndarray, mask: np.ndarray) -> None:
        self.held[:] = [(x.copy(), mask)]  # a copy: the iterations may write into x

    def hold(
        self,
        projected: np.ndarray,
        previous: np.ndarray,
        mag: np.ndarray,
        momentum: float,
        slack: float,
        out: np.ndarray,
    ) -> None:
        """griffin_lim._step with the projection's kept cells put back to X's first (the summed channels' where the
        search runs on their sum), so that the iterations keep them and only move the others."""
        x, mask = self.held[0]
        projected[:, mask] = x[:, mask] if len(x) == len(projected) else x.sum(axis=0)[mask]
        _STEP(projected, previous, mag, momentum, slack, out)


def _cut(split: float, n_fft: int, rate: int, bins: int) -> int:
    """The count of bins at or under `split` Hz."""
    return min(int(split * n_fft / rate) + 1, bins)


@dataclass(frozen=True)
class LowBand(Held):
    """The bins up to `split` Hz take `band`'s complex STFT (the original's: what an exact waveform coder of the low
    band gives; or a real coder's), under the phase of the channels' sum as the decoder shares its own; the bins
    above keep the decoded magnitudes under the decoder's own start, or with `aligned` each island of its
    integration that reaches under the split turned as a whole to fit the band there (least squares): the
    integration continued from the band. The iterations keep the band (Held)."""

    band: Original
    split: float
    aligned: bool = False
    magnitudes: bool = True  # False: the band's phase only, under the decoded magnitudes
    reliable: float = 0.0  # with magnitudes False: only on the cells where the band's magnitude is at least this
    # share of the decoded one (a coarse coder's zeroed coefficients leave cells whose phase is the coding noise's)

    def frames(
        self, y: np.ndarray, n_fft: int, valid: int, seed: int, segment: int, shared: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        angle, g = own_start(self.name, self.band, y, valid, seed, segment, shared)
        target = self.band.segment(segment, y.shape[1])
        target[:, valid:] = 0.0  # padding, as the decoder's magnitudes
        total = target.sum(axis=0)  # the channels' sum, whose phase the search shares
        cut = _cut(self.split, n_fft, self.band.rate, y.shape[2])
        if self.aligned:
            angle = self._aligned(angle, g, valid, shared.shape[1], total, cut)
        mag = _magnitudes(y, n_fft, valid)
        band = np.zeros(angle.shape, bool)
        band[:, :cut] = True
        if self.reliable:
            band &= np.abs(total) >= self.reliable * mag.sum(axis=0)
        angle[band] = np.angle(total[band])
        if self.magnitudes:
            mag[:, :, :cut] = np.abs(target[:, :, :cut])
        x = pghi.polar(mag, np.cos(angle), np.sin(angle))
        self.keep(x, band)
        return x, mag

    @staticmethod
    def _aligned(angle: np.ndarray, g: np.ndarray, valid: int, known: int, total: np.ndarray, cut: int) -> np.ndarray:
        """`angle` with each island anchored after the shared frames turned by the angle of sum(band e^-i angle)
        over its cells (G: the integration's loudness) under the split."""
        anchor, loud = islands(g, known, min(valid, len(g)))
        under = loud.copy()
        under[:, cut:] = False
        product = (total * np.exp(-1j * angle))[under]
        fit = np.bincount(anchor[under], product.real, g.size) + 1j * np.bincount(anchor[under], product.imag, g.size)
        turn = np.where(loud & (anchor >= known * g.shape[1]), np.angle(fit[anchor]), 0.0)
        return np.mod(angle + turn, 2 * np.pi).astype(np.float32)


@dataclass(frozen=True)
class HeldPhase(Held):
    """The decoder's own start, with the original's phase on the cells within `nepers` of the segment's loudest (and
    under `split` Hz where given) and not decoded silent, under the decoded magnitudes, kept through the iterations
    (Held). Each such cell's phase is sent as its difference from the start's angle, in `bits` bits (None: exact).
    `cells` collects the count of sent cells a segment (those in frames shared with the previous segment are known),
    `codes` the histogram of the B-bit codes sent."""

    original: Original
    nepers: float
    bits: int | None = None
    split: float | None = None
    cells: list[int] = field(default_factory=list)
    codes: list[np.ndarray] = field(default_factory=list)

    def frames(
        self, y: np.ndarray, n_fft: int, valid: int, seed: int, segment: int, shared: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        angle, g = own_start(self.name, self.original, y, valid, seed, segment, shared)
        mag = _magnitudes(y, n_fft, valid)
        sent = _within(g, valid, self.nepers) & mag.any(axis=0)  # a cell decoded silent has no phase to send
        sent[: shared.shape[1]] = False
        if self.split is not None:
            sent[:, _cut(self.split, n_fft, self.original.rate, g.shape[1]) :] = False
        target = np.angle(self.original.segment(segment, len(g)).sum(axis=0))
        difference = quantized(np.angle(np.exp(1j * (target[sent] - angle[sent]))), self.bits)
        if self.bits is not None:
            levels = 2**self.bits  # the codes mod 2**B: -pi and pi are one angle
            code = np.mod(np.rint(difference * levels / (2 * np.pi)).astype(np.int64), levels)
            self.codes.append(np.bincount(code, minlength=levels))
        self.cells.append(int(sent.sum()))
        angle = angle.astype(np.float64)
        angle[sent] += difference
        x = pghi.polar(mag, np.cos(angle).astype(np.float32), np.sin(angle).astype(np.float32))
        self.keep(x, sent)
        return x, mag


def minimum_phase(g: np.ndarray) -> np.ndarray:
    """The minimum phase (L, B) of natural log-magnitudes G (L, B) of an N = 2 (B - 1) point spectrum, frame by
    frame: the real cepstrum folded onto the positive quefrencies (the homomorphic construction)."""
    n_fft = 2 * (g.shape[1] - 1)
    cepstrum = np.fft.irfft(g, n_fft, axis=1)
    cepstrum[:, 1 : n_fft // 2] *= 2
    cepstrum[:, n_fft // 2 + 1 :] = 0.0
    return np.fft.rfft(cepstrum, axis=1).imag


def pulse_phase(theta: np.ndarray, k: np.ndarray, f0: np.ndarray, tau: np.ndarray, rate: int) -> np.ndarray:
    """The STFT phase (L, B) of a pulse train of period rate / f0 (L,) whose pulse falls `tau` (L,) samples after
    each frame's centre, through a filter of phase `theta` (L, B) at each cell's harmonic k (L, B): theta
    - 2 pi k f0 tau / rate - 2 pi b c / N on the harmonic's lobe, c = (N - 1) / 2 the window's centre (in this
    codec's framing a frame's phase is that of its first sample)."""
    n_fft = 2 * (theta.shape[1] - 1)
    centre = 2 * np.pi * np.arange(theta.shape[1]) * (n_fft - 1) / 2 / n_fft
    return theta - 2 * np.pi * k * (f0 * tau)[:, None] / rate - centre


def pulse_times(frames: np.ndarray, theta: np.ndarray, k: np.ndarray, cells: np.ndarray, f0: np.ndarray) -> np.ndarray:
    """The pulse times (L,), as fractions of a period in [0, 1), that best fit pulse_phase() to the complex frames
    (L, B) on `cells` (L, B), sum |X| cos(angle X - model) over them, searched on PULSE_GRID points a period (0
    where a frame has no cells). At tau = j / PULSE_GRID periods the sum is the real part of an inverse DFT over
    the harmonics of X e^-i pulse_phase(tau = 0), summed a harmonic."""
    t, b = np.nonzero(cells)
    residual = frames[t, b] * np.exp(-1j * pulse_phase(theta, k, f0, np.zeros_like(f0), 1)[t, b])
    by_harmonic = np.zeros((len(frames), PULSE_GRID), complex)
    np.add.at(by_harmonic, (t, k[t, b] % PULSE_GRID), residual)
    return np.argmax(np.fft.ifft(by_harmonic, axis=1).real, axis=1) / PULSE_GRID


def quantized_fraction(u: np.ndarray, bits: int | None) -> np.ndarray:
    """Fractions of a period `u` in [0, 1) rounded to 2**bits steps, modulo 1 (exact where bits is None)."""
    return u if bits is None else np.mod(np.rint(u * 2**bits), 2**bits) / 2**bits


class Voiced(NamedTuple):
    """What the voiced-frame models (PulsePhase, HarmonicPhase) start from, for one segment."""

    angle: np.ndarray  # (L, B) the decoder's own start
    g: np.ndarray  # (L, B) its integration's loudness
    mag: np.ndarray  # the decoded magnitudes
    f0: np.ndarray  # (L,) as coded, 0 where unvoiced, past the end and on frames shared with the previous segment
    k: np.ndarray  # (L, B) each bin's nearest harmonic of f0 (harmonics())
    peak: np.ndarray  # (L, B) that harmonic's bin
    cells: np.ndarray  # (L, B) the cells the model sets: within `nepers`, under `split`, not silent, on a harmonic


def voiced_start(
    start: "PulsePhase | HarmonicPhase",
    y: np.ndarray,
    n_fft: int,
    valid: int,
    seed: int,
    segment: int,
    shared: np.ndarray,
) -> Voiced:
    """The decoder's own start and the voiced cells, f0 coded in start.f0_bits (the frames shared with the previous
    segment are known), the cells within start.nepers under start.split, each harmonic's peak bin only with
    start.peaks."""
    angle, g = own_start(start.name, start.original, y, valid, seed, segment, shared)
    mag = _magnitudes(y, n_fft, valid)
    rate, bins = start.original.rate, g.shape[1]
    f0 = quantized_f0(start.original.pitch(segment, g.shape[0]), start.f0_bits)
    f0[valid:] = 0.0
    f0[: shared.shape[1]] = 0.0
    k, peak = harmonics(f0, bins, n_fft, rate)
    cells = _within(g, valid, start.nepers) & mag.any(axis=0) & (k >= 1)
    cells[:, _cut(start.split, n_fft, rate, bins) :] = False
    if start.peaks:
        cells &= peak == np.arange(bins)
    return Voiced(angle, g, mag, f0, k, peak, cells)


@dataclass(frozen=True)
class PulsePhase(Held):
    """The decoder's own start, with pulse_phase() on the voiced frames' cells within `nepers` of the segment's
    loudest, under `split` Hz and not decoded silent (with `peaks`, only each harmonic's nearest bin; else its
    whole lobe), under the decoded magnitudes, kept through the iterations (Held): a source-filter model of the
    low band's phase from two numbers a voiced frame. f0 is the original's (pitch()) in F0_BITS[-1] bits; the
    filter's phase at each harmonic (`source`) is the minimum phase of the decoded magnitudes there ("minimum"), or the
    decoder's start angle at the harmonic's peak bin less the window's linear phase ("start"), or 0 ("zero"); the
    pulse time is
    fitted to the original's phase (pulse_times()), exact or in `bits` bits of a period. `voiced` collects the count
    of voiced frames a segment (each sends f0 and a pulse time), `errors` the model's and the start's |phase error|
    (2, cells) on the cells."""

    original: Original
    split: float
    nepers: float
    bits: int | None = None
    f0_bits: int = F0_BITS[-1]
    source: str = "minimum"  # the filter phase's
    peaks: bool = False
    voiced: list[int] = field(default_factory=list)
    errors: list[np.ndarray] = field(default_factory=list)

    def frames(
        self, y: np.ndarray, n_fft: int, valid: int, seed: int, segment: int, shared: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        angle, g, mag, f0, k, peak, cells = voiced_start(self, y, n_fft, valid, seed, segment, shared)
        frames = len(g)
        rows = np.arange(frames)[:, None]
        if self.source == "minimum":
            theta = minimum_phase(g)[rows, peak]
        elif self.source == "start":  # the start at the peak, where pulse_phase(tau = 0) gives it back
            theta = angle[rows, peak] + np.pi * peak * (n_fft - 1) / n_fft
        else:  # "zero": a zero-phase filter, the pulse alone
            theta = np.zeros(g.shape)
        target = self.original.segment(segment, frames).sum(axis=0)
        tau = quantized_fraction(pulse_times(target, theta, k, cells, f0), self.bits) / np.where(f0 > 0, f0, 1.0)
        model = pulse_phase(theta, k, f0, tau * self.original.rate, self.original.rate)
        self.voiced.append(int((f0 > 0).sum()))
        truth = np.angle(target[cells])
        self.errors.append(np.abs(np.angle(np.exp(1j * (np.stack([model[cells], angle[cells]]) - truth)))))
        angle = angle.astype(np.float64)
        angle[cells] = model[cells]
        x = pghi.polar(mag, np.cos(angle).astype(np.float32), np.sin(angle).astype(np.float32))
        self.keep(x, cells)
        return x, mag


def window_transform(nu: np.ndarray, n_fft: int) -> np.ndarray:
    """The analysis window's DFT `nu` bins off a partial, taken about the window's centre c = (N - 1) / 2, where the
    window is symmetric, so real: sin²(pi (n + 1/2) / N) = 1/2 + cos(2 pi (n - c) / N) / 2, so W(nu) = D(nu) / 2
    + (D(nu - 1) + D(nu + 1)) / 4, D the Dirichlet kernel sin(pi nu) / sin(pi nu / N). Positive on the main lobe
    (|nu| < 2), then a sidelobe of alternating sign between each pair of integers."""
    return _dirichlet(nu, n_fft) / 2 + (_dirichlet(nu - 1, n_fft) + _dirichlet(nu + 1, n_fft)) / 4


def _dirichlet(nu: np.ndarray, n_fft: int) -> np.ndarray:
    """sum of e^(-2 pi i nu m / N) over the N offsets m from the centre: sin(pi nu) / sin(pi nu / N)."""
    return n_fft * np.sinc(nu) / np.sinc(nu / n_fft)


def lobe_phase(centred: np.ndarray, nu: np.ndarray, b: np.ndarray, n_fft: int) -> np.ndarray:
    """The STFT phase at bins `b` of a stationary partial `nu` bins under them whose phase at the frame's centre is
    `centred`. In this codec's framing a frame's phase is that of its first sample, so a partial of frequency w and
    centred phase psi gives X[b] = A / 2 W(nu) e^(i psi) e^(-2 pi i b c / N) (c = (N - 1) / 2): its phase falls by
    2 pi c / N (about pi) a bin across the lobe, and turns by pi where W(nu) < 0 (the sidelobes)."""
    return centred - 2 * np.pi * b * (n_fft - 1) / 2 / n_fft + np.pi * (window_transform(nu, n_fft) < 0)


def centred_phase(frames: np.ndarray, at: np.ndarray, n_fft: int) -> np.ndarray:
    """The phase at the frame's centre of a partial read off complex frames (L, B) at its main lobe's bins `at`
    (L, K): lobe_phase() inverted at nu = 0."""
    return np.angle(np.take_along_axis(frames, at, axis=1)) + 2 * np.pi * at * (n_fft - 1) / 2 / n_fft


@dataclass(frozen=True)
class HarmonicPhase(Held):
    """The decoder's own start, with lobe_phase() on the voiced frames' cells within `nepers` of the segment's
    loudest, under `split` Hz and not decoded silent (with `peaks`, only each harmonic's nearest bin; else its whole
    lobe: the bins whose nearest harmonic it is), under the decoded magnitudes, kept through the iterations (Held):
    the low band's phase from one number a harmonic a voiced frame. f0 is the original's (pitch()) in `f0_bits` bits;
    each harmonic k with a cell to set sends its centred phase, read off the original at the bin nearest k f0 (as
    harmonics() places it: the decoder finds it from the coded f0, so it costs nothing), exact or in `bits` bits;
    each lobe cell's nu is its offset from k f0. `voiced` collects the count of voiced frames a segment, `phases` of
    sent harmonic phases, `predicted` and `unpredicted` the histograms of the B-bit codes: less the code predicted
    from the previous frame's for the same harmonic advanced by 2 pi k f0 hop / rate (f0 the two frames' mean, as
    steps() gives it) where that frame sent one, as they are elsewhere; `errors` the model's and the start's |phase
    error| (2, cells) on the cells."""

    original: Original
    split: float
    nepers: float
    bits: int | None = None
    f0_bits: int = F0_BITS[-1]
    peaks: bool = False
    voiced: list[int] = field(default_factory=list)
    phases: list[int] = field(default_factory=list)
    predicted: list[np.ndarray] = field(default_factory=list)
    unpredicted: list[np.ndarray] = field(default_factory=list)
    errors: list[np.ndarray] = field(default_factory=list)

    def frames(
        self, y: np.ndarray, n_fft: int, valid: int, seed: int, segment: int, shared: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        angle, g, mag, f0, k, _, cells = voiced_start(self, y, n_fft, valid, seed, segment, shared)
        frames, bins = g.shape
        rate = self.original.rate
        t, b = np.nonzero(cells)
        sent = np.zeros((frames, int(k.max()) + 1), bool)  # (L, K): the harmonics that send a phase
        sent[t, k[t, b]] = True
        spacing = np.where(f0 > 0, f0, 1.0) * n_fft / rate  # bins a harmonic
        at = np.minimum(np.rint(np.arange(sent.shape[1]) * spacing[:, None]), bins - 1).astype(np.int64)
        target = self.original.segment(segment, frames).sum(axis=0)
        centred = quantized(centred_phase(target, at, n_fft), self.bits)
        if self.bits is not None:
            self._count(centred, sent, f0, n_fft, rate)
        self.voiced.append(int((f0 > 0).sum()))
        self.phases.append(int(sent.sum()))
        model = lobe_phase(centred[t, k[t, b]], b - k[t, b] * spacing[t], b, n_fft)
        truth = np.angle(target[t, b])
        self.errors.append(np.abs(np.angle(np.exp(1j * (np.stack([model, angle[t, b]]) - truth)))))
        angle = angle.astype(np.float64)
        angle[t, b] = model
        x = pghi.polar(mag, np.cos(angle).astype(np.float32), np.sin(angle).astype(np.float32))
        self.keep(x, cells)
        return x, mag

    def _count(self, centred: np.ndarray, sent: np.ndarray, f0: np.ndarray, n_fft: int, rate: int) -> None:
        """Histograms of the codes of the B-bit `centred` (L, K) where `sent` (L, K): their residuals from the
        previous frame's advanced (predicted), where that frame sent the harmonic too, and the codes themselves."""
        levels, step = 2**self.bits, 2 * np.pi / 2**self.bits
        code = np.mod(np.rint(centred / step).astype(np.int64), levels)
        hop = n_fft // spectrum.OVERLAP_FACTOR
        advance = 2 * np.pi * np.arange(sent.shape[1]) * steps(f0)[:, None] * hop / rate  # (L - 1, K)
        both = sent[1:] & sent[:-1]
        residual = np.mod(code[1:] - code[:-1] - np.rint(advance / step).astype(np.int64), levels)[both]
        alone = sent.copy()
        alone[1:] &= ~both
        self.predicted.append(np.bincount(residual, minlength=levels))
        self.unpredicted.append(np.bincount(code[alone], minlength=levels))

    def kbps(self, seconds: float) -> tuple[float | None, float | None]:
        """(side kbps, entropy-coded side kbps): f0 in `f0_bits` a voiced frame, and each sent phase in `bits` bits
        or at the pooled empirical entropy of its codes (predicted and not apart); None, None where exact."""
        if self.bits is None:
            return None, None
        f0 = sum(self.voiced) * self.f0_bits
        plain = f0 + sum(self.phases) * self.bits
        coded = f0 + sum(float(h.sum()) * entropy(h) for h in (sum(self.predicted), sum(self.unpredicted)) if h.sum())
        return plain / seconds / 1000, coded / seconds / 1000


def entropy(counts: np.ndarray) -> float:
    """Bits a value of the empirical distribution `counts`."""
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log2(p)).sum())


@dataclass(frozen=True)
class Rung:
    name: str
    start: phase.Start | None  # None: the decoder's own
    iterations: bool = True  # False: none after the start (the file's own otherwise)
    tolerance: float = phase.TOLERANCE  # nepers under a segment's loudest that the integration reaches
    cost: tuple[float, float] | None = None  # a coded low band's (side kbps, SNR dB), measured apart
    count: int | None = None  # iterations to run instead of the file's


@dataclass(frozen=True)
class OpusBand:
    """The clip's band up to `split` Hz coded alone by Opus (opus_band())."""

    split: int
    target: int  # kbps asked of Opus
    audio: np.ndarray  # (frames, C) at the clip's rate
    kbps: float  # the Ogg file's own rate
    snr: float  # dB of the band against the original's band


def rungs(
    true: Original,
    bands: list[tuple[OpusBand, Original]],
    coded: list[tuple[band_coder.CodedBand, Original]] = (),
) -> list[Rung]:
    """The ladder, with each Opus band and each band of the transform coder framed as the encoder frames the clip."""
    return [
        Rung("as decoded", None),
        Rung("as decoded, no iterations", None, iterations=False),
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
        *(
            Rung(
                f"low band exact to {split / 1000:g} kHz, "
                + ("the islands above aligned to it" if aligned else "the decoder's start above")
                + (", then the iterations (band held)" if it else ", no iterations"),
                LowBand("low band", true, split, aligned),
                it,
            )
            for split in SPLITS
            for aligned in (False, True)
            for it in (False, True)
        ),
        *(
            Rung(
                f"low band's phase only (the decoded magnitudes) to {split / 1000:g} kHz, then the iterations (held)",
                LowBand("low band", true, split, magnitudes=False),
            )
            for split in SPLITS
        ),
        *(
            Rung(
                f"{OPUS} {b.target} kbps to {b.split / 1000:g} kHz, then the iterations (band held)",
                LowBand("low band", band, b.split),
                cost=(b.kbps, b.snr),
            )
            for b, band in bands
        ),
        *(
            Rung(
                f"{MDCT}{MID if b.mid else ''}, step {b.step:g}, to {b.split / 1000:g} kHz, "
                + ("then" if whole else "its phase only (the decoded magnitudes)")
                + (f" where its magnitude is at least {reliable:g} of theirs, then" if reliable else "")
                + ("" if whole or reliable else ", then")
                + " the iterations (band held)",
                LowBand("low band", band, b.split, magnitudes=whole, reliable=reliable),
                cost=(b.kbps, b.snr),
            )
            for b, band in coded
            for whole, reliable in ((True, 0.0), (False, 0.0), *((False, r) for r in MDCT_RELIABLE))
        ),
        *(Rung(f"{MORE} as decoded, {n} iterations", None, count=n) for n in MORE_ITERATIONS),
        *(
            Rung(
                f"{MORE} low band exact to 1 kHz, {n} iterations (band held)",
                LowBand("low band", true, 1000),
                count=n,
            )
            for n in MORE_ITERATIONS
        ),
        *(
            Rung(
                f"{MORE} {MDCT}, step {b.step:g}, to 1 kHz, its phase only where its magnitude is at least"
                f" {MDCT_RELIABLE[0]:g} of theirs, {n} iterations (band held)",
                LowBand("low band", band, b.split, magnitudes=False, reliable=MDCT_RELIABLE[0]),
                cost=(b.kbps, b.snr),
                count=n,
            )
            for b, band in coded
            if b.split == 1000 and b.step in MORE_STEPS
            for n in MORE_ITERATIONS
        ),
        *(
            Rung(
                f"harmonic advance within {nepers:g} Np, f0 {'fitted to the phase' if fit else 'YIN'} {_bits(bits)}"
                + ("" if it else ", no iterations"),
                HarmonicAdvance("harmonic", true, nepers, bits, fit),
                it,
            )
            for fit in (False, True)
            for nepers in HARMONIC_NEPERS
            for bits in F0_BITS
            for it in (True, False)
            if it or bits is None
        ),
        *(
            Rung(
                "held: "
                + (f"low band's phase to {split / 1000:g} kHz" if split else "original phase")
                + f" within {nepers:g} Np, {_bits(bits)}",
                HeldPhase("held", true, nepers, bits, split),
            )
            for split in (None, *HELD_SPLITS)
            for nepers in HELD_NEPERS
            for bits in (None, *HELD_BITS)
        ),
        *(  # 0 bits: no side channel, the decoder keeping its own start on its loudest cells
            Rung(
                f"held: the decoder's own phase within {nepers:g} Np"
                + (f" under {split / 1000:g} kHz" if split else ""),
                HeldPhase("held", true, nepers, 0, split),
            )
            for split in (None, HELD_SPLITS[0])
            for nepers in OWN_HELD_NEPERS
        ),
        *(
            Rung(
                f"pulse: {_pulse(source, peaks)} to {split / 1000:g} kHz within {nepers:g} Np,"
                f" pulse time {_bits(bits)}",
                PulsePhase("pulse", true, split, nepers, bits, source=source, peaks=peaks),
            )
            for split in HELD_SPLITS
            for nepers in HELD_NEPERS
            for source, peaks in (("minimum", False), ("minimum", True), ("start", False), ("zero", False))
            for bits in (None, *PULSE_BITS)
            if (source, peaks) == ("minimum", False) or (split, nepers, bits) == (HELD_SPLITS[0], 7.0, 5)
        ),
        *(
            Rung(
                f"harmonic phase: {'peak bins' if peaks else 'whole lobes'} to {split / 1000:g} kHz"
                f" within {nepers:g} Np, {_bits(bits)}",
                HarmonicPhase("harmonic", true, split, nepers, bits, peaks=peaks),
            )
            for split in HELD_SPLITS
            for nepers in HELD_NEPERS
            for peaks in (False, True)
            for bits in (None, *HELD_BITS)
        ),
    ]


def _pulse(source: str, peaks: bool) -> str:
    names = {"minimum": "minimum phase", "start": "the start's phase", "zero": "zero phase"}
    return names[source] + (" at the peaks" if peaks else "")


def _bits(bits: int | None) -> str:
    return "exact" if bits is None else f"{bits} bit" + "s" * (bits > 1)


def _lowpass(audio: np.ndarray, rate: int, split: float) -> np.ndarray:
    """(frames, C) audio with every DFT bin of the whole signal above `split` Hz zeroed."""
    spectra = np.fft.rfft(audio, axis=0)
    spectra[np.fft.rfftfreq(len(audio), 1 / rate) > split] = 0.0
    return np.fft.irfft(spectra, len(audio), axis=0)


def opus_band(clip: Clip, split: int, kbps: int) -> tuple[np.ndarray, float, float]:
    """(decoded, kbps, SNR dB): the clip's band up to `split` Hz coded alone by Opus at `kbps` (bench.contenders), at
    8 kHz (its least rate; every split fits under its 4 kHz Nyquist), decoded, shifted to the lag that matches the
    band best (within 20 ms) and brought back to the clip's rate; the Ogg file's rate and the band's SNR there."""
    band = _lowpass(clip.audio, clip.rate, split)
    narrow = resample_to(band, clip.rate, OPUS_RATE)
    coded = contenders.lossy(Clip(clip.name, clip.category, narrow.astype(np.float32), OPUS_RATE), kbps, "opus")
    out = _lowpass(coded.decoded[: len(narrow)], OPUS_RATE, split)
    out = np.pad(out, ((0, len(narrow) - len(out)), (0, 0)))
    reach, n = OPUS_RATE // 50, 2 * len(narrow)
    match = np.fft.irfft(np.fft.rfft(narrow.sum(axis=1), n) * np.conj(np.fft.rfft(out.sum(axis=1), n)), n)
    lag = max(range(-reach, reach + 1), key=lambda k: match[k])  # narrow[t] ~ out[t - lag]
    out = np.roll(out, lag, axis=0)
    snr = 10 * np.log10(np.sum(narrow**2) / np.sum((narrow - out) ** 2))
    wide = resample_to(out, OPUS_RATE, clip.rate)[: len(clip.audio)].astype(np.float32)
    return wide, coded.size * 8 / clip.seconds / 1000, float(snr)


def mdct_bands(clip: Clip, splits: list[int], steps: list[float], mid: bool = False) -> list[band_coder.CodedBand]:
    """The low bands the transform coder codes at each split and step (with `mid`, the channels' mean once)."""
    return [band_coder.code_band(clip.audio, clip.rate, split, step, mid) for split in splits for step in steps]


def opus_bands(clip: Clip) -> list[OpusBand]:
    """The low bands Opus codes at each split and OPUS_KBPS."""
    return [OpusBand(split, kbps, *opus_band(clip, split, kbps)) for split in SPLITS for kbps in OPUS_KBPS]


def decoded(clip: Clip, data: bytes, kbps: int, rung: Rung) -> dict:
    """The rung's decode of `data`, scored, with what its side channel sends and costs (None where it sends none)."""
    if not rung.iterations:
        data = bitstream.rewrite_header(data, phase_iterations=0, phase_slack=0)
    elif rung.count is not None:
        data = bitstream.rewrite_header(data, phase_iterations=rung.count)
    header = bitstream.read_header(io.BytesIO(data))
    own = rung.start or phase.STARTS[phase.PGHI]
    step = own.hold if isinstance(own, Held) else _STEP  # held cells are put back after each projection
    with (
        mock.patch.dict(phase.STARTS, {phase.PGHI: own}),
        mock.patch.object(phase, "TOLERANCE", rung.tolerance),
        mock.patch.object(griffin_lim, "_step", step),
    ):
        audio, rate = codec.decode(data)
    search = (header.phase, header.phase_iterations, header.phase_slack)
    counted = {
        OracleStart: "anchors",
        TimeResiduals: "cells",
        HarmonicAdvance: "voiced",
        HeldPhase: "cells",
        PulsePhase: "voiced",
        HarmonicPhase: "phases",
    }
    kind = counted.get(type(rung.start))
    sent = sum(getattr(rung.start, kind)) / clip.seconds if kind else None  # starts, residuals, f0s, cells, phases
    bits = getattr(rung.start, "bits", None)
    if bits is not None:
        bits += getattr(rung.start, "f0_bits", 0)  # a pulse time comes with its frame's f0
    errors = np.concatenate(getattr(rung.start, "errors", None) or [np.zeros((2, 0))], axis=1)
    side = rung.cost[0] if rung.cost else None if sent is None or bits is None else sent * bits / 1000
    codes = getattr(rung.start, "codes", None)
    coded = None if not codes else sent * entropy(sum(codes)) / 1000  # as an entropy coder could send the codes
    if isinstance(rung.start, HarmonicPhase):  # an f0 a voiced frame, then a phase a harmonic: kbps() counts both
        side, coded = rung.start.kbps(clip.seconds)
    return row(clip, kbps, search, clip.audio, audio, rate) | {
        "rung": rung.name,
        "sent_per_s": None if sent is None else round(sent, 1),
        "side_kbps": None if side is None else round(side, 3),
        "entropy_kbps": None if coded is None else round(coded, 3),
        "band_snr_db": None if rung.cost is None else round(rung.cost[1], 2),
        "model_error_rad": round(float(np.median(errors[0])), 3) if errors.size else None,
        "start_error_rad": round(float(np.median(errors[1])), 3) if errors.size else None,
    }


def _cells(values: list[float | None]) -> str:
    values = [v for v in values if v is not None]  # PESQ-WB is not scored on music
    return f"{np.mean(values):.2f} / {min(values):.2f}" if values else "-"


def _mean(group: list[dict], key: str, digits: int) -> str:
    values = [r[key] for r in group if r.get(key) is not None]
    return f"{np.mean(values):.{digits}f}" if values else "-"


def summary(rows: list[dict]) -> list[str]:
    """Mean and worst clip per rate and rung, and the means without the clip whose band the default used to cut."""
    lines = [
        "| kbps | rung | clips | side kbps | entropy kbps | sent / s | band SNR dB | PESQ-WB mean / worst |"
        " Zimtohrli mean / worst | PESQ-WB, Zimtohrli without tcd_CA01_01_48k |",
        "|" + "---|" * 10,
    ]
    for (kbps, rung), group in report.grouped(rows, ("kbps", "rung")).items():
        kept = [r for r in group if r["clip"] != CUT_BAND]
        cells = (
            _mean(group, "side_kbps", 2),
            _mean(group, "entropy_kbps", 2),
            _mean(group, "sent_per_s", 0),
            _mean(group, "band_snr_db", 1),
            _cells([r["pesq_wb"] for r in group]),
            _cells([r["zimtohrli_mos"] for r in group]),
            f"{_mean(kept, 'pesq_wb', 2)}, {_mean(kept, 'zimtohrli_mos', 2)}" if kept else "-",
        )
        lines.append(f"| {kbps} | {rung} | {len(group)} | " + " | ".join(cells) + " |")
    return lines


Band = TypeVar("Band", OpusBand, band_coder.CodedBand)


def _framed(clip: Clip, bands: list[Band], header: Header) -> list[tuple[Band, Original]]:
    """Each coded band with its audio framed as the encoder frames the clip."""
    return [(band, original(replace(clip, audio=band.audio), header, voiced=False)) for band in bands]


def main() -> None:
    p = report.parser(__doc__, "phase_oracles")
    p.add_argument("--cache", type=Path, default=None, help="folder to keep (and reuse) the encoded files in")
    p.add_argument("--rates", type=int, nargs="+", default=list(RATES), help="kbps to encode each clip at")
    p.add_argument("--rungs", nargs="+", default=[""], help="run only the rungs whose names begin so (default: all)")
    p.add_argument("--category", choices=("speech", "music"), default="speech", help="the clips to run on")
    p.add_argument("--mdct-splits", type=int, nargs="+", default=list(MDCT_SPLITS), help="the transform coder's Hz")
    p.add_argument("--mdct-steps", type=float, nargs="+", default=list(MDCT_STEPS), help="and its steps")
    p.add_argument("--mdct-mid", action="store_true", help="the transform coder codes the channels' mean once")
    args = p.parse_args()
    clips = [c for c in load_clips(args.corpus, 0.5 if args.quick else args.excerpt) if c.category == args.category]
    clips, rates = (clips[:1], args.rates[:1]) if args.quick else (clips, args.rates)
    iterations = 20 if args.quick else args.iterations
    cache = None if args.quick else args.cache  # a quick run's half second must not pass for the 10 s excerpt
    began = time.perf_counter()
    rows = []
    opus = any(p.startswith(OPUS) or OPUS.startswith(p) for p in args.rungs)  # Opus's bands take a while
    mdct = any(p.startswith((MDCT, MORE)) or MDCT.startswith(p) or MORE.startswith(p) for p in args.rungs)
    for clip in clips:
        bands = opus_bands(clip) if opus else []
        coded = mdct_bands(clip, args.mdct_splits, args.mdct_steps, args.mdct_mid) if mdct else []
        for kbps in rates:
            data = encoded(clip, kbps, iterations, cache)
            header = bitstream.read_header(io.BytesIO(data))
            ladder = rungs(original(clip, header), _framed(clip, bands, header), _framed(clip, coded, header))
            chosen = [r for r in ladder if r.name.startswith(tuple(args.rungs))]
            rows += [decoded(clip, data, kbps, rung) for rung in chosen]
        print(f"{clip.name}: done", flush=True)
    took = time.perf_counter() - began
    lines = report.preamble("Phase side-channel oracles, same weights", "bench.phase_oracles", took)
    lines += [
        "Means over clips; worst is the lowest clip. Sent / s: island starts, time residuals, f0 values, held cells"
        " or harmonic phases a second; side kbps: those x bits (harmonic phases: and 7 bits of f0 a voiced frame),"
        " or the Opus file's rate for an Opus low band, whose SNR against the original's band is the band SNR;"
        " entropy kbps: the held cells' codes at their empirical entropy, or the harmonic phases' less their"
        " prediction from the previous frame's (and f0's 7 bits).",
        "",
    ]
    report.write(rows, args.out, lines + summary(rows) + ["", *report.row_table(rows)])


if __name__ == "__main__":
    main()
