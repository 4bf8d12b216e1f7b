"""What a mode is: the one object that knows how a kind of file is coded and decoded.

A mode owns its name, the synthesis ids its files carry (formats/ddc.md byte 25), its fit
defaults, the signal its networks fit (the target transform), the fit's error, how
its segments are laid out for a bitrate, and the decoder's synthesis. The encoder,
decoder, CLI, `info` and the benchmarks read the table in codec/modes/__init__.py
and never test a mode's name.

Importing this never imports torch: the fit error imports it when a fit asks for one.
"""

import abc
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from codec.bitstream import LEGACY_PHASE, Header, PhaseSearch
from codec.frequency import Nodes
from codec.modes.ladder import Shape

MAX_BITS_PER_SAMPLE = 16  # no mode spends more than 16-bit PCM (the format's caps assume so)


@dataclass(frozen=True)
class FitConfig:
    """How hard to fit; nothing here is needed to decode. Each mode's defaults are its `fit`."""

    iterations: int  # steps at effort 1
    lr: float
    lr_floor: float = 0.05  # the cosine decay ends at lr * lr_floor
    device: str = "cpu"
    # A step costs about in proportion to the rows a network outputs, so networks of at most `light_rows` rows take
    # `light_iterations` steps instead, in about the time the others take (bench/RESULTS.md, "Effort"). 0: none.
    light_rows: int = 0
    light_iterations: int = 0

    def steps(self, rows: int, effort: float = 1.0) -> int:
        """Fit steps for networks that output `rows` values a position, `effort` times the default."""
        default = self.light_iterations if rows <= self.light_rows else self.iterations
        return max(1, round(default * effort))


class Mode(abc.ABC):
    """One way of coding audio. Subclasses are frozen dataclasses whose fields are their tunables."""

    name: str
    summary: str  # one line for --help and the README
    fit: FitConfig
    center: bool = False  # subtract each segment's mean before the fit as well as scaling it
    silent_bias: float = 0.0  # added to a silent segment's output bias, so it decodes to exact zeros
    denoiser: str | None = None  # how its encoder removes stationary noise: a key of codec.encoder.denoise.DENOISERS
    limits_peak: bool = False  # its files store the original's peak and decode within 1 dB of it (codec/limit.py)

    @abc.abstractmethod
    def owns(self, synthesis: int) -> bool:
        """Whether a header's `synthesis` field names this mode."""

    def max_bitrate(self, sample_rate: int, channels: int) -> float:
        """The most this mode spends; a higher target is clamped to it."""
        return MAX_BITS_PER_SAMPLE * sample_rate * channels

    def phase_search(self, channels: int = 1, iterations: int | None = None) -> PhaseSearch:
        """(phase, phase_iterations, phase_slack) of its headers for audio of `channels` channels (formats/ddc.md
        §7), with `iterations` instead of its default if given; a mode without phase keeps version 2's."""
        return LEGACY_PHASE

    def gain(self, audio: np.ndarray) -> int:
        """The `gain` field for this (frames, C) audio (formats/ddc.md §10): the networks code
        audio / 2**(gain / 8), which the decoder multiplies back. 0 here: audio is coded at its own level."""
        return 0

    def rate_divisor(self, bitrate: float, sample_rate: int, channels: int) -> int:
        """D: code the audio at sample_rate / D, a narrower band for fewer bits (formats/ddc.md §8). 1 here."""
        return 1

    @abc.abstractmethod
    def shape(self, bitrate: float, sample_rate: int, channels: int, frames: int) -> Shape:
        """The network and segment grid for a file at `bitrate` (rate control); the rate and frames coded."""

    @abc.abstractmethod
    def signal(self, audio: np.ndarray, shape: Shape, workers: int) -> np.ndarray:
        """(frames, C) float32 audio -> the (positions, rows) signal the networks fit."""

    measure = "fit SNR {:.1f} dB"  # how the progress bar shows fit_measure

    def fit_measure(self, relative_error: float, scale: np.ndarray) -> float:
        """What the progress bar shows of the fit so far: the error over the target's energy, as an SNR in dB.
        `scale` is the RMS the segments' targets were divided by."""
        return float(10 * np.log10(1 / max(relative_error, 1e-30)))

    def fit_weight(self, target: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """How much each value's squared error counts in the fit, broadcastable to target (S, rows, L), with mean 1
        over each segment's valid values: here the mask (S, 1, L), every value alike."""
        return mask[:, None, :]

    def fit_error(self, target: np.ndarray, weight: np.ndarray, nodes: Nodes, device: str) -> Any:
        """The error the fit minimizes, bound to one batch's standardized target (S, rows, L) and its weight
        (fit_weight): a callable error(output, step) on the output layer's torch values at `nodes` (fit_networks).
        Here the weighted squared error over the bins, computed at the nodes (codec/encoder/loss.py, which loads
        torch: whoever fits has it)."""
        from codec.encoder.loss import SquaredError, as_tensor

        return SquaredError(as_tensor(target, device), as_tensor(weight, device), nodes)

    def values_per_segment(self, header: Header) -> int:
        """Float64 values the decoder holds per segment of a run (sizes its runs to bound memory)."""
        return max(header.width, header.rows) * header.segment_length

    @abc.abstractmethod
    def blocks(self, header: Header, runs: Iterable[np.ndarray], workers: int) -> Iterator[np.ndarray]:
        """Runs of decoded segments (n, rows, L) -> consecutive (frames, C) float32 audio blocks at the
        coded rate, `header.coded_frames` in all (the Reader interpolates them to the output rate)."""

    @abc.abstractmethod
    def describe(self, header: Header) -> str:
        """A few words for `ddcodec info`."""
