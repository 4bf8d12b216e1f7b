"""The .ddc container: magic, version, header fields and payload layout (no torch).

formats/ddc.md is the normative description; this module is its only field
table, used by both the writer (codec/encoder/pack.py) and every reader.

Layout (little-endian):
    magic     4 bytes  b"\\x89DDC"
    version   u8       1 (waveform synthesis), 2 (spectral synthesis), 3 (either, with encoder notes),
                       4 (either, coded at a lower rate than it plays at), 5 (spectral, another phase search),
                       6 (either, with a gain), 7 (spectral, a phase search with slack), 8 (spectral, with
                       frequency nodes), 9 (either, its input cleaned by a speech denoiser)
    header    fixed fields, see FIELDS, then NOTE_FIELDS from version 3, V4_FIELDS from 4, V5_FIELDS from 5,
              V6_FIELDS from 6, V7_FIELDS from 7, V8_FIELDS from 8 (version 9 has version 8's fields)
    hcrc      u32      CRC-32 of magic + version + header
    payload   payload_bytes bytes of one zstd frame (see unpack_payload)
"""

import dataclasses
import io
import struct
import zlib
from dataclasses import astuple, dataclass, fields
from typing import BinaryIO

import numpy as np
import zstandard

from codec.errors import FormatError, TruncatedError, UnsupportedVersionError
from codec.frequency import Nodes
from codec.layout import input_length, output_rows, params_per_segment, segment_count, tensor_shapes
from codec.spectrum import frame_count

MAGIC = b"\x89DDC"
# Writers pick the oldest version that holds the file (Header.version): 1 for waveform synthesis, 2 for spectral,
# 3 only when the encoder left notes (NOTE_FIELDS), 4 only for a file coded at a lower rate or with a peak
# limit (V4_FIELDS), 5 only for a spectral file whose phase search is not version 2's (V5_FIELDS), 6 only for a
# file with a gain (V6_FIELDS), 7 only for a spectral file whose phase search has slack (V7_FIELDS), 8 only for a
# spectral file with frequency nodes (V8_FIELDS), 9 only for a file whose input a speech denoiser cleaned
# (denoised = SPEECH_DENOISER), so older readers still read everything else.
VERSIONS = (1, 2, 3, 4, 5, 6, 7, 8, 9)
MAX_OUTPUT_SAMPLES = 2**30  # frames x channels: caps what a file can make a decoder allocate
MAX_SEGMENT_WORK = 2**21  # width x segment_length: caps one segment's activations (the encoder uses < 2**20)
MAX_PAYLOAD_BYTES = 2**30  # raw and compressed payload
# Per decoded sample (frames x channels), beyond a fixed allowance, so that a small file cannot declare
# a large payload or a long computation. The reference encoder peaks near 4.2 bytes and 6.7k multiply-adds
# (tests/test_ladder.py checks it stays within both).
PAYLOAD_PER_SAMPLE, PAYLOAD_ALLOWANCE = 8, 2**20  # raw payload bytes
WORK_PER_SAMPLE, WORK_ALLOWANCE = 2**14, 2**30  # decode multiply-adds, see Header.decode_work
MAX_SPECTRAL_SEGMENT = 2**20  # output rows x segment_length in spectral synthesis: caps Griffin-Lim's arrays
MIN_SPECTRAL_SEGMENT = 32  # frames: keeps Griffin-Lim's per-segment overhead small against its work
SPECTRAL_SYNTHESIS = range(8, 13)  # synthesis s > 0: log-magnitude frames of a 2**s-point STFT
MAX_SEED = 2**32 - 1
MAX_LEVELS = 32767  # codes in [-levels, levels] stay within 16 bits after zigzag
ONE_BYTE_LEVELS = 127  # up to here every zigzag code fits in one byte

