"""Hostile .ddc files: whatever the bytes, a reader ends in FormatError, in memory bounded by the declared output."""

import io
import tracemalloc

import pytest
from conftest import VECTORS
from hypothesis import given, settings
from hypothesis import strategies as st
from test_cli import one_line_error, run

import codec
from bench import fuzz
from codec import bitstream
from codec.bitstream import FIELDS, VERSION_FIELDS, Header


@pytest.mark.parametrize(
    "name", ["digit_mono_8k", "tone_3ch_11k", "trumpet_stereo_44k", "digit_spectral_8k", "tone_spectral_3ch_11k"]
)
def test_every_truncation_of_a_real_file_is_a_truncated_error(name):
    data = (VECTORS / f"{name}.ddc").read_bytes()
    for cut in range(len(data)):
        with pytest.raises(codec.TruncatedError):
            codec.decode(data[:cut])


def test_every_single_bit_flip_of_a_vector_is_rejected():
    data = (VECTORS / "digit_mono_8k.ddc").read_bytes()
    for bit in range(8 * len(data)):
        flipped = bytearray(data)
        flipped[bit // 8] ^= 1 << (bit % 8)
        with pytest.raises(codec.FormatError):
            codec.decode(bytes(flipped))


def test_the_fuzzer_starts_from_every_vector_and_a_version_9_file_with_every_section_set():
    bases = fuzz.seeds()
    assert len(bases) == len([p for p in VECTORS.glob("*.ddc") if not p.name.startswith("bad_")]) + 1
    header = codec.read_header(io.BytesIO(bases[-1]))
    plain = Header(*[0] * len(FIELDS))  # every later field at its default
    assert header.version == max(bitstream.VERSIONS)
    later = [name for name, *_ in VERSION_FIELDS[header.version][len(FIELDS) :]]
    assert all(getattr(header, name) != getattr(plain, name) for name in later)
    assert fuzz.judge(bases[-1]) == "decoded"


def test_a_slice_of_the_fuzzer_finds_nothing_and_reaches_the_forward_pass():
    result = fuzz.run_cases(seed=2026, cases=800, memory=True)
    assert result["failures"] == []
    assert result["counts"]["new_network: decoded"] > 20 and result["counts"]["reseal_payload: decoded"] > 0
    assert result["peak_ratio"] <= 1.0


@settings(max_examples=400, deadline=None)
@given(st.tuples(*(st.integers(*fuzz.STRUCT_RANGE[code]) for _, code, _, _ in FIELDS)), st.binary(max_size=64))
def test_any_header_values_under_a_valid_crc_end_in_format_error(values, payload):
    data = bitstream.pack_header(Header(*values)) + payload
    with pytest.raises(codec.FormatError):
        codec.decode(data)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300), st.booleans())
def test_random_bytes_end_in_format_error(body, keep_magic):
    with pytest.raises(codec.FormatError):
        codec.decode((bitstream.MAGIC + bytes([1]) if keep_magic else b"") + body)


@pytest.mark.parametrize("samples", [2**16, 2**20])
@pytest.mark.parametrize("heaviest_in", ["raw payload", "work", "Griffin-Lim"])
def test_the_heaviest_valid_files_decode_in_memory_bounded_by_their_size(samples, heaviest_in):
    header = fuzz.heaviest(samples, fuzz.HEAVIEST[heaviest_in])
    data = fuzz.seal(header, bytes(header.raw_payload_bytes))
    tracemalloc.start()
    try:
        assert fuzz.judge(data) == "decoded"
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak <= fuzz.MEMORY_PER_SAMPLE * header.samples + fuzz.MEMORY_ALLOWANCE


def rejected_cases(per_mutator: int) -> list[tuple[str, bytes, str]]:
    """The first hostile files of each mutator that a reader rejects, with the message it gives."""
    found: list[tuple[str, bytes, str]] = []
    bases, index = fuzz.seeds(), 0
    while len(found) < per_mutator * len(fuzz.MUTATORS):
        name, data = fuzz.make_case(7, index, bases)
        index += 1
        if sum(case[0] == name for case in found) < per_mutator:
            try:
                codec.decode(data)
            except codec.FormatError as exc:
                found.append((name, data, str(exc)))
    return found


@pytest.mark.parametrize(("name", "data", "message"), rejected_cases(2), ids=lambda v: v if isinstance(v, str) else "")
def test_cli_rejects_hostile_files_in_one_line_without_output(tmp_path, name, data, message):
    source = tmp_path / "in.ddc"
    source.write_bytes(data)
    one_line_error(run("info", source), message)
    one_line_error(run("decode", source, tmp_path / "out.wav"), message)
    assert [p.name for p in tmp_path.iterdir()] == ["in.ddc"]
