"""Rate control shared by the modes: a network shape and the segment grid it is fitted on.

Each mode turns a bitrate into a Shape with these helpers (README "Rate control");
the numbers a mode was tuned with live in that mode's module.
"""

from dataclasses import dataclass

from codec.bitstream import HEADER_BYTES, ZSTD_SMALL_FRAME_BYTES
from codec.layout import params_per_segment, tensor_shapes

OVERLAP_FRACTION = 16  # consecutive segments share 1/16 of a segment
SMALL_OVERHEAD_BYTES = HEADER_BYTES + ZSTD_SMALL_FRAME_BYTES  # what a file costs beyond its weights, at least
MIN_WIDTH = 2


@dataclass(frozen=True)
class Shape:
    """The network and segment grid chosen for one file."""

    width: int
    depth: int
    segment_length: int
    overlap: int
    synthesis: int = 0  # formats/ddc.md: 0 waveform, s > 0 log-magnitudes of a 2**s-point STFT
    frequency_q: int = 0  # spectral: the networks output frequency nodes (codec/frequency.py); 0: every bin


def granule(depth: int) -> int:
    """Segment lengths are multiples of this: every hidden layer but the last doubles the length."""
    return 1 << (depth - 1)


def round_up(n: int, multiple: int) -> int:
    return -(-n // multiple) * multiple


def segment_cost(width: int, depth: int, rows: int, bits_per_weight: float) -> float:
    """Bits one segment costs: its weights plus one step byte per tensor."""
    return params_per_segment(width, depth, rows) * bits_per_weight + 8 * len(tensor_shapes(width, depth, rows))


def stretched_length(positions: int, count: int, multiple: int) -> int:
    """Segment length at which `count` segments overlapping by 1/OVERLAP_FRACTION cover `positions` exactly."""
    return round_up(-(-positions * OVERLAP_FRACTION // (OVERLAP_FRACTION * count - count + 1)), multiple)