# (name, struct code, lowest, highest). Bounds are inclusive and checked before anything is allocated.
FIELDS: tuple[tuple[str, str, int, int], ...] = (
    ("sample_rate", "I", 1000, 384_000),
    ("channels", "B", 1, 8),
    ("frames", "Q", 1, MAX_OUTPUT_SAMPLES),
    ("seed", "I", 0, MAX_SEED),
    ("width", "H", 1, 256),
    ("depth", "B", 1, 16),
    ("synthesis", "B", 0, max(SPECTRAL_SYNTHESIS)),
    ("segment_length", "I", 1, 2**20),
    ("overlap", "I", 0, 2**19),
    ("levels", "H", 1, MAX_LEVELS),
    ("crc_payload", "I", 0, 2**32 - 1),
    ("payload_bytes", "I", 1, MAX_PAYLOAD_BYTES),
)
# Version 3 only: what the encoder found, for `ddcodec info`; a decoder reads but never uses them.
NO_SNR = 255  # snr_estimate: not estimated
SNR_OFFSET = 100  # snr_estimate = round(estimated input SNR in dB) + 100, clamped to 0..254
# denoised: which denoiser left the noise out of what the file holds (none, the fit's noise model, or, from version 9,
# a learned speech denoiser run on the input before coding).
NO_DENOISER, NOISE_MODEL, SPEECH_DENOISER = 0, 1, 2
DENOISER_NAMES = ("none", "noise model", "speech")  # by `denoised`, as `ddcodec info` shows it
NOTE_FIELDS: tuple[tuple[str, str, int, int], ...] = (
    ("denoised", "B", NO_DENOISER, SPEECH_DENOISER),
    ("snr_estimate", "B", 0, NO_SNR),
)
# Version 4 only: the networks code the audio at sample_rate / rate_divisor (formats/ddc.md §8), and the
# decoded audio is held within 1 dB of the original's peak (§9; 0: no limit).
MAX_RATE_DIVISOR = 8
MIN_CODED_RATE = 1000  # Hz, as sample_rate's own bound
V4_FIELDS: tuple[tuple[str, str, int, int], ...] = (
    ("rate_divisor", "B", 1, MAX_RATE_DIVISOR),
    ("peak", "H", 0, 65535),  # the original's peak, in units of 2**-15
)
# Version 5 only: how spectral synthesis rebuilds phase (§7): the start (codec.phase.STARTS; 0: seeded random
# phases, 1: phase-gradient heap integration) and the fast Griffin-Lim iterations after it.
MAX_PHASE_ITERATIONS = 64
V5_FIELDS: tuple[tuple[str, str, int, int], ...] = (
    ("phase", "B", 0, 1),
    ("phase_iterations", "B", 0, MAX_PHASE_ITERATIONS),
)
# Version 6 only: the decoded samples are multiplied by 2**(gain / 8) (§10), so the networks code the audio at a
# level of the encoder's choosing (the one signed field).
GAIN_STEPS_PER_OCTAVE = 8
V6_FIELDS: tuple[tuple[str, str, int, int], ...] = (("gain", "b", -128, 127),)
# Version 7 only: the phase search's iterations may move each magnitude by up to phase_slack / 64 natural-log units
# from the decoded one (§7 step 3), so a consistent spectrogram near the network's can be found.
SLACK_STEPS_PER_NEPER = 64
V7_FIELDS: tuple[tuple[str, str, int, int], ...] = (("phase_slack", "B", 0, 64),)
# Version 8 only: spectral networks output log-magnitudes at frequency nodes spaced as frequency_q sets (§11,
# codec/frequency.py), interpolated to the bins; 0: a node at every bin, as in earlier versions.
V8_FIELDS: tuple[tuple[str, str, int, int], ...] = (("frequency_q", "B", 0, 255),)
PhaseSearch = tuple[int, int, int]  # (phase, phase_iterations, phase_slack): how spectral synthesis rebuilds phase
LEGACY_PHASE: PhaseSearch = (0, 32, 0)  # the search of every file before version 5 (and of every waveform file)
# The fields of each version, in file order.
VERSION_FIELDS = {
    1: FIELDS,
    2: FIELDS,
    3: FIELDS + NOTE_FIELDS,
    4: FIELDS + NOTE_FIELDS + V4_FIELDS,
    5: FIELDS + NOTE_FIELDS + V4_FIELDS + V5_FIELDS,
    6: FIELDS + NOTE_FIELDS + V4_FIELDS + V5_FIELDS + V6_FIELDS,
    7: FIELDS + NOTE_FIELDS + V4_FIELDS + V5_FIELDS + V6_FIELDS + V7_FIELDS,
    8: FIELDS + NOTE_FIELDS + V4_FIELDS + V5_FIELDS + V6_FIELDS + V7_FIELDS + V8_FIELDS,
}
VERSION_FIELDS[9] = VERSION_FIELDS[8]  # version 9 only widens what `denoised` may say
_PREFIX = struct.Struct("<4sB")
_LAYOUTS = {v: struct.Struct("<" + "".join(code for _, code, _, _ in f)) for v, f in VERSION_FIELDS.items()}
_CRC = struct.Struct("<I")
HEADER_BYTES = _PREFIX.size + _LAYOUTS[1].size + _CRC.size  # versions 1 and 2
STEP_EXPONENT_OFFSET = 24  # step = 2 ** (e / 8 - 24) for a stored byte e
ZSTD_SMALL_FRAME_BYTES = 9  # a zstd frame holding one raw block: magic 4, frame header 2, block header 3


