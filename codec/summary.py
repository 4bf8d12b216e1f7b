"""What a header says about its file, as one flat dict (`ddcodec info`, the encoder's summary line)."""

import dataclasses

from codec import modes
from codec.bitstream import Header


def describe(header: Header) -> dict[str, object]:
    """Header fields plus the figures derived from them: mode, segments, duration, size, bitrate, ratio."""
    size = header.size + header.payload_bytes
    return {
        "format_version": header.version,
        **dataclasses.asdict(header),
        "mode": modes.for_header(header).describe(header),
        "coded_rate_hz": header.coded_rate,
        "segments": header.segments,
        "denoised": bool(header.denoised),
        "estimated_input_snr_db": header.input_snr_db,
        "duration_s": round(header.duration, 6),
        "file_bytes": size,
        "bitrate_kbps": round(size * 8 / header.duration / 1000, 3),
        "compression_ratio_vs_pcm16": round(header.samples * 2 / size, 2),
    }
