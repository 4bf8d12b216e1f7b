"""Write the conformance vectors:

    python formats/vectors/generate.py              # new vectors only
    python formats/vectors/generate.py --expected   # also rewrite every NAME.wav from the decoder

Valid vectors: NAME.ddc and NAME.wav (its expected 16-bit PCM, formats/ddc.md §6).
They pin the format, so an existing one is never re-encoded: delete it first to
make it anew (only with a new format version). --expected keeps the reference decoder's
output exact after a change to its arithmetic that the format allows (binary32 where §7.1 permits
it, another order of sums): it refuses to write if any sample moves by more than the conformance
tolerance, 1 LSB, since that would be a change of format, not of rounding. Invalid vectors: bad_*.ddc, each
of which a reader must reject; they are rewritten on every run.
"""

import dataclasses
import io
import sys
import zlib
from pathlib import Path

import numpy as np
import soundfile
from scipy.signal import resample_poly

import codec
from codec import bitstream, phase
from codec.audio_io import to_pcm16
from codec.encoder.pipeline import encode_stream
from codec.modes import MODES
from codec.options import EncodeOptions

HERE = Path(__file__).parent
DATA = HERE.parent.parent / "tests" / "data"


def tone(rate: int, seconds: float, channels: int) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    cols = [0.4 * np.sin(2 * np.pi * (180 + 90 * c) * t) * np.hanning(len(t)) for c in range(channels)]
    return np.stack(cols, axis=1).astype(np.float32)


# Versions 2 to 4 rebuild phase from a random start with 32 iterations; later encoders write version 5,
# version 6 where they take the audio to another level (all spectral files since version 6), version 7
# where the phase search has slack (mono spectral files since version 7), and version 8 where the networks output
# frequency nodes (all spectral files since version 8).
VERSION_7 = dataclasses.replace(MODES["spectral"], frequency_q=0, multichannel_frequency_q=0)  # version 7's defaults
VERSION_6 = dataclasses.replace(VERSION_7, phase_iterations=4, slack=0)  # version 6's encoder defaults
OWN_LEVEL = dataclasses.replace(VERSION_6, level_dbfs=None)  # and version 5's
LEGACY = dataclasses.replace(OWN_LEVEL, phase_start=phase.GRIFFIN_LIM, phase_iterations=32)


def encoded(audio: np.ndarray, rate: int, mode=LEGACY, **options: object) -> bytes:
    buffer = io.BytesIO()
    encode_stream(audio, rate, buffer, EncodeOptions(**options), mode=mode)
    return buffer.getvalue()


