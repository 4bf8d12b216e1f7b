"""The encoder: audio -> segments -> fitted networks -> quantized codes -> .ddc. The only package that imports torch."""

import dataclasses
from collections.abc import Callable
from typing import BinaryIO

import numpy as np

from codec import spectrum
from codec.bitstream import FIELDS, HEADER_BYTES, MAX_OUTPUT_SAMPLES, Header
from codec.encoder import pack
from codec.encoder.fit import FitConfig, fit_networks
from codec.encoder.ladder import choose_shape, choose_spectral_shape
from codec.encoder.quantize import quantize, search_levels
from codec.encoder.segments import iter_batches
from codec.errors import AudioError

__all__ = ["DEFAULT_FIT", "MODES", "FitConfig", "encode_stream", "fit_config"]

MODES = ("spectral", "waveform")  # README "Modes"; the first is the default
# Measured on speech (bench/RESULTS.md, ablation): spectral fits settle by 1000 steps at lr 0.01.
DEFAULT_FIT = {"spectral": FitConfig(iterations=1000, lr=0.01), "waveform": FitConfig()}


MAX_BITS_PER_SAMPLE = 16  # targets above 16-bit PCM's rate are clamped to it (the format's caps assume so)
MAX_FIT_WORK = 2**23  # segments x (width + rows) x L fitted at once: ~1.5 GB of activations at depth 6
Progress = Callable[[int, int, float], None]  # (steps done, steps in all, running fit SNR in dB)


def fit_config(mode: str, iterations: int | None = None, device: str = "cpu") -> FitConfig:
    """DEFAULT_FIT[mode], with `iterations` steps instead when given, on `device`."""
    config = dataclasses.replace(DEFAULT_FIT[mode], device=device)
    return config if iterations is None else dataclasses.replace(config, iterations=iterations)


def check_audio(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """Validate samples and return them as (frames, channels) float32; raise AudioError naming the problem."""
    audio = np.asarray(audio)
    if audio.ndim == 1:
        audio = audio[:, None]
    if audio.ndim != 2:
        raise AudioError(f"audio must be (frames,) or (frames, channels), got shape {audio.shape}")
    if not np.issubdtype(audio.dtype, np.floating):
        raise AudioError(f"audio must be floating point in [-1, 1], got {audio.dtype}")
    limits = {name: (low, high) for name, _, low, high in FIELDS}
    for name, value in (("sample_rate", sample_rate), ("channels", audio.shape[1])):
        low, high = limits[name]
        if not low <= value <= high:
            raise AudioError(f"{name} {value} is not supported (allowed {low}..{high})")
    if audio.shape[0] == 0:
        raise AudioError("audio is empty")
    if audio.size > MAX_OUTPUT_SAMPLES:
        raise AudioError(f"audio has {audio.size} samples, more than the format's {MAX_OUTPUT_SAMPLES}")
    if not np.isfinite(audio).all():
        raise AudioError("audio contains NaN or infinite samples")
    return audio.astype(np.float32, copy=False)


def encode_stream(
    audio: np.ndarray,
    sample_rate: int,
    fileobj: BinaryIO,
    bitrate: float = 24_000,
    seed: int = 0,
    config: FitConfig | None = None,
    progress: Progress | None = None,
    mode: str = MODES[0],
) -> Header:
    """Fit, quantize and write one .ddc stream; returns its header. See codec.encode_file."""
    audio = check_audio(audio, sample_rate)
    if not 0 <= seed < 2**32:
        raise ValueError(f"seed must be in [0, 2**32), got {seed}")
    if bitrate <= 0:
        raise ValueError(f"bitrate must be positive, got {bitrate}")
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    config = config or DEFAULT_FIT[mode]
    frames, channels = audio.shape
    bitrate = min(bitrate, MAX_BITS_PER_SAMPLE * sample_rate * channels)
    if mode == "spectral":
        shape = choose_spectral_shape(bitrate, sample_rate, channels, frames)
        log_magnitudes = spectrum.analyze(audio, 1 << shape.synthesis)
        batches = list(iter_batches(log_magnitudes, shape, MAX_FIT_WORK, center=True))
    else:
        shape = choose_shape(bitrate, sample_rate, channels, frames)
        batches = list(iter_batches(audio, shape, MAX_FIT_WORK))
    total = len(batches) * config.iterations

    parts: list[list[np.ndarray]] = []
    for index, batch in enumerate(batches):
        done = index * config.iterations

        def report(step: int, snr: float, done: int = done) -> None:
            if progress is not None:
                progress(done + step, total, snr)

        weights = fit_networks(batch.target, batch.mask, shape.width, shape.depth, seed, config, report)
        weights[-2] *= batch.scale[:, None, None].astype(np.float32)  # undo the standardization
        weights[-1] = weights[-1] * batch.scale[:, None].astype(np.float32) + batch.offset[:, None].astype(np.float32)
        if mode == "spectral":
            # A silent segment is the floor everywhere; one unit of log below it, bias rounding cannot
            # lift its magnitudes above 0, so silence decodes to exact zeros as in waveform mode.
            weights[-1][batch.scale == 0] -= 1.0
        parts.append(weights)
    weights = [np.concatenate(tensors) for tensors in zip(*parts, strict=True)]

    budget = int(bitrate * frames / sample_rate / 8)
    payloads: dict[int, bytes] = {}

    def size_of(levels: int) -> int:  # keeps each payload so the chosen one is not compressed twice
        payloads[levels] = pack.payload(*quantize(weights, levels), levels)
        return HEADER_BYTES + len(payloads[levels])

    levels = search_levels(size_of, budget)
    if levels not in payloads:  # the search can settle on 1 without trying it
        size_of(levels)
    data = payloads[levels]
    return pack.write(fileobj, sample_rate, channels, frames, seed, shape, levels, data)
