"""Header validation and payload framing: every documented rejection raises the documented error."""

import dataclasses
import io
import zlib

import numpy as np
import pytest

from codec import bitstream
from codec.bitstream import Header
from codec.errors import FormatError, TruncatedError, UnsupportedVersionError

GOOD = Header(
    sample_rate=16000,
    channels=2,
    frames=5000,
    seed=9,
    width=4,
    depth=3,
    synthesis=0,
    segment_length=2048,
    overlap=128,
    levels=300,
    crc_payload=0,
    payload_bytes=1,
)


def make_file(header: Header = GOOD, rng_seed: int = 0) -> bytes:
    """A valid file for `header` with random in-range codes."""
    rng = np.random.default_rng(rng_seed)
    exponents = rng.integers(150, 200, size=(header.segments, len(header.shapes)), dtype=np.uint8)
    codes = [
        bitstream.zigzag_encode(
            rng.integers(-header.levels, header.levels + 1, size=(header.segments, int(np.prod(s))))
        )
        for s in header.shapes
    ]
    payload = bitstream.compress_payload(bitstream.join_payload(exponents, codes, header.code_bytes))
    header = dataclasses.replace(header, crc_payload=zlib.crc32(payload), payload_bytes=len(payload))
    out = io.BytesIO()
    bitstream.write(header, payload, out)
    return out.getvalue()


def test_header_round_trips_and_payload_splits_back():
    data = make_file()
    header, exponents, codes = bitstream.read(io.BytesIO(data))
    assert dataclasses.replace(header, crc_payload=0, payload_bytes=1) == GOOD
    raw = bitstream.join_payload(exponents, codes, header.code_bytes)
    assert header.segments == 3 and len(raw) == header.raw_payload_bytes
    again = bitstream.split_payload(header, raw)
    assert np.array_equal(again[0], exponents) and all(map(np.array_equal, again[1], codes))


def test_zigzag_round_trips_the_whole_code_range():
    values = np.arange(-32767, 32768)
    assert np.array_equal(bitstream.zigzag_decode(bitstream.zigzag_encode(values)), values)
    assert list(bitstream.zigzag_encode(np.array([0, -1, 1, -2, 2]))) == [0, 1, 2, 3, 4]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"sample_rate": 0}, "sample_rate"),
        ({"channels": 0}, "channels"),
        ({"channels": 65}, "channels"),
        ({"frames": 2**40}, "frames"),
        ({"frames": 0}, "frames"),
        ({"channels": 8, "frames": 2**28}, "frames x channels"),
        ({"depth": 200}, "depth"),
        ({"width": 0}, "width"),
        ({"synthesis": 13}, "synthesis"),
        ({"synthesis": 7}, "synthesis"),
        ({"segment_length": 2050}, "multiple"),
        ({"overlap": 1500}, "overlap"),
        ({"width": 256, "segment_length": 2**17}, "width x segment_length"),
        ({"levels": 0}, "levels"),
        ({"frames": 2**29, "segment_length": 4, "depth": 1, "overlap": 0}, "declared weights"),
        ({"segment_length": 0}, "segment_length"),
        ({"channels": 255}, "channels"),
        ({"depth": 255}, "depth"),
        ({"frames": 2**19, "channels": 1, "width": 2, "depth": 1, "segment_length": 1, "overlap": 0}, "bytes for"),
        ({"frames": 1, "channels": 1, "width": 256, "depth": 1, "segment_length": 8192}, "multiply-adds"),
    ],
)
def test_out_of_bounds_fields_are_rejected_despite_a_valid_crc(change, message):
    bad = bitstream.pack_header(dataclasses.replace(GOOD, **change)) + b"x"
    with pytest.raises(FormatError, match=message):
        bitstream.read(io.BytesIO(bad))


def test_every_truncation_is_a_truncated_error():
    data = make_file()
    for cut in range(len(data)):
        with pytest.raises(TruncatedError):
            bitstream.read(io.BytesIO(data[:cut]))