def encode_valid(name: str) -> bytes:
    quick = 100  # fit steps
    digit, digit_rate = soundfile.read(DATA / "digit_0_jackson.wav", dtype="float32")
    # Version 1, waveform synthesis.
    if name == "digit_mono_8k":  # one segment, 1-byte codes
        return codec.encode(digit, digit_rate, bitrate=16_000, seed=7, iterations=quick, mode="waveform")
    if name == "trumpet_stereo_44k":  # many overlapping segments, two channels, 2-byte codes
        trumpet, trumpet_rate = soundfile.read(DATA / "trumpet_1s.flac", dtype="float32")
        return codec.encode(trumpet[:22050], trumpet_rate, bitrate=256_000, seed=1, iterations=quick, mode="waveform")
    if name == "tone_3ch_11k":  # odd rate, three channels, several segments
        return codec.encode(tone(11025, 2.0, 3), 11025, bitrate=20_000, seed=123, iterations=quick, mode="waveform")
    # Version 2, spectral synthesis.
    if name == "digit_spectral_8k":  # one segment, 256-point STFT
        return encoded(digit, digit_rate, bitrate=16_000, seed=5, iterations=quick)
    # Version 3: spectral synthesis with encoder notes (this digit's background noise is explained away).
    if name == "digit_spectral_denoised_8k":
        return encoded(digit, digit_rate, bitrate=16_000, seed=3, iterations=quick, denoise="auto")
    # Version 4: 48 kHz speech at 24 kbps, coded at 16 kHz and interpolated back (§8).
    if name == "speech_spectral_decimated_48k":
        return encoded(speech_48k(), 48_000, bitrate=24_000, seed=11, iterations=quick)
    # Version 4: the peak limit at work (§9): the stored peak set a quarter as high, so the limit bends the peaks.
    if name == "digit_spectral_limited_8k":
        data = encoded(digit, digit_rate, bitrate=16_000, seed=13, iterations=quick)
        return bitstream.rewrite_header(data, peak=codec.read_header(io.BytesIO(data)).peak // 4)
    # Version 5: phase-gradient start and a few single-precision iterations (§7.1), at the encoder's defaults.
    if name == "speech_spectral_pghi_16k":
        return encoded(*speech_16k(), OWN_LEVEL, bitrate=24_000, seed=17, iterations=quick)
    if name == "speech_spectral_pghi_decimated_48k":  # §7.1 then §8 and §9
        return encoded(speech_48k(), 48_000, OWN_LEVEL, bitrate=24_000, seed=19, iterations=quick)
    # Version 6, at that version's encoder defaults: quiet speech taken up to -23 dBFS (a negative gain, §10),
    # and loud speech taken down (a positive one) before §8 and §9.
    if name == "speech_spectral_gain_16k":
        return encoded(*speech_16k(), VERSION_6, bitrate=24_000, seed=23, iterations=quick)
    if name == "speech_spectral_gain_decimated_48k":
        return encoded(4 * speech_48k(), 48_000, VERSION_6, bitrate=24_000, seed=29, iterations=quick)
    # Version 7, at that version's encoder defaults: mono speech whose phase search moves magnitudes within the
    # slack (§7 step 3), and three channels (each within its own magnitudes' slack) with segment joins.
    if name == "speech_spectral_slack_16k":
        return encoded(*speech_16k(), VERSION_7, bitrate=24_000, seed=31, iterations=quick)
    if name == "tone_spectral_slack_3ch_11k":
        slack = dataclasses.replace(VERSION_7, max_segment=64, multichannel_slack=16)
        return encoded(tone(11025, 2.0, 3), 11025, slack, bitrate=24_000, seed=37, iterations=quick)
    # Version 8, at the encoder's defaults: mono speech whose networks output frequency nodes (§11), and three
    # channels of them, with another q, through segment joins.
    if name == "speech_spectral_nodes_16k":
        return codec.encode(*speech_16k(), bitrate=24_000, seed=41, iterations=quick)
    if name == "tone_spectral_nodes_3ch_11k":
        nodes = dataclasses.replace(MODES["spectral"], max_segment=64, multichannel_frequency_q=5)
        return encoded(tone(11025, 2.0, 3), 11025, nodes, bitrate=24_000, seed=43, iterations=quick)
    # Version 9: a noisy digit (about 10 dB SNR) cleaned by the speech denoiser before coding (§1.3); it decodes as
    # version 8 does. Making it anew needs the `denoise` extra; decoding it does not.
    if name == "digit_spectral_speech_denoised_8k":
        return codec.encode(digit, digit_rate, bitrate=16_000, seed=47, iterations=quick, denoise="speech")
    # Three channels, segments shortened to 64 frames to exercise joins: in version 5 the frames a segment
    # shares with the previous one are given cells of the integration (§7.1 step 3).
    if name == "tone_spectral_pghi_3ch_11k":
        current = dataclasses.replace(OWN_LEVEL, max_segment=64)
        return encoded(tone(11025, 2.0, 3), 11025, current, bitrate=24_000, seed=21, iterations=quick)
    assert name == "tone_spectral_3ch_11k"
    short_segments = dataclasses.replace(LEGACY, max_segment=64)
    return encoded(tone(11025, 2.0, 3), 11025, short_segments, bitrate=24_000, seed=9, iterations=quick)


def speech_16k() -> tuple[np.ndarray, int]:
    """The bundled 2 s of 16 kHz speech, at about -30 dBFS RMS."""
    speech, speech_rate = soundfile.read(DATA / "speech_198-209-0000_2s.flac", dtype="float32")
    return speech, speech_rate


def speech_48k() -> np.ndarray:
    """One second of the bundled speech, resampled to a 48 kHz original."""
    speech, speech_rate = soundfile.read(DATA / "speech_198-209-0000_2s.flac", dtype="float32")
    return resample_poly(speech[:speech_rate], 48_000 // speech_rate, 1).astype(np.float32)


VALID = (
    "digit_mono_8k",
    "trumpet_stereo_44k",
    "tone_3ch_11k",
    "digit_spectral_8k",
    "tone_spectral_3ch_11k",
    "digit_spectral_denoised_8k",
    "speech_spectral_decimated_48k",
    "digit_spectral_limited_8k",
    "speech_spectral_pghi_16k",
    "speech_spectral_pghi_decimated_48k",
    "tone_spectral_pghi_3ch_11k",
    "speech_spectral_gain_16k",
    "speech_spectral_gain_decimated_48k",
    "speech_spectral_slack_16k",
    "tone_spectral_slack_3ch_11k",
    "speech_spectral_nodes_16k",
    "tone_spectral_nodes_3ch_11k",
    "digit_spectral_speech_denoised_8k",
)


def invalid_vectors(good: bytes) -> dict[str, bytes]:
    header = codec.read_header(io.BytesIO(good))
    payload = good[bitstream.HEADER_BYTES :]
    flipped = bytearray(good)
    flipped[bitstream.HEADER_BYTES + 3] ^= 0x10

    def resealed(**changes: int) -> bytes:  # valid header CRC around a bad value
        return bitstream.pack_header(dataclasses.replace(header, **changes)) + payload

    return {
        "bad_magic": b"RIFF" + good[4:],
        "bad_version": bitstream.pack_header(header, version=10) + payload,
        "bad_version_9_without_speech": bitstream.pack_header(dataclasses.replace(header, denoised=1), version=9)
        + payload,  # rule 12
        "bad_version_8_without_nodes": bitstream.pack_header(header, version=8) + payload,  # rule 12
        "bad_version_7_without_slack": bitstream.pack_header(header, version=7) + payload,  # rule 12
        "bad_version_6_without_gain": bitstream.pack_header(header, version=6) + payload,  # rule 12
        "bad_version_5_without_phase": bitstream.pack_header(header, version=5) + payload,  # rule 12
        "bad_phase": resealed(phase=2),  # rule 3
        "bad_phase_iterations": resealed(phase=1, phase_iterations=65),  # rule 3
        "bad_phase_in_waveform": resealed(phase=1, phase_iterations=4),  # rule 3: a waveform file has no phase
        "bad_phase_slack": resealed(phase_slack=65),  # rule 3
        "bad_slack_in_waveform": resealed(phase_slack=10),  # rule 3: nor a phase search's slack
        "bad_nodes_in_waveform": resealed(frequency_q=16),  # rule 3: nor frequency nodes
        "bad_version_4_without_divisor": bitstream.pack_header(header, version=4) + payload,  # rule 12
        "bad_rate_divisor": resealed(rate_divisor=3),  # rule 4: 8000 Hz / 3 is not a whole rate
        "bad_rate_divisor_range": resealed(rate_divisor=9),  # rule 3
        "bad_version_3_without_notes": bitstream.pack_header(header, version=3) + payload,  # rule 12
        "bad_denoised_flag": resealed(denoised=3),  # rule 3
        "bad_speech_denoised_before_9": bitstream.pack_header(dataclasses.replace(header, denoised=2), version=8)
        + payload,  # rule 3: the value is version 9's
        "bad_version_synthesis": bitstream.pack_header(header, version=2) + payload,  # version 2 needs synthesis > 0
        "bad_synthesis": resealed(synthesis=7),
        "bad_header_crc": good[:20] + bytes([good[20] ^ 1]) + good[21:],
        "bad_payload_crc": bytes(flipped),
        "bad_truncated_header": good[:30],
        "bad_truncated_payload": good[:-5],
        "bad_trailing": good + b"\0",
        "bad_channels_zero": resealed(channels=0),
        "bad_frames_huge": resealed(frames=2**40),
        "bad_depth_1000": resealed(depth=250),
        "bad_sample_rate_zero": resealed(sample_rate=0),
        "bad_payload_per_sample": resealed(frames=2**19, width=2, depth=1, segment_length=1, overlap=0),  # rule 9
        "bad_decode_work": resealed(frames=1, width=256, depth=1, segment_length=8192, overlap=0),  # rule 10
        "bad_code_beyond_levels": code_beyond_levels(header, good),
    }


def code_beyond_levels(header: bitstream.Header, good: bytes) -> bytes:
    """Same file, but the first code of the first tensor exceeds levels; CRCs valid."""
    _, exponents, codes = bitstream.read(io.BytesIO(good))
    raw = bytearray(bitstream.join_payload(exponents, codes, header.code_bytes))
    raw[header.segments * len(header.shapes)] = 2 * header.levels + 1
    payload = bitstream.compress_payload(bytes(raw))
    fixed = dataclasses.replace(header, crc_payload=zlib.crc32(payload), payload_bytes=len(payload))
    return bitstream.pack_header(fixed) + payload


def rewrite_expected(path: Path) -> int:
    """Rewrite path's .wav from the decoder; the largest change in LSB (SystemExit past 1, nothing written)."""
    audio, rate = codec.decode(path.read_bytes())
    pcm = to_pcm16(audio)
    wav = path.with_suffix(".wav")
    if wav.exists():
        old, _ = soundfile.read(wav, dtype="int16", always_2d=True)
        moved = int(np.abs(old.astype(np.int32) - pcm).max()) if old.shape == pcm.shape else 1 << 16
        if moved > 1:
            raise SystemExit(f"{path.name}: the decoder moved a sample by {moved} LSB: a format change, not rounding")
    else:
        moved = 0
    soundfile.write(wav, pcm, rate, subtype="PCM_16")
    return moved


def main(expected: bool = False) -> None:
    for name in VALID:
        path = HERE / f"{name}.ddc"
        if not path.exists():
            path.write_bytes(encode_valid(name))
            rewrite_expected(path)
        elif expected:
            print(f"{name}: {rewrite_expected(path)} LSB at most")
    for name, data in invalid_vectors((HERE / "digit_mono_8k.ddc").read_bytes()).items():
        (HERE / f"{name}.ddc").write_bytes(data)


if __name__ == "__main__":
    main(expected="--expected" in sys.argv[1:])
