"""The encoder, top to bottom: audio -> signal -> segments -> fit -> quantize -> bitstream.

What differs between modes (the signal fitted, its layout, the fit's error) comes
from the mode table (codec/modes); this module never branches on a mode.
"""

import dataclasses
import functools
import warnings
from collections.abc import Callable
from typing import BinaryIO

import numpy as np

from codec import band, limit, modes, resample, threads
from codec.bitstream import GAIN_STEPS_PER_OCTAVE, NOISE_MODEL, SPEECH_DENOISER, Header, snr_estimate
from codec.encoder import denoise, pack
from codec.encoder.checks import check_audio
from codec.encoder.fit import fit_networks, resolve_device
from codec.encoder.quantize import quantize, search_levels
from codec.encoder.segments import SegmentBatch, iter_batches
from codec.frequency import Nodes
from codec.modes import FitConfig, Mode
from codec.modes.ladder import Shape
from codec.options import EncodeOptions
from codec.restore import restore
from codec.speech_denoise import Cleaned

MAX_FIT_WORK = 2**23  # segments x (width + rows) x L fitted at once: ~1.5 GB of activations at depth 6
Progress = Callable[[int, int, float], None]  # (steps done, steps in all, the mode's fit measure: Mode.fit_measure)


def encode_stream(
    audio: np.ndarray,
    sample_rate: int,
    fileobj: BinaryIO,
    options: EncodeOptions = EncodeOptions(),  # noqa: B008 - frozen, so one shared default is safe
    progress: Progress | None = None,
    *,
    mode: Mode | None = None,
    cleaned: Cleaned | None = None,
) -> Header:
    """Fit, quantize and write one .ddc stream; returns its header. See codec.encode_file.

    mode: the Mode object to encode with instead of options.mode's (tests and the conformance
    vectors use variants with other tunables, e.g. shorter spectral segments).
    cleaned: what options.denoise's denoiser in denoise.BEFORE_FIT made of this audio (restored), when the caller
    ran it to show its progress and warnings (work.encode_path); it runs here otherwise, warning as UserWarning.
    """
    audio = check_audio(audio, sample_rate)
    if options.restore:
        audio, sample_rate, _ = restore(audio, sample_rate, options.restore)
    if cleaned is None and (clean := denoise.BEFORE_FIT.get(options.denoise)) is not None:
        cleaned = clean(audio, sample_rate, None)
        if cleaned.warning:
            warnings.warn(cleaned.warning, stacklevel=3)
    if cleaned is not None:
        audio = cleaned.audio
    mode = mode or modes.get(options.mode)
    frames, channels = audio.shape
    bitrate, divisor, shape, signal, gain = _signal(audio, sample_rate, options, mode)
    denoiser = denoise.DENOISERS[mode.denoiser] if mode.denoiser and options.denoise == "auto" else None
    noise = denoiser.estimate(signal, shape, channels, sample_rate // divisor) if denoiser else None
    if noise is not None and noise.applied:
        signal = denoiser.target(signal, noise, sample_rate // divisor)
    batches = list(iter_batches(signal, shape, MAX_FIT_WORK, center=mode.center))
    with threads.bounded(options.threads):
        config = options.fit_config(batches[0].target.shape[1], mode)
        config = dataclasses.replace(config, device=resolve_device(config.device))
        nodes = Nodes(channels, signal.shape[1] // channels, shape.frequency_q)
        weights, denoised = _fit(batches, shape, nodes, options.seed, config, mode, denoiser, noise, progress)
    # What the encoder found about noise goes in the header (version 3) for `ddcodec info`; the decoder ignores it.
    notes = {} if noise is None else {"denoised": NOISE_MODEL * denoised, "snr_estimate": snr_estimate(noise.snr_db)}
    if cleaned is not None:  # the same two notes (formats/ddc.md §1.3), version 9's value where it cleaned the input
        notes = {"denoised": SPEECH_DENOISER * (cleaned.weight > 0), "snr_estimate": snr_estimate(cleaned.snr_db)}
    phase, phase_iterations, phase_slack = mode.phase_search(channels, options.phase_iterations)
    # Every field but what the payload decides (levels, its CRC and size), which stay 0 until it is made: the header's
    # size does not depend on them, and levels=0 fails validation, so this draft is never written as it is.
    header = Header(
        sample_rate=sample_rate,
        channels=channels,
        frames=frames,
        seed=options.seed,
        width=shape.width,
        depth=shape.depth,
        synthesis=shape.synthesis,
        segment_length=shape.segment_length,
        overlap=shape.overlap,
        levels=0,
        crc_payload=0,
        payload_bytes=0,
        **notes,
        rate_divisor=divisor,
        peak=limit.peak_code(audio) if mode.limits_peak else 0,  # the original's, before any decimation
        phase=phase,
        phase_iterations=phase_iterations,
        gain=gain,
        phase_slack=phase_slack,
        frequency_q=shape.frequency_q,
    )
    levels, payload = _quantize_within(weights, int(bitrate * frames / sample_rate / 8), header.size)
    return pack.write(fileobj, dataclasses.replace(header, levels=levels), payload)


def noise_estimate(
    audio: np.ndarray,
    sample_rate: int,
    options: EncodeOptions = EncodeOptions(),  # noqa: B008 - frozen, so one shared default is safe
) -> denoise.NoiseEstimate | None:
    """What denoise="auto" estimates of this audio's noise with these options; None where the mode has no
    denoiser. (The benchmarks report it; encode_stream makes the same estimate.)"""
    audio = check_audio(audio, sample_rate)
    mode = modes.get(options.mode)
    if mode.denoiser is None:
        return None
    _, divisor, shape, signal, _ = _signal(audio, sample_rate, options, mode)
    return denoise.DENOISERS[mode.denoiser].estimate(signal, shape, audio.shape[1], sample_rate // divisor)


def _signal(
    audio: np.ndarray, sample_rate: int, options: EncodeOptions, mode: Mode
) -> tuple[float, int, Shape, np.ndarray, int]:
    """The bitrate spent (the target, clamped to the mode's ceiling), the rate divisor (the band coded),
    the shape for both, the signal to fit, and the gain the decoder undoes (the signal is of audio / gain)."""
    channels = audio.shape[1]
    gain = mode.gain(audio)
    if gain:  # scaled in float64: a gain of whole octaves scales float32 audio exactly
        audio = (audio * 2.0 ** (-gain / GAIN_STEPS_PER_OCTAVE)).astype(np.float32)
    bitrate = min(options.bitrate, mode.max_bitrate(sample_rate, channels))
    divisor = band.rate_divisor(audio, sample_rate, bitrate, mode, options.band)
    coded = resample.decimate(audio, divisor) if divisor > 1 else audio
    shape = mode.shape(bitrate, sample_rate // divisor, channels, len(coded))
    return bitrate, divisor, shape, mode.signal(coded, shape, threads.resolve(options.threads)), gain


def _fit(
    batches: list[SegmentBatch],
    shape: Shape,
    nodes: Nodes,
    seed: int,
    config: FitConfig,
    mode: Mode,
    denoiser: denoise.Denoiser | None,
    noise: denoise.NoiseEstimate | None,
    progress: Progress | None,
) -> tuple[list[np.ndarray], bool]:
    """Fit every batch of segments: the networks' weights in bitstream order, each (segments, *shape), and
    whether noise was removed in all of them.

    With a noise estimate that applies, the denoiser's error (if it has one) explains that noise away instead of
    coding it. Should that fit ever diverge, the batch is fitted again plainly: a file never carries non-finite
    weights."""
    total = len(batches) * config.iterations
    parts: list[list[np.ndarray]] = []
    denoised = noise is not None and noise.applied
    noise_error = denoiser.fit_error if denoiser is not None and denoised else None
    for index, batch in enumerate(batches):

        def report(step: int, relative: float, done: int = index * config.iterations, batch=batch) -> None:
            if progress is not None:
                progress(done + step, total, mode.fit_measure(relative, batch.scale))

        weight = mode.fit_weight(batch.target, batch.mask)
        fit = functools.partial(
            fit_networks, batch.target, batch.mask, shape.width, shape.depth, seed, config, rows=nodes.rows
        )
        plain = functools.partial(mode.fit_error, batch.target, weight, nodes, config.device)
        error = None
        if noise_error is not None:
            error = noise_error(batch, noise, shape, config.iterations, config.device, weight, nodes=nodes)
        fitted = fit(error or plain(), report)
        if error is not None and not all(np.isfinite(w).all() for w in fitted):
            denoised, fitted = False, fit(plain(), report)
        parts.append(batch.fold_gain(fitted, mode.silent_bias))
    return [np.concatenate(tensors) for tensors in zip(*parts, strict=True)], denoised


def _quantize_within(weights: list[np.ndarray], budget: int, overhead: int) -> tuple[int, bytes]:
    """The largest levels whose file (the payload plus `overhead` header bytes) fits `budget`, and its payload."""
    payloads: dict[int, bytes] = {}

    def size_of(levels: int) -> int:  # keeps each payload so the chosen one is not compressed twice
        payloads[levels] = pack.payload(*quantize(weights, levels), levels)
        return overhead + len(payloads[levels])

    levels = search_levels(size_of, budget)
    if levels not in payloads:  # the search can settle on 1 without trying it
        size_of(levels)
    return levels, payloads[levels]