def test_wrong_magic_version_crcs_trailing_bytes_and_bad_zstd():
    data = make_file()
    with pytest.raises(FormatError, match=r"not a \.ddc"):
        bitstream.read(io.BytesIO(b"RIFF" + data[4:]))
    with pytest.raises(UnsupportedVersionError):
        bitstream.read(io.BytesIO(data[:4] + bytes([max(bitstream.VERSIONS) + 1]) + data[5:]))
    with pytest.raises(FormatError, match="does not match synthesis"):  # a waveform file labelled version 2
        bitstream.read(
            io.BytesIO(bitstream.pack_header(bitstream.read_header(io.BytesIO(data)), version=2) + data[48:])
        )
    with pytest.raises(FormatError, match="header CRC"):
        bitstream.read(io.BytesIO(data[:12] + bytes([data[12] ^ 4]) + data[13:]))
    with pytest.raises(FormatError, match="payload CRC"):
        bitstream.read(io.BytesIO(data[:-1] + bytes([data[-1] ^ 1])))
    with pytest.raises(FormatError, match="trailing"):
        bitstream.read(io.BytesIO(data + b"\0"))
    header = bitstream.read_header(io.BytesIO(data))
    junk = b"not zstd at all"
    fake = dataclasses.replace(header, crc_payload=zlib.crc32(junk), payload_bytes=len(junk))
    with pytest.raises(FormatError, match="zstd"):
        bitstream.read(io.BytesIO(bitstream.pack_header(fake) + junk))


def test_payload_of_the_wrong_size_or_with_codes_beyond_levels_is_rejected():
    header, exponents, codes = bitstream.read(io.BytesIO(make_file()))
    raw = bitstream.join_payload(exponents, codes, header.code_bytes)
    for body, message in ((raw[:-1], "decompresses to"), (raw + b"\0", "decompresses to")):
        payload = bitstream.compress_payload(body)
        h = dataclasses.replace(header, crc_payload=zlib.crc32(payload), payload_bytes=len(payload))
        with pytest.raises(FormatError, match=message):
            bitstream.read(io.BytesIO(bitstream.pack_header(h) + payload))
    narrow = dataclasses.replace(header, levels=2)  # same 2-byte codes, now out of range
    payload = bitstream.compress_payload(raw)
    h = dataclasses.replace(narrow, levels=200, crc_payload=zlib.crc32(payload), payload_bytes=len(payload))
    with pytest.raises(FormatError, match="beyond levels"):
        bitstream.read(io.BytesIO(bitstream.pack_header(h) + payload))


def test_version_3_carries_the_encoder_notes_and_is_written_only_with_them():
    noted = dataclasses.replace(GOOD, denoised=1, snr_estimate=bitstream.snr_estimate(9.6))
    assert (GOOD.version, noted.version) == (GOOD.version, 3) and GOOD.version in (1, 2)
    packed = bitstream.pack_header(noted)
    assert len(packed) == noted.size == bitstream.HEADER_BYTES + 2 and packed[4] == 3
    back = bitstream.read_header(io.BytesIO(packed))
    assert back == noted and back.input_snr_db == 10 and back.denoised == 1
    assert len(bitstream.pack_header(GOOD)) == GOOD.size == bitstream.HEADER_BYTES  # no notes: the old layout
    assert GOOD.input_snr_db is None


