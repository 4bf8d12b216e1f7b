"""The bitrate ladder always yields a valid header and spends the budget it is given."""

import pytest

from codec import bitstream
from codec.bitstream import Header
from codec.layout import params_per_segment, segment_count
from codec.modes import MODES
from codec.modes.base import MAX_BITS_PER_SAMPLE

WAVEFORM = MODES["waveform"]


def header_for(bitrate: float, rate: int, channels: int, frames: int, levels: int) -> Header:
    shape = WAVEFORM.shape(bitrate, rate, channels, frames)
    return Header(
        rate, channels, frames, 0, shape.width, shape.depth, 0, shape.segment_length, shape.overlap, levels, 0, 1
    )


@pytest.mark.parametrize("rate", [1000, 8000, 44100, 96000, 384000])
@pytest.mark.parametrize("channels", [1, 2, 8])
@pytest.mark.parametrize("frames", [1, 4000, 10**5, 3 * 10**7])
@pytest.mark.parametrize("bits_per_sample", [0.01, 0.5, 4, MAX_BITS_PER_SAMPLE])
def test_any_clamped_target_passes_the_format_caps_with_two_byte_codes(rate, channels, frames, bits_per_sample):
    bitrate = max(1000, bits_per_sample * rate * channels)
    bitstream.validate(header_for(bitrate, rate, channels, frames, 32767))


@pytest.mark.parametrize("rate", [8000, 11025, 16000, 44100, 96000])
@pytest.mark.parametrize("channels", [1, 2, 8])
@pytest.mark.parametrize("seconds", [0.01, 0.4, 3.0, 600.0])
@pytest.mark.parametrize("bitrate", [6000, 24000, 256000])
def test_shape_is_valid_and_near_budget(rate, channels, seconds, bitrate):
    frames = max(1, int(rate * seconds))
    shape = WAVEFORM.shape(bitrate, rate, channels, frames)
    header = header_for(bitrate, rate, channels, frames, 127)
    bitstream.validate(header)
    segments = segment_count(frames, shape.segment_length, shape.overlap)
    if segments > 1:  # nominal cost within what the levels search absorbs (~5.5-10 bits a weight)
        weights = params_per_segment(shape.width, shape.depth, channels)
        per_segment = weights * WAVEFORM.bits_per_weight + 8 * len(header.shapes)
        nominal = segments * per_segment + 8 * bitstream.HEADER_BYTES
        assert 0.75 < nominal / (bitrate * frames / rate) < 1.3
