"""Fuzz the decoder with hostile .ddc files; every case must decode cleanly or raise FormatError.

    python -m bench.fuzz --cases 100000 --out bench/out/fuzz.md
    python -m bench.fuzz --worst 65536 1048576 16777216 --out bench/out/fuzz_worst.md

Blind mutations die at the CRCs, so most mutators *reseal* what they break:
they recompute the header CRC, or recompress the payload and recompute its CRC
and size, so the damage reaches the field checks, the zstd frame, the code
checks and the forward pass. Case i of a run is rebuilt from (seed, i) alone.
An outcome is "decoded" (audio of the declared shape, all finite), "rejected"
(a FormatError) or a failure (anything else, or a broken promise), which is
listed with its case number. tests/test_hostile.py runs a short slice of it.
"""

import argparse
import dataclasses
import io
import itertools
import struct
import time
import tracemalloc
import zlib
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np

import codec
from codec import bitstream
from codec.bitstream import VERSION_FIELDS, VERSIONS, Header
from codec.layout import output_rows

VECTORS = Path(__file__).parent.parent / "formats" / "vectors"
# Each struct code's range: the signed byte (version 6's gain) and the unsigned integers of every other field.
STRUCT_RANGE = {"b": (-(2**7), 2**7 - 1), **{code: (0, 2 ** (8 * struct.calcsize(code)) - 1) for code in "BHIQ"}}
MEMORY_PER_SAMPLE, MEMORY_ALLOWANCE = 32, 128 * 2**20  # the promise checked on every decoded case
Mutator = Callable[[np.random.Generator, bytes], bytes]


def seeds() -> list[bytes]:
    """The files mutations start from: the valid conformance vectors and a version-9 file with every section set."""
    vectors = [p.read_bytes() for p in sorted(VECTORS.glob("*.ddc")) if not p.name.startswith("bad_")]
    return [*vectors, every_section((VECTORS / "speech_spectral_nodes_16k.ddc").read_bytes())]


def every_section(data: bytes) -> bytes:
    """A version-9 file from `data` (a version-8 file) with each field after FIELDS away from its default.

    No vector sets the notes and a rate divisor beside frequency nodes, so this declares them: doubling the
    sample rate and frames with rate_divisor 2 leaves the coded audio, and so the payload, as it was.
    """
    header, _ = parse(data)
    full = dataclasses.replace(
        header,
        sample_rate=2 * header.sample_rate,
        frames=2 * header.frames,
        denoised=bitstream.SPEECH_DENOISER,
        snr_estimate=bitstream.snr_estimate(14.0),
        rate_divisor=2,
    )
    return seal(full, compressed=data[header.size :])


def seal(header: Header, raw: bytes | None = None, compressed: bytes | None = None) -> bytes:
    """A file around `header` with valid CRCs and size, from a raw payload or a compressed one."""
    payload = bitstream.compress_payload(raw) if compressed is None else compressed
    fixed = dataclasses.replace(header, crc_payload=zlib.crc32(payload), payload_bytes=max(1, len(payload)))
    return bitstream.pack_header(fixed) + payload


def parse(data: bytes) -> tuple[Header, bytes]:
    """A valid file's header and raw (decompressed) payload."""
    header, exponents, codes = bitstream.read(io.BytesIO(data))
    return header, bitstream.join_payload(exponents, codes, header.code_bytes)


