"""The peak limit of formats/ddc.md §9: unchanged up to the original's peak, smooth above, never 1 dB past it."""

import io

import numpy as np
import pytest
from conftest import VECTORS, load

import codec
from codec import bitstream, limit
from codec.audio_io import to_pcm16


def test_samples_up_to_the_knee_pass_and_none_exceeds_the_ceiling():
    peak = limit.peak_code(np.array([0.5]))
    knee, ceiling = limit.knee_and_ceiling(peak)
    assert knee == pytest.approx(peak / 32768) and ceiling == pytest.approx(knee * 10 ** (1 / 20))
    y = np.linspace(-4, 4, 80_001)[:, None]
    out = limit.limit(y, peak).astype(np.float64)
    inside = np.abs(y) <= knee
    np.testing.assert_allclose(out[inside], y[inside], atol=1e-7)
    assert np.abs(out).max() <= ceiling + 1e-7 and np.all(np.diff(out[:, 0]) >= 0)  # monotone
    slope = np.diff(out[:, 0]) / np.diff(y[:, 0])
    assert np.abs(np.diff(slope)).max() < 1e-2  # no kink: slope 1 at the knee, easing off above


def test_near_full_scale_the_ceiling_is_the_largest_16_bit_sample():
    knee, ceiling = limit.knee_and_ceiling(limit.peak_code(np.array([0.99])))
    assert ceiling == 32767 / 32768 and knee < 0.99
    out = limit.limit(np.array([[3.0], [-3.0]]), 32440)
    assert np.abs(to_pcm16(out)).max() <= 32767  # nothing that was not clipped before is clipped


def test_peak_code_rounds_up_and_is_zero_for_silence():
    assert limit.peak_code(np.zeros((10, 2))) == 0
    assert limit.peak_code(np.array([[0.25], [-0.5]])) == 16384
    assert limit.peak_code(np.array([[3.0]])) == limit.MAX_PEAK


def test_a_decode_never_peaks_more_than_1_db_over_the_stored_peak():
    """Set a file's peak field far below what it decodes to: the limit holds the output to it."""
    audio, rate = load("speech_198-209-0000_2s.flac")
    data = codec.encode(audio, rate, bitrate=24_000, iterations=60)
    header = codec.read_header(io.BytesIO(data))
    assert header.peak == limit.peak_code(audio) and header.version == 8
    free = codec.decode(bitstream.rewrite_header(data, peak=0))[0]
    low = int(np.abs(free).max() * 32768 / 3)  # a third of the unlimited output's peak
    limited = codec.decode(bitstream.rewrite_header(data, peak=low))[0]
    assert np.abs(limited).max() <= low / 32768 * 10 ** (1 / 20) * (1 + 1e-6)
    quiet = np.abs(free) <= low / 32768
    np.testing.assert_array_equal(limited[quiet], free[quiet])  # what is under the peak is untouched


def test_the_limit_vector_bends_its_peaks():
    data = (VECTORS / "digit_spectral_limited_8k.ddc").read_bytes()
    header = codec.read_header(io.BytesIO(data))
    knee, ceiling = limit.knee_and_ceiling(header.peak)
    audio, _ = codec.decode(data)
    assert np.sum(np.abs(audio) > knee) > 50 and np.abs(audio).max() <= ceiling
