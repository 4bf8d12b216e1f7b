"""What a header says about its file, as one flat dict (`ddcodec info --json`, the encoder's summary line; `readable`
for `ddcodec info`), and where its bytes go (`ddcodec info --bytes`)."""

import dataclasses

import numpy as np

from codec import modes
from codec.bitstream import DENOISER_NAMES, Header, compress_payload, join_payload


def describe(header: Header) -> dict[str, object]:
    """Header fields plus the figures derived from them: mode, segments, duration, size, bitrate, ratio."""
    size = header.size + header.payload_bytes
    return {
        "format_version": header.version,
        **dataclasses.asdict(header),
        "mode": modes.for_header(header).describe(header),
        "coded_rate_hz": header.coded_rate,
        "gain_db": round(20 * np.log10(header.gain_factor), 2),  # what the decoder scales the synthesis by (§10)
        "segments": header.segments,
        "frequency_nodes": header.nodes.count if header.frequency_q else None,  # per channel (§11); None: every bin
        "denoiser": DENOISER_NAMES[header.denoised],  # which one left the noise out (§1.3)
        "estimated_input_snr_db": header.input_snr_db,
        "duration_s": round(header.duration, 6),
        "file_bytes": size,
        "bitrate_kbps": round(size * 8 / header.duration / 1000, 3),
        "compression_ratio_vs_pcm16": round(header.samples * 2 / size, 2),
    }


PHASE_FIELDS = ("phase", "phase_iterations", "phase_slack")


def readable(header: Header) -> dict[str, object]:
    """describe() for people (`ddcodec info` without --json): the phase search only where the synthesis rebuilds
    phase (spectral: waveform files carry version 2's fields unused), and the denoiser and the SNR estimate as what
    they mean, without their stored codes (snr_estimate 255: not estimated)."""
    unused = {"denoised", "snr_estimate", *(PHASE_FIELDS if not header.n_fft else ())}
    shown = {key: value for key, value in describe(header).items() if key not in unused}
    if header.input_snr_db is None:
        shown["estimated_input_snr_db"] = "not estimated"
    return shown


def where_bytes_go(header: Header, exponents: np.ndarray, codes: list[np.ndarray]) -> dict[str, object]:
    """Where a file's bytes go: the header, then per tensor (all segments) its codes' raw size and what zstd
    makes of them alone, and the step exponents. The payload is one zstd frame over all of them, so the parts
    compressed alone sum to more than the payload; their shares say which tensors cost the most."""
    names = [f"{kind}{layer}" for layer in range(header.depth) for kind in ("W", "g", "b")] + ["W_out", "b_out"]
    parts = {"step_exponents": exponents.tobytes()}
    for name, c in zip(names, codes, strict=True):
        parts[name] = join_payload(np.zeros((0, 0), np.uint8), [c], header.code_bytes)
    tensors = {
        name: {"raw_bytes": len(raw), "zstd_alone_bytes": len(compress_payload(raw)) if raw else 0}
        for name, raw in parts.items()
    }
    return {
        "header_bytes": header.size,
        "payload_bytes": header.payload_bytes,
        "raw_payload_bytes": header.raw_payload_bytes,
        "code_bytes_per_weight": header.code_bytes,
        "entropy_coder": "zstd (one frame; no stored tables)",
        "tensors": tensors,
    }