def header_bytes(version: int) -> int:
    """Bytes before the payload in a file of this version: prefix, the version's header fields, CRC."""
    return _PREFIX.size + _LAYOUTS[version].size + _CRC.size


def code_bytes(levels: int) -> int:
    """Bytes per zigzag code in a payload quantized to `levels`: 1 while every code fits in a byte."""
    return 1 if levels <= ONE_BYTE_LEVELS else 2


@dataclass(frozen=True)
class Header:
    """Every field a decoder needs; see FIELDS for bounds and formats/ddc.md for meaning."""

    sample_rate: int
    channels: int
    frames: int
    seed: int
    width: int
    depth: int
    synthesis: int
    segment_length: int
    overlap: int
    levels: int
    crc_payload: int
    payload_bytes: int
    denoised: int = 0
    snr_estimate: int = NO_SNR
    rate_divisor: int = 1
    peak: int = 0
    phase: int = LEGACY_PHASE[0]
    phase_iterations: int = LEGACY_PHASE[1]
    gain: int = 0
    phase_slack: int = LEGACY_PHASE[2]
    frequency_q: int = 0

    @property
    def has_notes(self) -> bool:
        return (self.denoised, self.snr_estimate) != (0, NO_SNR)

    @property
    def version(self) -> int:
        """The oldest format version that holds this header."""
        if self.denoised == SPEECH_DENOISER:
            return 9
        if self.frequency_q:
            return 8
        if self.phase_slack:
            return 7
        if self.gain:
            return 6
        if self.phase_search != LEGACY_PHASE:
            return 5
        return 4 if self.rate_divisor != 1 or self.peak else 3 if self.has_notes else 1 if self.synthesis == 0 else 2

    @property
    def phase_search(self) -> PhaseSearch:
        return self.phase, self.phase_iterations, self.phase_slack

    @property
    def size(self) -> int:
        """Bytes before the payload: prefix, header fields and header CRC."""
        return header_bytes(self.version)

    @property
    def gain_factor(self) -> float:
        """What the decoder multiplies the synthesized samples by (§10): 2**(gain / 8)."""
        return 2.0 ** (self.gain / GAIN_STEPS_PER_OCTAVE)

    @property
    def slack(self) -> float:
        """How far (natural-log units) the phase search may move a magnitude from the decoded one (§7 step 3)."""
        return self.phase_slack / SLACK_STEPS_PER_NEPER

    @property
    def coded_rate(self) -> int:
        """Hz of the audio the networks code: sample_rate / rate_divisor."""
        return self.sample_rate // self.rate_divisor

    @property
    def coded_frames(self) -> int:
        """Samples per channel at the coded rate, ceil(frames / rate_divisor); the decoder interpolates
        them back to `frames` (§8)."""
        return -(-self.frames // self.rate_divisor)

    @property
    def input_snr_db(self) -> int | None:
        """The encoder's estimate of the input's SNR, whole dB, or None."""
        return None if self.snr_estimate == NO_SNR else self.snr_estimate - SNR_OFFSET

    @property
    def n_fft(self) -> int:
        """STFT size of spectral synthesis; 0 for waveform synthesis."""
        return 1 << self.synthesis if self.synthesis else 0

    @property
    def rows(self) -> int:
        """Output rows of each network: channels of samples, or channels x (N/2 + 1) log-magnitude bins."""
        return output_rows(self.channels, self.synthesis)

    @property
    def nodes(self) -> Nodes:
        """The frequency nodes a spectral network outputs (§11), each channel's N/2 + 1 bins for frequency_q 0."""
        return Nodes(self.channels, self.rows // self.channels, self.frequency_q)

    @property
    def network_rows(self) -> int:
        """Rows of each network's output layer: channels x K frequency nodes (§11), `rows` for frequency_q 0."""
        return self.nodes.rows

    @property
    def positions(self) -> int:
        """Length of the axis the segments tile: samples, or STFT frames."""
        return frame_count(self.coded_frames, self.n_fft) if self.synthesis else self.coded_frames

    @property
    def segments(self) -> int:
        return segment_count(self.positions, self.segment_length, self.overlap)

    @property
    def shapes(self) -> list[tuple[int, ...]]:
        return tensor_shapes(self.width, self.depth, self.network_rows)

    @property
    def code_bytes(self) -> int:
        return code_bytes(self.levels)

    @property
    def raw_payload_bytes(self) -> int:
        """Exact size of the decompressed payload."""
        weights = params_per_segment(self.width, self.depth, self.network_rows)
        return self.segments * (len(self.shapes) + weights * self.code_bytes)

    @property
    def samples(self) -> int:
        """Decoded samples, all channels."""
        return self.frames * self.channels

    @property
    def decode_work(self) -> int:
        """Multiply-adds of the forward passes, rounded up: S * L * k * (2k + network_rows)."""
        return self.segments * self.segment_length * self.width * (2 * self.width + self.network_rows)

    @property
    def duration(self) -> float:
        return self.frames / self.sample_rate


assert [f.name for f in fields(Header)] == [name for name, *_ in VERSION_FIELDS[max(VERSIONS)]]


def snr_estimate(snr_db: float) -> int:
    """The snr_estimate byte for an estimated input SNR in dB (an infinite SNR is stored as the top value)."""
    return int(min(max(round(min(snr_db, 1e6)) + SNR_OFFSET, 0), NO_SNR - 1))


def validate(header: Header) -> None:
    """Raise FormatError naming the first field that is out of bounds or inconsistent."""
    for (name, _, low, high), value in zip(VERSION_FIELDS[max(VERSIONS)], astuple(header), strict=True):
        if not low <= value <= high:
            raise FormatError(f"header field {name}={value} is outside [{low}, {high}]")
    if header.sample_rate % header.rate_divisor or header.coded_rate < MIN_CODED_RATE:
        raise FormatError(
            f"rate_divisor={header.rate_divisor} does not divide sample_rate={header.sample_rate} "
            f"into a whole rate of at least {MIN_CODED_RATE} Hz"
        )
    if header.synthesis and header.synthesis not in SPECTRAL_SYNTHESIS:
        raise FormatError(f"synthesis={header.synthesis} is not defined (0, or 8 to 12)")
    if not header.synthesis and header.phase_search != LEGACY_PHASE:
        raise FormatError("a phase search is set in a waveform file (synthesis=0), which has no phase")
    if not header.synthesis and header.frequency_q:
        raise FormatError("frequency_q is set in a waveform file (synthesis=0), which has no frequency axis")
    if header.samples > MAX_OUTPUT_SAMPLES:
        raise FormatError(f"frames x channels = {header.samples} exceeds {MAX_OUTPUT_SAMPLES}")
    if header.segment_length % (1 << (header.depth - 1)):
        raise FormatError(f"segment_length={header.segment_length} is not a multiple of 2**(depth-1)")
    if input_length(header.segment_length, header.depth) < 1:
        raise FormatError("segment_length is shorter than the input noise")
    if 2 * header.overlap > header.segment_length:
        raise FormatError(f"overlap={header.overlap} exceeds half of segment_length={header.segment_length}")
    if header.width * header.segment_length > MAX_SEGMENT_WORK:
        raise FormatError(f"width x segment_length exceeds {MAX_SEGMENT_WORK}")
    if header.raw_payload_bytes > MAX_PAYLOAD_BYTES:
        raise FormatError(f"declared weights need {header.raw_payload_bytes} bytes, more than {MAX_PAYLOAD_BYTES}")
    if header.raw_payload_bytes > PAYLOAD_PER_SAMPLE * header.samples + PAYLOAD_ALLOWANCE:
        raise FormatError(f"declared weights need {header.raw_payload_bytes} bytes for {header.samples} samples")
    if header.decode_work > WORK_PER_SAMPLE * header.samples + WORK_ALLOWANCE:
        raise FormatError(f"declared network needs {header.decode_work} multiply-adds for {header.samples} samples")
    if header.synthesis and header.rows * header.segment_length > MAX_SPECTRAL_SEGMENT:
        raise FormatError(f"output rows x segment_length exceeds {MAX_SPECTRAL_SEGMENT}")
    if header.synthesis and header.segment_length < MIN_SPECTRAL_SEGMENT:
        raise FormatError(f"segment_length={header.segment_length} is under {MIN_SPECTRAL_SEGMENT} frames")


def pack_header(header: Header, version: int | None = None) -> bytes:
    """Prefix, header and header CRC as bytes, unvalidated (tests use it to build hostile files).

    The version byte is header.version unless given, and the fields are those of that version."""
    version = header.version if version is None else version
    layout = _LAYOUTS.get(version, _LAYOUTS[1])
    head = _PREFIX.pack(MAGIC, version) + layout.pack(*astuple(header)[: len(VERSION_FIELDS.get(version, FIELDS))])
    return head + _CRC.pack(zlib.crc32(head))


def rewrite_header(data: bytes, **changes: int) -> bytes:
    """A whole file with header fields changed and its header CRC resealed, the payload as it was; unvalidated.
    The version follows from the new fields (benchmarks and tests decode the same weights another way)."""
    header = read_header(io.BytesIO(data))
    return pack_header(dataclasses.replace(header, **changes)) + data[header.size :]


def write(header: Header, payload: bytes, fileobj: BinaryIO) -> None:
    """Validate the header and write a complete .ddc stream."""
    validate(header)
    fileobj.write(pack_header(header) + payload)


def read_exact(fileobj: BinaryIO, size: int, what: str) -> bytes:
    """Read exactly `size` bytes in bounded chunks, or raise TruncatedError naming `what`."""
    chunks, left = [], size
    while left > 0:
        chunk = fileobj.read(min(left, 1 << 20))
        if not chunk:
            raise TruncatedError(f"file ends inside the {what} ({size - left} of {size} bytes)")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read_header(fileobj: BinaryIO) -> Header:
    """Read and validate the prefix and header, leaving the stream at the payload."""
    prefix = read_exact(fileobj, _PREFIX.size, "magic and version")
    magic, version = _PREFIX.unpack(prefix)
    if magic != MAGIC:
        raise FormatError(f"not a .ddc file (magic {magic!r}, expected {MAGIC!r})")
    if version not in VERSIONS:
        raise UnsupportedVersionError(f"format version {version} is not supported (this decoder reads {VERSIONS})")
    layout = _LAYOUTS[version]
    body = read_exact(fileobj, layout.size, "header")
    (crc,) = _CRC.unpack(read_exact(fileobj, _CRC.size, "header CRC"))
    if zlib.crc32(prefix + body) != crc:
        raise FormatError("header CRC mismatch: the header is corrupt")
    header = Header(*layout.unpack(body))
    if header.denoised == SPEECH_DENOISER and version < 9:  # rule 3: the value is version 9's alone
        raise FormatError(f"header field denoised={header.denoised} is outside [0, {NOISE_MODEL}] in version {version}")
    validate(header)
    if version == 3 and not header.has_notes:
        raise FormatError("version 3 without notes (denoised=0 and no snr_estimate): it must be version 1 or 2")
    if version == 4 and header.rate_divisor == 1 and header.peak == 0:
        raise FormatError("version 4 with rate_divisor=1 and no peak: it must be version 1, 2 or 3")
    if version == 5 and header.phase_search == LEGACY_PHASE:  # version 5 has no slack byte: it is 0
        raise FormatError("version 5 with phase=0 and phase_iterations=32: it must be an earlier version")
    if version == 6 and header.gain == 0:
        raise FormatError("version 6 with gain=0: it must be an earlier version")
    if version == 7 and header.phase_slack == 0:
        raise FormatError("version 7 with phase_slack=0: it must be an earlier version")
    if version == 8 and header.frequency_q == 0:
        raise FormatError("version 8 with frequency_q=0: it must be an earlier version")
    if version == 9 and header.denoised != SPEECH_DENOISER:
        raise FormatError(f"version 9 with denoised={header.denoised}: it must be an earlier version")
    if version != header.version:
        raise FormatError(f"version {version} does not match synthesis={header.synthesis} (version {header.version})")
    return header


def read(fileobj: BinaryIO) -> tuple[Header, np.ndarray, list[np.ndarray]]:
    """Read a whole .ddc stream: the validated header and its checked payload, split as by split_payload."""
    header = read_header(fileobj)
    compressed = read_exact(fileobj, header.payload_bytes, "payload")
    if fileobj.read(1):
        raise FormatError("trailing bytes after the payload")
    if zlib.crc32(compressed) != header.crc_payload:
        raise FormatError("payload CRC mismatch: the weights are corrupt")
    expected = header.raw_payload_bytes
    try:
        with zstandard.ZstdDecompressor().stream_reader(compressed) as reader:
            raw = reader.read(expected + 1)
    except zstandard.ZstdError as exc:
        raise FormatError(f"payload is not a valid zstd frame: {exc}") from None
    if len(raw) != expected:
        raise FormatError(f"payload decompresses to {len(raw)} bytes, header implies {expected}")
    exponents, codes = split_payload(header, raw)
    for index, c in enumerate(codes):
        if c.size and int(c.max()) > 2 * header.levels:  # zigzag of +-levels is at most 2 * levels
            raise FormatError(f"tensor {index} has a code beyond levels={header.levels}")
    return header, exponents, codes


def compress_payload(raw: bytes) -> bytes:
    """zstd-compress a raw payload as the encoder writes it (level is not part of the format)."""
    params = zstandard.ZstdCompressionParameters.from_level(19, write_checksum=False, write_content_size=False)
    return zstandard.ZstdCompressor(compression_params=params).compress(raw)


def split_payload(header: Header, raw: bytes) -> tuple[np.ndarray, list[np.ndarray]]:
    """Raw payload -> (step exponents (S, T) uint8, zigzag codes per tensor (S, numel)).

    Payload order: all step exponents segment-major, then for each tensor in
    bitstream order its codes for every segment, low-byte plane first, then the
    high-byte plane when code_bytes is 2. One-byte codes are read-only uint8 views
    of `raw` (no copy); two-byte codes are uint16 arrays.
    """
    segments, shapes, width = header.segments, header.shapes, header.code_bytes
    exponents = np.frombuffer(raw, np.uint8, segments * len(shapes)).reshape(segments, len(shapes))
    offset, codes = exponents.size, []
    for shape in shapes:
        count = segments * int(np.prod(shape))
        planes = np.frombuffer(raw, np.uint8, count * width, offset).reshape(width, count)
        offset += count * width
        value = planes[0] if width == 1 else planes[0].astype(np.uint16) | (planes[1].astype(np.uint16) << 8)
        codes.append(value.reshape(segments, -1))
    return exponents, codes


def join_payload(exponents: np.ndarray, codes: list[np.ndarray], code_bytes: int) -> bytes:
    """Inverse of split_payload: (S, T) uint8 exponents and per-tensor (S, numel) zigzag codes -> raw bytes."""
    parts = [np.ascontiguousarray(exponents, np.uint8).tobytes()]
    for c in codes:
        flat = c.astype(np.uint16).ravel()
        parts.append((flat & 0xFF).astype(np.uint8).tobytes())
        if code_bytes == 2:
            parts.append((flat >> 8).astype(np.uint8).tobytes())
    return b"".join(parts)


def zigzag_decode(codes: np.ndarray) -> np.ndarray:
    """0, 1, 2, 3, 4 ... -> 0, -1, 1, -2, 2 ..."""
    c = codes.astype(np.int32)
    return (c >> 1) ^ -(c & 1)


def zigzag_encode(values: np.ndarray) -> np.ndarray:
    """Inverse of zigzag_decode for |values| <= MAX_LEVELS."""
    v = values.astype(np.int32)
    return ((v << 1) ^ (v >> 31)).astype(np.uint16)


def step_size(exponents: np.ndarray) -> np.ndarray:
    """Quantizer step for stored exponent bytes: 2 ** (e / 8 - 24)."""
    return np.exp2(exponents.astype(np.float64) / 8.0 - STEP_EXPONENT_OFFSET)
