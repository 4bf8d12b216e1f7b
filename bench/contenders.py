"""Each codec in the benchmarks, as: clip + target kbps -> decoded audio at the clip's rate, bytes, seconds.

Lossy codecs go through libsndfile (soundfile): MP3 (LAME, constant bitrate),
Ogg Vorbis and Ogg Opus. libsndfile sets their rate through a compression level
in [0, 1], so `lossy` searches the level whose file lands nearest the target
from below (or the smallest file the codec makes, when even that is over).
Sizes are whole files, container included. Opus only runs at 8/12/16/24/48 kHz:
other rates are resampled to 48 kHz for it and back for scoring. Codec 2 runs through the c2enc and c2dec of
Debian's codec2 package (`apt-get install codec2`), at 8 kHz, mono; its size is the bit file alone (no container).
"""

import io
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass

import numpy as np
import soundfile

import codec
from bench import reference
from bench.clips import Clip
from codec.metrics import resample

LOSSY = {  # name -> (format, subtype, bitrate mode)
    "mp3": ("MP3", "MPEG_LAYER_III", "CONSTANT"),
    "vorbis": ("OGG", "VORBIS", None),
    "opus": ("OGG", "OPUS", None),
}
OPUS_RATES = (8000, 12000, 16000, 24000, 48000)
CODEC2_RATE = 8000
CODEC2_MODES = (3200, 2400, 1600, 1400, 1300, 1200)  # bit/s; 700C and 450 are other, newer designs
DENOISE_SUFFIX = {"off": "", "auto": "+denoise"}  # in ddcodec's row names; any other value is named as it is
MAX_LEVEL = 0.99  # libsndfile refuses 1.0 for MP3


@dataclass
class Coded:
    codec: str
    decoded: np.ndarray  # (frames, channels) at the clip's rate, not yet aligned
    size: int  # bytes
    encode_s: float
    decode_s: float
    delay_free: bool = False  # its decoder adds no delay, so it is scored where it is (metrics.score)


def ddcodec(
    clip: Clip,
    kbps: float,
    iterations: int | None = None,
    mode: str = "spectral",
    denoise: str = "off",
    band: str = "auto",
) -> Coded:
    """ddcodec in `mode` at the encoder's default fit for that mode, or `iterations` steps of it.

    denoise, band: the encoder's options; a value other than the default goes in the name ("+denoise" for auto,
    "+speech", "+fullband")."""
    began = time.perf_counter()
    options = {"mode": mode, "denoise": denoise, "band": band}
    data = codec.encode(clip.audio, clip.rate, bitrate=kbps * 1000, iterations=iterations, **options)
    middle = time.perf_counter()
    decoded, _ = codec.decode(data)
    name = f"ddcodec-{mode}" + DENOISE_SUFFIX.get(denoise, f"+{denoise}") + ("+fullband" if band != "auto" else "")
    name += f"@{iterations}it" if iterations is not None else ""
    return Coded(name, decoded, len(data), middle - began, time.perf_counter() - middle, delay_free=True)


def reference_recipe(clip: Clip, kbps: float, iterations: int) -> Coded:
    """The published Deep Decoder at (about) the bytes ddcodec gets for `kbps`."""
    k = reference.width_for(kbps * 1000 * clip.seconds / 8, clip.audio.shape[1])
    began = time.perf_counter()
    decoded, size = reference.encode(clip.audio, k, iterations)
    return Coded("reference", decoded, size, time.perf_counter() - began, 0.0, delay_free=True)


def _lossy_once(audio: np.ndarray, rate: int, name: str, level: float) -> tuple[bytes, float]:
    fmt, subtype, mode = LOSSY[name]
    buffer = io.BytesIO()
    began = time.perf_counter()
    soundfile.write(buffer, audio, rate, format=fmt, subtype=subtype, compression_level=level, bitrate_mode=mode)
    return buffer.getvalue(), time.perf_counter() - began


def lossy(clip: Clip, kbps: float, name: str) -> Coded:
    rate = clip.rate
    if name == "opus" and rate not in OPUS_RATES:
        rate = 48000
    audio = resample(clip.audio, clip.rate, rate).astype(np.float32)
    budget = kbps * 1000 * clip.seconds / 8
    low, high = 0.0, MAX_LEVEL  # a higher level makes a smaller file
    best = _lossy_once(audio, rate, name, MAX_LEVEL)
    for _ in range(10):
        level = (low + high) / 2
        data, took = _lossy_once(audio, rate, name, level)
        if len(data) <= budget:
            high, best = level, (data, took)
        else:
            low = level
    data, encode_s = best
    began = time.perf_counter()
    decoded, _ = soundfile.read(io.BytesIO(data), dtype="float32", always_2d=True)
    decode_s = time.perf_counter() - began
    return Coded(name, resample(decoded, rate, clip.rate).astype(np.float32), len(data), encode_s, decode_s)


def flac_size(clip: Clip) -> int:
    """Bytes of the clip as 16-bit FLAC at the highest compression level."""
    buffer = io.BytesIO()
    soundfile.write(buffer, clip.audio, clip.rate, format="FLAC", subtype="PCM_16", compression_level=1.0)
    return len(buffer.getvalue())


def codec2_installed() -> bool:
    return shutil.which("c2enc") is not None and shutil.which("c2dec") is not None


def codec2(clip: Clip, kbps: float) -> Coded:
    """Codec 2 in its highest mode at or under `kbps` (its lowest, 1200, under all), on the channels' mean at
    8 kHz; the decoded speech is resampled back to the clip's rate and copied to every channel."""
    mode = next((m for m in CODEC2_MODES if m <= kbps * 1000 + 1e-6), CODEC2_MODES[-1])
    mono = resample(clip.audio.mean(axis=1, keepdims=True), clip.rate, CODEC2_RATE)[:, 0]
    with tempfile.TemporaryDirectory() as folder:
        raw, bits, out = (f"{folder}/{name}" for name in ("in.raw", "out.bit", "out.raw"))
        np.clip(np.round(mono * 32768), -32768, 32767).astype("<i2").tofile(raw)
        began = time.perf_counter()
        subprocess.run(["c2enc", str(mode), raw, bits], check=True, capture_output=True)  # .bit: no header
        middle = time.perf_counter()
        subprocess.run(["c2dec", str(mode), bits, out], check=True, capture_output=True)
        ended = time.perf_counter()
        size = os.path.getsize(bits)
        decoded = np.fromfile(out, "<i2").astype(np.float32) / 32768
    back = resample(decoded[:, None], CODEC2_RATE, clip.rate).astype(np.float32)
    return Coded("codec2", np.repeat(back, clip.audio.shape[1], axis=1), size, middle - began, ended - middle)