def test_version_4_carries_the_rate_divisor_and_peak_and_is_written_only_with_one_of_them():
    decimated = dataclasses.replace(GOOD, sample_rate=48_000, rate_divisor=3)
    assert decimated.version == 4 and (decimated.coded_rate, decimated.coded_frames) == (16_000, -(-GOOD.frames // 3))
    packed = bitstream.pack_header(decimated)
    assert len(packed) == decimated.size == bitstream.HEADER_BYTES + 5 and packed[4] == 4
    limited = dataclasses.replace(GOOD, peak=16384)
    assert limited.version == 4 and bitstream.read_header(io.BytesIO(bitstream.pack_header(limited))) == limited
    assert bitstream.read_header(io.BytesIO(packed)) == decimated
    noted = dataclasses.replace(decimated, denoised=1)  # notes and a divisor: version 4 holds both
    assert bitstream.read_header(io.BytesIO(bitstream.pack_header(noted))) == noted
    with pytest.raises(FormatError, match="does not divide"):
        bitstream.validate(dataclasses.replace(GOOD, sample_rate=44_100, rate_divisor=8))
    with pytest.raises(FormatError, match="at least 1000 Hz"):
        bitstream.validate(dataclasses.replace(GOOD, sample_rate=4000, rate_divisor=8))


def test_version_5_carries_the_phase_search_and_only_spectral_files_have_one():
    spectral = dataclasses.replace(GOOD, synthesis=9, segment_length=64, overlap=0, width=2)
    assert spectral.version == 2 and spectral.phase_search == bitstream.LEGACY_PHASE
    searched = dataclasses.replace(spectral, phase=1, phase_iterations=4)
    packed = bitstream.pack_header(searched)
    assert searched.version == 5 and packed[4] == 5 and len(packed) == searched.size == bitstream.HEADER_BYTES + 7
    assert bitstream.read_header(io.BytesIO(packed)) == searched
    limited = dataclasses.replace(searched, peak=100, rate_divisor=2, sample_rate=16_000)  # version 4's fields too
    assert bitstream.read_header(io.BytesIO(bitstream.pack_header(limited))) == limited
    with pytest.raises(FormatError, match="waveform file"):
        bitstream.validate(dataclasses.replace(GOOD, phase=1, phase_iterations=4))
    with pytest.raises(FormatError, match="version 5 with phase=0"):
        bitstream.read_header(io.BytesIO(bitstream.pack_header(spectral, version=5)))


@pytest.mark.parametrize(("snr", "stored"), [(-250.0, 0), (-0.6, 99), (14.4, 114), (1e9, 254), (float("inf"), 254)])
def test_snr_estimates_are_stored_in_whole_db_and_clamped(snr, stored):
    assert bitstream.snr_estimate(snr) == stored


@pytest.mark.parametrize("gain", [-128, -9, 1, 127])
def test_version_6_carries_a_signed_gain_the_decoder_multiplies_by(gain):
    spectral = dataclasses.replace(
        GOOD, synthesis=9, segment_length=64, overlap=0, width=2, phase=1, phase_iterations=4
    )
    gained = dataclasses.replace(spectral, gain=gain)
    packed = bitstream.pack_header(gained)
    assert gained.version == 6 and packed[4] == 6 and len(packed) == gained.size == spectral.size + 1
    assert bitstream.read_header(io.BytesIO(packed)) == gained
    assert gained.gain_factor == 2.0 ** (gain / 8)
    assert dataclasses.replace(GOOD, gain=gain).version == 6  # a waveform file may carry one too
    assert spectral.version == 5  # gain 0 keeps the oldest version that holds the rest


def test_version_7_carries_the_phase_slack_and_only_spectral_files_have_it():
    spectral = dataclasses.replace(
        GOOD, synthesis=9, segment_length=64, overlap=0, width=2, phase=1, phase_iterations=8
    )
    slack = dataclasses.replace(spectral, phase_slack=10)
    packed = bitstream.pack_header(slack)
    assert slack.version == 7 and packed[4] == 7 and len(packed) == slack.size == spectral.size + 2  # gain's byte too
    assert bitstream.read_header(io.BytesIO(packed)) == slack and slack.slack == 10 / 64
    assert dataclasses.replace(slack, gain=-3).version == 7  # a gain and slack: version 7 holds both
    with pytest.raises(FormatError, match="waveform file"):
        bitstream.validate(dataclasses.replace(GOOD, phase_slack=10))
    with pytest.raises(FormatError, match="phase_slack=65 is outside"):
        bitstream.validate(dataclasses.replace(slack, phase_slack=65))
    with pytest.raises(FormatError, match="version 7 with phase_slack=0"):
        bitstream.read_header(io.BytesIO(bitstream.pack_header(spectral, version=7)))


def test_version_8_carries_frequency_nodes_whose_output_layer_the_payload_holds():
    spectral = dataclasses.replace(
        GOOD, synthesis=9, segment_length=64, overlap=0, width=2, phase=1, phase_iterations=8, phase_slack=10
    )
    nodes = dataclasses.replace(spectral, frequency_q=16)
    packed = bitstream.pack_header(nodes)
    assert nodes.version == 8 and packed[4] == 8 and len(packed) == spectral.size + 1
    assert bitstream.read_header(io.BytesIO(packed)) == nodes
    assert nodes.rows == spectral.rows == 2 * 257 and nodes.network_rows == 2 * 71  # §1.2's rows'
    assert nodes.shapes[-2:] == [(2 * 71, 2), (2 * 71,)] and nodes.raw_payload_bytes < spectral.raw_payload_bytes
    header, _, codes = bitstream.read(io.BytesIO(make_file(nodes)))
    assert header == dataclasses.replace(nodes, crc_payload=header.crc_payload, payload_bytes=header.payload_bytes)
    assert codes[-2].shape == (1, 2 * 71 * 2)
    with pytest.raises(FormatError, match="waveform file"):
        bitstream.validate(dataclasses.replace(GOOD, frequency_q=16))
    with pytest.raises(FormatError, match="version 8 with frequency_q=0"):
        bitstream.read_header(io.BytesIO(bitstream.pack_header(spectral, version=8)))
