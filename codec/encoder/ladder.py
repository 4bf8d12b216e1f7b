"""Bitrate -> network shape: the documented ladder (README "Rate control").

A target bitrate fixes a weight budget per second. Width grows with the square
root of the weights per sample so segments stay near REFERENCE_LENGTH samples;
the segment length then makes each segment spend exactly its share. Measured on
speech (tests of this ladder live in tests/test_ladder.py): depth 6 beat 4 and 8,
and at equal bytes a wider net on longer segments beat a narrow one on short ones.
"""

from dataclasses import dataclass

from codec.layout import params_per_segment, tensor_shapes

DEPTH = 6
BITS_PER_WEIGHT = 7.6  # measured: 8-bit uniform codes after zstd, speech and music alike
REFERENCE_LENGTH = 8192
MIN_WIDTH, MAX_WIDTH = 2, 64
OVERLAP_FRACTION = 16  # overlap = segment_length / 16
SMALL_OVERHEAD_BYTES = 48 + 9  # fixed header plus a zstd frame holding one raw block
MIN_SINGLE_DEPTH = 3


@dataclass(frozen=True)
class Shape:
    """The network and segment grid chosen for one file."""

    width: int
    depth: int
    segment_length: int
    overlap: int


def _granule(depth: int) -> int:
    return 1 << (depth - 1)


def _round_up(n: int, granule: int) -> int:
    return -(-n // granule) * granule


def _segment_cost(width: int, depth: int, channels: int, bits_per_weight: float = BITS_PER_WEIGHT) -> float:
    """Bits one segment costs: its weights plus one step byte per tensor."""
    return params_per_segment(width, depth, channels) * bits_per_weight + 8 * len(tensor_shapes(width, depth, channels))


def choose_shape(bitrate: float, sample_rate: int, channels: int, frames: int, depth: int = DEPTH) -> Shape:
    """Pick width and segment grid so the file lands near `bitrate` at ~8-bit weights."""
    granule = _granule(depth)
    bits_per_frame = bitrate / sample_rate
    width = round((bits_per_frame * REFERENCE_LENGTH / (BITS_PER_WEIGHT * depth)) ** 0.5)
    width = min(MAX_WIDTH, max(MIN_WIDTH, width))
    ideal = _segment_cost(width, depth, channels) / bits_per_frame * OVERLAP_FRACTION / (OVERLAP_FRACTION - 1)
    count = round((frames - ideal / OVERLAP_FRACTION) / (ideal * (1 - 1 / OVERLAP_FRACTION)))
    if count >= 2:
        # Stretch the grid so `count` segments cover the clip exactly: no budget spent on padding.
        length = _round_up(-(-frames * OVERLAP_FRACTION // (OVERLAP_FRACTION * count - count + 1)), granule)
        return Shape(width, depth, length, length // OVERLAP_FRACTION)
    # One segment holds the whole clip. Its payload is too small for zstd to shrink, so
    # cost it at a full byte per weight, and search depth as well as width: width alone
    # moves the size in steps of up to 50 % on sub-second clips.
    budget = bitrate * frames / sample_rate / 8 - SMALL_OVERHEAD_BYTES
    options = [
        (_segment_cost(w, d, channels, bits_per_weight=8) / 8, d, w)
        for d in range(MIN_SINGLE_DEPTH, depth + 1)
        for w in range(MIN_WIDTH, MAX_WIDTH + 1)
    ]
    fitting = [o for o in options if o[0] <= budget] or [min(options)]
    best = max(cost for cost, _, _ in fitting)
    _, depth, width = max(fitting, key=lambda o: (o[0] >= 0.95 * best, o[1], o[0]))  # deepest within 5 %
    return Shape(width, depth, _round_up(frames, _granule(depth)), 0)
