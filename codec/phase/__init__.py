"""Phase for spectral synthesis (formats/ddc.md §7): a start, then fast Griffin-Lim iterations.

A file names its start in the header's `phase` byte and the iterations in `phase_iterations`
(version 5; earlier spectral files are phase 0 with 32 iterations), and how far the iterations may move a
magnitude in `phase_slack` (version 7; earlier files: 0, the magnitudes as decoded). Each start is registered in
STARTS under its byte.
"""

from dataclasses import dataclass

import numpy as np

from codec import noise, spectrum

# griffin_lim and pghi are imported where they run: they load numba (about 0.5 s), which only the decoding of a
# spectral file needs, not `import codec`, `ddcodec info` or a waveform file.


@dataclass(frozen=True)
class Start:
    """How a segment's phase search begins, and so the precision its iterations need."""

    name: str  # as `ddcodec info` shows it

    def frames(
        self, y: np.ndarray, n_fft: int, valid: int, seed: int, segment: int, shared: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """(start frames X, magnitudes M), both (C, L, B), from log-magnitudes y (C, L, B) of an n_fft-point STFT
        whose first `valid` frames are audio (§7 steps 1-2); X's first frames continue `shared` (C, O, B), the
        previous segment's frames that this one overlaps. The iterations run in X's precision."""
        raise NotImplementedError


class RandomStart(Start):
    """Versions 2 to 4: 32 iterations from a random start need double precision (single moved a tone by 28 LSB)."""

    def frames(
        self, y: np.ndarray, n_fft: int, valid: int, seed: int, segment: int, shared: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        from codec.phase import griffin_lim

        mag = _magnitudes(y, n_fft, valid, np.float64)
        x = np.broadcast_to(noise.start_phase(seed, segment, mag.shape[1:]), mag.shape).copy()
        x[:, : shared.shape[1]] = shared
        return griffin_lim.share(x, mag), mag


class GradientStart(Start):
    """Phase-gradient heap integration (codec/phase/pghi.py); a few iterations after it keep within
    tolerance in single precision."""

    def frames(
        self, y: np.ndarray, n_fft: int, valid: int, seed: int, segment: int, shared: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        from codec.phase import draws, pghi

        start = draws.start_angle(seed, segment, y.shape[1:])
        start[: shared.shape[1]] = np.angle(shared.sum(axis=0))
        by_bin = np.ascontiguousarray(y.transpose(0, 2, 1))  # (C, B, L): the networks' own layout
        hop_ratio = 1 / spectrum.OVERLAP_FACTOR
        angle = pghi.angles(by_bin, valid, start, shared.shape[1], hop_ratio, TOLERANCE)
        mag = _magnitudes(y, n_fft, valid, np.float32)
        return pghi.polar(mag, np.cos(angle), np.sin(angle)), mag


GRIFFIN_LIM, PGHI = 0, 1  # `phase` bytes: the start of versions 2 to 4, and phase-gradient integration
STARTS: dict[int, Start] = {
    GRIFFIN_LIM: RandomStart("random"),
    PGHI: GradientStart("pghi"),
}
LEGACY_ITERATIONS = 32  # Griffin-Lim iterations of versions 2 to 4
TOLERANCE = 5.0  # natural-log units (43 dB) under a segment's loudest cell: quieter cells keep their start


def rebuild(
    y: np.ndarray,
    valid: int,
    start: int,
    iterations: int,
    seed: int,
    segment: int,
    shared: np.ndarray,
    workers: int,
    slack: float = 0.0,
) -> np.ndarray:
    """Complex frames (C, L, B) of log-magnitudes y (C, L, B), the first `valid` of them audio, with one phase
    shared by the channels (§7 steps 1-3); the iterations may move magnitudes by up to `slack` natural-log units."""
    from codec.phase import griffin_lim

    n_fft = 2 * (y.shape[2] - 1)
    x, mag = STARTS[start].frames(y, n_fft, valid, seed, segment, shared)
    return griffin_lim.refine(x, mag, n_fft, iterations, workers, slack)


def _magnitudes(y: np.ndarray, n_fft: int, valid: int, dtype: type) -> np.ndarray:
    """§7 step 1 in `dtype`, (C, L, B) in y's memory order (a transposing copy costs more than it saves):
    M = max(exp(min(y, ln N)) - N 2**-15, 0), and 0 in the frames from `valid` on (padding past the end)."""
    mag = spectrum.magnitude(y, n_fft, dtype)
    mag[:, valid:] = 0.0
    return mag
