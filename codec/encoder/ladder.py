"""Bitrate -> network shape: the documented ladder (README "Rate control").

A target bitrate fixes a weight budget per second. Width grows with the square
root of the weights per sample so segments stay near REFERENCE_LENGTH samples;
the segment length then makes each segment spend exactly its share. Measured on
speech (tests of this ladder live in tests/test_ladder.py): depth 6 beat 4 and 8,
and at equal bytes a wider net on longer segments beat a narrow one on short ones.
"""

import math
from dataclasses import dataclass

from codec.bitstream import MAX_SPECTRAL_SEGMENT, MIN_SPECTRAL_SEGMENT, SPECTRAL_SYNTHESIS
from codec.layout import output_rows, params_per_segment, tensor_shapes
from codec.spectrum import frame_count

DEPTH = 6
BITS_PER_WEIGHT = 7.6  # measured: 8-bit uniform codes after zstd, speech and music alike
REFERENCE_LENGTH = 8192
MIN_WIDTH, MAX_WIDTH = 2, 64
OVERLAP_FRACTION = 16  # overlap = segment_length / 16
SMALL_OVERHEAD_BYTES = 48 + 9  # fixed header plus a zstd frame holding one raw block
MIN_SINGLE_DEPTH = 3
# Spectral synthesis (README "Modes"), measured on 10 s of speech at 24 kbps (bench/RESULTS.md, ablation):
# depth 3 beat 2 and tied 4; near 7 bits a weight (k = 71, levels ~120) tied 6.5 and 7.5 and beat
# wider networks on coarser codes (k = 80 and 96 at levels 33 and 14).
SPECTRAL_DEPTH = 3
SPECTRAL_BITS_PER_WEIGHT = 7.0
SPECTRAL_FRAME_SECONDS = 0.04  # the STFT is the largest power of 2 at most this long
SPECTRAL_MAX_SEGMENT = 2048  # frames; 16 s at 16 kHz
SPECTRAL_MAX_WIDTH = 256
# Past ~4 bits a sample the networks would hold more weights than a quarter of the magnitudes they code;
# spectral files stop growing there (and stay inside the format's payload caps at 2-byte codes).
SPECTRAL_MAX_BITS_PER_SAMPLE = 4


@dataclass(frozen=True)
class Shape:
    """The network and segment grid chosen for one file."""

    width: int
    depth: int
    segment_length: int
    overlap: int
    synthesis: int = 0  # formats/ddc.md: 0 waveform, s > 0 log-magnitudes of a 2**s-point STFT


def _granule(depth: int) -> int:
    return 1 << (depth - 1)


def _round_up(n: int, granule: int) -> int:
    return -(-n // granule) * granule


def _segment_cost(width: int, depth: int, channels: int, bits_per_weight: float = BITS_PER_WEIGHT) -> float:
    """Bits one segment costs: its weights plus one step byte per tensor."""
    return params_per_segment(width, depth, channels) * bits_per_weight + 8 * len(tensor_shapes(width, depth, channels))


def _stretched_length(positions: int, count: int, granule: int) -> int:
    """Segment length at which `count` segments overlapping by 1/OVERLAP_FRACTION cover `positions` exactly."""
    return _round_up(-(-positions * OVERLAP_FRACTION // (OVERLAP_FRACTION * count - count + 1)), granule)


def spectral_synthesis(sample_rate: int) -> int:
    """log2 of the STFT size: ~40 ms frames (512 points at 16 kHz, 1024 at 44.1 and 48 kHz)."""
    s = math.floor(math.log2(sample_rate * SPECTRAL_FRAME_SECONDS))
    return min(max(s, SPECTRAL_SYNTHESIS.start), SPECTRAL_SYNTHESIS.stop - 1)


def choose_spectral_shape(bitrate: float, sample_rate: int, channels: int, frames: int) -> Shape:
    """Spectral synthesis: segments as long as the format allows (up to SPECTRAL_MAX_SEGMENT frames),
    then the widest network whose weights fit each segment's share of the bits."""
    bitrate = min(bitrate, SPECTRAL_MAX_BITS_PER_SAMPLE * sample_rate * channels)
    synthesis, depth = spectral_synthesis(sample_rate), SPECTRAL_DEPTH
    granule, rows = _granule(SPECTRAL_DEPTH), output_rows(channels, synthesis)
    positions = frame_count(frames, 1 << synthesis)
    longest = min(SPECTRAL_MAX_SEGMENT, MAX_SPECTRAL_SEGMENT // rows) // granule * granule
    if positions <= longest:
        count, length, overlap = 1, max(MIN_SPECTRAL_SEGMENT, _round_up(positions, granule)), 0
    else:
        count = -(-(positions * OVERLAP_FRACTION - longest) // (longest * (OVERLAP_FRACTION - 1)))
        length = min(longest, _stretched_length(positions, count, granule))
        overlap = length // OVERLAP_FRACTION
    bits = (bitrate * frames / sample_rate - 8 * SMALL_OVERHEAD_BYTES) / count
    width = MIN_WIDTH
    while width < SPECTRAL_MAX_WIDTH and _segment_cost(width + 1, depth, rows, SPECTRAL_BITS_PER_WEIGHT) <= bits:
        width += 1
    return Shape(width, depth, length, overlap, synthesis)


def choose_shape(bitrate: float, sample_rate: int, channels: int, frames: int, depth: int = DEPTH) -> Shape:
    """Waveform synthesis: pick width and segment grid so the file lands near `bitrate` at ~8-bit weights."""
    granule = _granule(depth)
    bits_per_frame = bitrate / sample_rate
    width = round((bits_per_frame * REFERENCE_LENGTH / (BITS_PER_WEIGHT * depth)) ** 0.5)
    width = min(MAX_WIDTH, max(MIN_WIDTH, width))
    ideal = _segment_cost(width, depth, channels) / bits_per_frame * OVERLAP_FRACTION / (OVERLAP_FRACTION - 1)
    count = round((frames - ideal / OVERLAP_FRACTION) / (ideal * (1 - 1 / OVERLAP_FRACTION)))
    if count >= 2:
        # Stretch the grid so `count` segments cover the clip exactly: no budget spent on padding.
        length = _stretched_length(frames, count, granule)
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