def flip_bits(rng: np.random.Generator, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(rng.integers(1, 4)):
        out[rng.integers(len(out))] ^= 1 << rng.integers(8)
    return bytes(out)


def truncate(rng: np.random.Generator, data: bytes) -> bytes:
    return data[: rng.integers(len(data))]


def append(rng: np.random.Generator, data: bytes) -> bytes:
    return data + rng.bytes(int(rng.integers(1, 64)))


def random_bytes(rng: np.random.Generator, data: bytes) -> bytes:
    body = rng.bytes(int(rng.integers(0, 2048)))
    return data[:5] + body if rng.random() < 0.5 else body  # half keep a valid magic and version


def field_value(rng: np.random.Generator, code: str, low: int, high: int) -> int:
    """An interesting value for a field: its bounds and their neighbours, 0, the type's max, or random."""
    bottom, top = STRUCT_RANGE[code]
    anything = int(rng.integers(bottom, min(top, 2**62) + 1))
    picks = [0, 1, low, high, max(low - 1, bottom), min(high + 1, top), bottom, top, anything]
    return picks[rng.integers(len(picks))]


def reseal_fields(rng: np.random.Generator, data: bytes) -> bytes:
    """Change 1-3 header fields, keep the payload as it was, fix the header CRC."""
    header, _ = parse(data)
    changes = {}
    every = VERSION_FIELDS[max(VERSIONS)]  # all, rate_divisor and peak too: pack_header keeps its version's
    for index in rng.choice(len(every), size=int(rng.integers(1, 4)), replace=False):
        name, code, low, high = every[index]
        changes[name] = field_value(rng, code, low, high)
    return bitstream.pack_header(dataclasses.replace(header, **changes)) + data[header.size :]


def reseal_payload(rng: np.random.Generator, data: bytes) -> bytes:
    """Overwrite raw payload bytes (steps, codes) with extremes or noise, recompress, fix CRC and size."""
    header, raw = parse(data)
    out = np.frombuffer(raw, np.uint8).copy()
    count = int(rng.integers(1, max(2, len(out) // 4)))
    where = rng.integers(0, len(out), size=count)
    extremes = rng.random() < 0.5
    out[where] = rng.choice([0, 1, 127, 128, 254, 255], size=count) if extremes else rng.integers(0, 256, size=count)
    if rng.random() < 0.2:  # or a wrong raw size
        out = out[: rng.integers(len(out))] if rng.random() < 0.5 else np.concatenate([out, out[:7]])
    return seal(header, out.tobytes())


def reseal_frame(rng: np.random.Generator, data: bytes) -> bytes:
    """Damage the zstd frame itself, then fix the payload CRC and size around it."""
    header, _ = parse(data)
    frame = bytearray(flip_bits(rng, data[header.size :]))
    if rng.random() < 0.3:
        frame = frame[: rng.integers(1, len(frame))]
    return seal(header, compressed=bytes(frame))


def new_network(rng: np.random.Generator, data: bytes) -> bytes:
    """A fresh small header that passes every check, with a payload of exactly R random bytes.

    Codes beyond `levels` are rejected; the rest, even all steps at 2**7.875, must decode to finite audio.
    """
    header, _ = parse(data)
    depth = int(rng.integers(1, 8))
    granule = 1 << (depth - 1)
    length = granule * int(rng.integers(1, max(2, 4096 // granule)))
    spectral = rng.random() < 0.5  # half of them Griffin-Lim files, mostly small enough to pass rule 7b
    shape = dict(
        synthesis=int(rng.integers(8, 13)) if spectral else 0,
        channels=int(rng.integers(1, 3 if spectral else 9)),
        frames=int(rng.integers(1, 3 * length + 2)),
        width=int(rng.integers(1, 33)),
        depth=depth,
        segment_length=length,
        overlap=int(rng.integers(0, length // 2 + 1)),
        levels=int(rng.choice([1, 2, 127, 128, 32767])),
        seed=int(rng.integers(0, 2**32)),
    )
    fresh = dataclasses.replace(header, **shape)
    try:
        bitstream.validate(fresh)
    except codec.FormatError:
        return seal(fresh, b"\0")  # still a case: the reader must reject it the same way
    raw = np.frombuffer(rng.bytes(fresh.raw_payload_bytes), np.uint8).copy()
    if rng.random() < 0.7 and fresh.levels < 127:  # mostly codes within levels, so the forward pass runs
        raw[fresh.segments * len(fresh.shapes) :] %= 2 * fresh.levels + 1
    return seal(fresh, raw.tobytes())


MUTATORS: dict[str, Mutator] = {
    "flip_bits": flip_bits,
    "truncate": truncate,
    "append": append,
    "random_bytes": random_bytes,
    "reseal_fields": reseal_fields,
    "reseal_payload": reseal_payload,
    "reseal_frame": reseal_frame,
    "new_network": new_network,
}


def make_case(seed: int, index: int, bases: list[bytes]) -> tuple[str, bytes]:
    """Case `index` of run `seed`: a mutator name and the hostile bytes it made."""
    rng = np.random.default_rng([seed, index])
    name = list(MUTATORS)[index % len(MUTATORS)]
    return name, MUTATORS[name](rng, bases[rng.integers(len(bases))])


def judge(data: bytes) -> str:
    """Decode one hostile file; return 'decoded' or 'rejected', or raise AssertionError on a broken promise."""
    try:
        audio, _ = codec.decode(data)
    except codec.FormatError:
        return "rejected"
    header = codec.read_header(io.BytesIO(data))
    assert audio.shape == (header.frames, header.channels) and audio.dtype == np.float32, "wrong shape or type"
    assert np.isfinite(audio).all(), "non-finite samples"
    return "decoded"


def run_cases(seed: int, cases: int, start: int = 0, memory: bool = False) -> dict:
    """Judge cases start..start+cases-1; return counts, failures, slowest case and peak traced memory."""
    bases = seeds()
    counts: Counter[str] = Counter()
    failures: list[str] = []
    slowest, peak_ratio = (0.0, -1), 0.0
    for index in range(start, start + cases):
        name, data = make_case(seed, index, bases)
        if memory:
            tracemalloc.start()
        began = time.perf_counter()
        try:
            outcome = judge(data)
        except Exception as exc:  # any other exception is exactly what the fuzzer looks for
            outcome = "failed"
            failures.append(f"case {index} ({name}): {type(exc).__name__}: {exc}")
        elapsed = time.perf_counter() - began
        if memory:
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            if outcome == "decoded":
                samples = codec.read_header(io.BytesIO(data)).samples
                peak_ratio = max(peak_ratio, peak / (MEMORY_PER_SAMPLE * samples + MEMORY_ALLOWANCE))
        slowest = max(slowest, (elapsed, index))
        counts[f"{name}: {outcome}"] += 1
    return {"counts": counts, "failures": failures, "slowest": slowest, "peak_ratio": peak_ratio}


HEAVIEST: dict[str, Callable[[Header], int]] = {  # what a hostile header can maximize, for --worst
    "raw payload": lambda h: h.raw_payload_bytes,
    "work": lambda h: h.decode_work,
    "Griffin-Lim": lambda h: h.synthesis and h.segments * h.rows * h.segment_length * h.synthesis,
}


def heaviest(samples: int, key: Callable[[Header], int]) -> Header:
    """The valid header for about `samples` decoded samples that maximizes key (raw payload or work)."""
    best = None
    for channels, synthesis in itertools.product((1, 8), (0, 8, 12)):
        frames = max(1, samples // channels)
        rows = output_rows(channels, synthesis)
        for depth in (1, 2, 4, 6, 9, 12, 16):
            for width in (1, 2, 4, 8, 16, 32, 64, 128, 256):
                spectral = {32, 2**20 // rows} if synthesis else set()
                for length in sorted({1 << (depth - 1), 1 << 12, 1 << 16, 2**21 // width} | spectral):
                    if length % (1 << (depth - 1)):
                        continue
                    h = Header(8000, channels, frames, 1, width, depth, synthesis, length, 0, 127, 0, 1)
                    try:
                        bitstream.validate(h)
                    except codec.FormatError:
                        continue
                    if best is None or key(h) > key(best):
                        best = h
    assert best is not None
    return best


def worst_cases(sizes: list[int]) -> list[str]:
    """Decode the heaviest files the rules allow at each declared size; report time and peak memory."""
    rows = ["| declared samples | heaviest in | k, d, L, C, S, s | raw bytes | multiply-adds | decode s | peak MiB |"]
    rows.append("|---:|---|---|---:|---:|---:|---:|")
    rng = np.random.default_rng(0)
    for samples in sizes:
        for what, key in HEAVIEST.items():
            h = heaviest(samples, key)
            raw = np.frombuffer(rng.bytes(h.raw_payload_bytes), np.uint8) % 255  # codes within levels 127
            data = seal(h, raw.tobytes())
            tracemalloc.start()
            began = time.perf_counter()
            judge(data)
            took = time.perf_counter() - began
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            shape = f"{h.width}, {h.depth}, {h.segment_length}, {h.channels}, {h.segments}, {h.synthesis}"
            rows.append(
                f"| {h.samples} | {what} | {shape} | {h.raw_payload_bytes} | {h.decode_work:.2e} | {took:.2f} | "
                f"{peak / 2**20:.0f} |"
            )
            print(rows[-1], flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--memory", action="store_true", help="trace peak memory of each case (slower)")
    parser.add_argument("--worst", type=int, nargs="*", help="instead, decode the heaviest valid files of these sizes")
    parser.add_argument("--out", type=Path, default=Path("bench/out/fuzz.md"))
    args = parser.parse_args()
    if args.worst:
        sizes = " ".join(map(str, args.worst))
        title = [
            "# Heaviest valid files: decode time and peak traced memory",
            "",
            f"Command: `python -m bench.fuzz --worst {sizes}`",
            "",
        ]
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text("\n".join(title + worst_cases(args.worst)) + "\n")
        return
    began = time.perf_counter()
    result = run_cases(args.seed, args.cases, memory=args.memory)
    took = time.perf_counter() - began
    lines = [
        f"# Decoder fuzz run: {args.cases} cases, seed {args.seed}, {took:.0f} s",
        "",
        f"Command: `python -m bench.fuzz --cases {args.cases} --seed {args.seed}{' --memory' if args.memory else ''}`",
        "",
        "| mutator: outcome | cases |",
        "|---|---:|",
        *(f"| {key} | {value} |" for key, value in sorted(result["counts"].items())),
        "",
        f"Slowest case: {result['slowest'][0] * 1000:.1f} ms (case {result['slowest'][1]}).",
    ]
    if args.memory:
        lines.append(
            f"Peak traced memory of decoded cases, as a fraction of {MEMORY_PER_SAMPLE} bytes per sample "
            f"+ {MEMORY_ALLOWANCE >> 20} MiB: at most {result['peak_ratio']:.3f}."
        )
    lines += ["", f"Failures: {len(result['failures'])}", *(f"- {f}" for f in result["failures"][:50])]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
