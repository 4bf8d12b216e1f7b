"""Denoising by explaining the input as signal + noise: only the signal is stored (issue 13).

The spectral networks fit the log-magnitude of the *clean* signal S, while the loss compares
ln(sqrt(S² + P_n) + eps) with the input's log-magnitude: P_n, a stationary per-bin noise
power estimated here at encode time, is never stored and costs no bits. The decoder is
unchanged; it renders S, so what comes out is denoised.

- Estimate (numpy): P_n per bin is the 10 % quantile over frames of the power smoothed over
  5 frames x 3 bins, times the ratio that makes it unbiased on Gaussian noise (NOISE_CAL). A bin whose
  floor stands out of its neighbourhood is a tone: noise only if it is steady (mains hum), otherwise a
  sustained note, capped at the neighbourhood's floor (steady_tones).
- auto: the noise weight ramps from 0 at an estimated input SNR of 20 dB to 1.5 (mild
  over-subtraction) at 15 dB and below; a weight of 0 is today's plain fit, bit for bit.
- Fit: 70 % of the steps on the plain L2 loss toward a power-subtracted target (cheap, and
  a good start), then the noise-aware loss with a gain floor of -20 dB against the noise and
  a weak pull of bins the noise hides toward that floor (without it they drift and ring).

The waveform networks fit samples, where a loss on magnitudes would leave the phase free. There the target
is the clean signal's posterior mean under the same noise estimate: the decision-directed Wiener estimate
E[S | Y] of Ephraim and Malah, by STFT. Under a Gaussian model E||S - w||² = ||w - E[S | Y]||² + a constant, so
fitting the network to that target minimizes the expected error against the clean signal.

Each mode names its denoiser (Mode.denoiser); DENOISERS maps the names to the two kinds below. BEFORE_FIT holds
the denoisers that clean the audio itself before any mode sees it (denoise="speech": codec.speech_denoise).

Measured by a prototype on 16 kHz speech at 24 kbps (bench/RESULTS.md, "Denoising").
"""

import abc
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from scipy import ndimage

from codec import spectrum, speech_denoise
from codec.encoder.loss import SquaredError, as_tensor, spreader
from codec.encoder.segments import SegmentBatch
from codec.frequency import Nodes
from codec.modes.ladder import Shape

NOISE_QUANTILE = 0.1
NOISE_SMOOTH = (5, 3)  # frames x bins
NOISE_CAL = 1.981  # E|N|² / estimate on white Gaussian noise through the codec's STFT (tests re-measure it)
# A floor over TONE_EXCESS x the median of its TONE_BINS-bin neighbourhood is a tone (the smoothing widens a tone
# to 5 bins, which a 9-bin median still holds); it is noise only if its TONE_QUANTILE power is within TONE_STEADY
# of its 10 % quantile. Measured (bench/RESULTS.md, "Held notes"): hum at 50 and 60 Hz, 16 and 48 kHz, keeps its
# estimate; the soprano's held notes were taken for noise (17.4 dB: auto fired, LSD +0.80) and are not now
# (27.0 dB); on noisy speech only babble's weight moves.
TONE_BINS, TONE_EXCESS, TONE_QUANTILE, TONE_STEADY = 15, 2.0, 0.25, 2.0
EDGE_FRAMES = 3  # frames that overlap the zero padding at each end are left out of the estimate
AUTO_OFF_DB, AUTO_RAMP_DB, MAX_WEIGHT = 20.0, 5.0, 1.5
WARM_UP = 0.7  # fraction of the steps fitted to the power-subtracted target
GAIN_FLOOR = 0.1  # amplitude, against the noise
FLOOR_PULL = 0.02


@dataclass(frozen=True)
class NoiseEstimate:
    """What the encoder believes about the input's noise; nothing of it is stored."""

    power: np.ndarray  # (rows,) noise power E|N|² per output row (channel-major bins)
    snr_db: float  # estimated input SNR, the lowest over channels
    weight: float  # how much of `power` the fit explains away (0: a plain fit)

    @property
    def applied(self) -> bool:
        return self.weight > 0


def inner_power(magnitude: np.ndarray) -> np.ndarray:
    """(frames, bins) |STFT| of one channel -> its power, less the frames that overlap the zero padding."""
    inner = magnitude[EDGE_FRAMES:-EDGE_FRAMES] if len(magnitude) > 4 * EDGE_FRAMES else magnitude
    return inner**2


def noise_power(power: np.ndarray) -> np.ndarray:
    """(frames, bins) inner_power of one channel -> (bins,) stationary noise power."""
    smoothed = ndimage.uniform_filter(power, size=NOISE_SMOOTH, mode="nearest")
    # The filter's running sums can leave -1e-15 where the power is 0 (empty bands): a power is never negative.
    low, higher = np.maximum(np.quantile(smoothed, (NOISE_QUANTILE, TONE_QUANTILE), axis=0), 0.0)
    return steady_tones(low * NOISE_CAL, higher <= TONE_STEADY * low)


def steady_tones(floor: np.ndarray, steady: np.ndarray) -> np.ndarray:
    """(bins,) noise floor with every tone (a bin over TONE_EXCESS x its neighbourhood's median) that is not
    `steady` lowered to that bound: a note held through most of a clip has a high 10 % quantile too."""
    bound = TONE_EXCESS * ndimage.median_filter(floor, size=TONE_BINS, mode="nearest")
    return np.where((floor > bound) & ~steady, bound, floor)


def snr_db(power: np.ndarray, noise: np.ndarray) -> float:
    """Estimated SNR of one channel from its inner_power: (total power - noise power) / noise power, in dB."""
    ratio = power.mean(axis=0).sum() / max(float(noise.sum()), 1e-30) - 1.0
    return float(10 * np.log10(max(ratio, 1e-3)))


def auto_weight(estimated_snr_db: float) -> float:
    return MAX_WEIGHT * float(np.clip((AUTO_OFF_DB - estimated_snr_db) / AUTO_RAMP_DB, 0.0, 1.0))


def estimate(log_magnitudes: np.ndarray, n_fft: int, channels: int) -> NoiseEstimate:
    """(frames, C * bins) log-magnitudes as spectrum.analyze makes them with an n_fft-point STFT -> the noise
    estimate.

    Noise below the log floor is invisible to the fit, so a channel whose noise stays under it
    (digital silence, dithered silence) counts as noiseless."""
    floor = n_fft * spectrum.LOG_FLOOR
    magnitude = np.maximum(np.exp(log_magnitudes) - floor, 0.0)
    per_channel = np.split(magnitude, channels, axis=1)
    powers = [inner_power(m) for m in per_channel]
    noises = [noise_power(p) for p in powers]
    snrs = [snr_db(p, n) if n.max() > floor**2 else math.inf for p, n in zip(powers, noises, strict=True)]
    return NoiseEstimate(np.concatenate(noises), min(snrs), auto_weight(min(snrs)))


class NoiseAwareError:
    """The fit error of one batch of spectral segments with the noise explained away.

    Called as error(output, step) like Mode.fit_error's, on the output layer's values at `nodes`; the target is
    standardized (S, rows, L), so Y = spread output * scale + offset is the log-magnitude. `weight`
    (Mode.fit_weight; None: the mask) weighs each cell's error in both phases, as in the plain fit.
    """

    def __init__(
        self,
        batch: SegmentBatch,
        noise: NoiseEstimate,
        shape: Shape,
        iterations: int,
        device: str,
        weight: np.ndarray | None = None,
        *,
        nodes: Nodes,
    ) -> None:
        self.sc = as_tensor(np.where(batch.scale > 0, batch.scale, 1.0), device)[:, None, None]
        self.off = as_tensor(batch.offset, device)[:, None, None]
        self.pn = as_tensor(noise.weight * noise.power, device)[None, :, None] + 1e-20
        n_fft = 1 << shape.synthesis
        self.eps, self.ln_n = n_fft * spectrum.LOG_FLOOR, math.log(n_fft)
        self.switch = int(WARM_UP * iterations)
        self.floor = (torch.log(torch.sqrt(GAIN_FLOOR**2 * self.pn) + self.eps) - self.off) / self.sc
        mask = as_tensor(batch.mask, device)[:, None, :]
        self.log_mag = as_tensor(batch.target, device) * self.sc + self.off  # T: the input's log-magnitudes
        x = torch.exp(self.log_mag) - self.eps
        gain = torch.sqrt((1 - self.pn / x.square().clamp_min(1e-30)).clamp_min(GAIN_FLOOR**2))
        warm = (torch.log(gain * x + self.eps) - self.off) / self.sc * mask  # power-subtracted target
        weighed = mask if weight is None else as_tensor(weight, device)  # Mode.fit_weight: what each cell counts
        self.warm = SquaredError(warm, weighed, nodes)
        self.spread = spreader(nodes, torch.device(device)) or (lambda values: values)
        self.weight = (weighed / self.sc.square()).expand_as(self.log_mag).contiguous()
        self.mask = mask.expand_as(self.log_mag).contiguous()

    def __call__(self, output: torch.Tensor, step: int) -> torch.Tensor:
        if step < self.switch:
            return self.warm(output, step)
        return _NoiseAwareLoss.apply(self.spread(output), self)


class _NoiseAwareLoss(torch.autograd.Function):
    """sum w (ln(sqrt(S² + P_n) + eps) - T)² + FLOOR_PULL sum m (out - floor)², S the decoder's magnitude
    max(exp(min(Y, ln N)) - eps, 0), with its gradient computed in the same pass (no graph on the big tensors):
    d ln(Q + eps) / dY = S exp(Y) / (Q (Q + eps)), Q = sqrt(S² + P_n). 1.6x fewer seconds than autograd."""

    @staticmethod
    def forward(ctx, out: torch.Tensor, e: NoiseAwareError) -> torch.Tensor:
        with torch.no_grad():
            a = torch.exp(torch.clamp(torch.addcmul(e.off, out, e.sc), max=e.ln_n))
            s = torch.relu(a - e.eps)
            q = torch.sqrt(torch.addcmul(e.pn, s, s))
            r = torch.log(q + e.eps).sub_(e.log_mag)
            grad = s.mul_(a).div_(q.mul_(q.add(e.eps)))  # d model / dY, in s's buffer
            wr = r * e.weight
            below = out - e.floor
            pull = below * e.mask
            loss = torch.dot(wr.flatten(), r.flatten()) + FLOOR_PULL * torch.dot(pull.flatten(), below.flatten())
            grad.mul_(wr).mul_(e.sc).add_(pull, alpha=FLOOR_PULL).mul_(2.0)
        ctx.save_for_backward(grad)
        return loss

    @staticmethod
    def backward(ctx, upstream: torch.Tensor) -> tuple[torch.Tensor, None]:
        (grad,) = ctx.saved_tensors
        return upstream * grad, None


# The decision-directed a priori SNR (Ephraim & Malah 1984): PRIOR_MEMORY of the last frame's estimate, the rest
# from this frame's excess power, at least PRIOR_FLOOR (-20 dB), which bounds the Wiener gain at about -40 dB.
PRIOR_MEMORY, PRIOR_FLOOR = 0.98, GAIN_FLOOR**2
WIENER_FRAME_S = 0.04  # the STFT is the largest power of 2 at most this long, as the spectral mode's
WIENER_BLOCK = 4096  # frames transformed at once: memory stays a few blocks' whatever the length


def wiener_frame(sample_rate: int) -> int:
    return 1 << max(6, math.floor(math.log2(sample_rate * WIENER_FRAME_S)))


def wiener(audio: np.ndarray, noise_power: np.ndarray, n_fft: int) -> np.ndarray:
    """(frames, C) audio and its (C * bins,) noise power -> (frames, C) float32 E[S | Y], the decision-directed
    Wiener estimate of the clean signal, by the n_fft-point STFT of spectrum.analysis and its exact inverse,
    WIENER_BLOCK frames at a time."""
    frames, channels = audio.shape
    hop = n_fft // spectrum.OVERLAP_FACTOR
    lead = n_fft - hop  # analysis's zeros before the audio
    padded = spectrum.padded(audio, n_fft)
    out = np.zeros_like(padded)
    noise = np.maximum(noise_power.reshape(channels, -1), 1e-30)
    previous = np.zeros_like(noise)  # |S|² of the frame before, as estimated
    for first in range(0, spectrum.frame_count(frames, n_fft), WIENER_BLOCK):
        piece = padded[:, first * hop : (first + WIENER_BLOCK + spectrum.OVERLAP_FACTOR - 1) * hop]
        x = spectrum.stft(piece, n_fft)  # (C, F, B)
        power = np.square(np.abs(x))
        for t in range(x.shape[1]):
            posterior = power[:, t] / noise
            prior = PRIOR_MEMORY * previous / noise + (1 - PRIOR_MEMORY) * np.maximum(posterior - 1.0, 0.0)
            prior = np.maximum(prior, PRIOR_FLOOR)
            gain = prior / (1.0 + prior)
            x[:, t] *= gain
            previous = np.square(gain) * power[:, t]
        out[:, first * hop : first * hop + (x.shape[1] + spectrum.OVERLAP_FACTOR - 1) * hop] += spectrum.istft(x, n_fft)
    return out[:, lead : lead + frames].T.astype(np.float32)


class Denoiser(abc.ABC):
    """How one mode's encoder removes the noise it estimates: a target to fit, an error to fit it with, or both."""

    # The error to fit one batch with once noise.applied, made from NoiseAwareError's arguments (`weight` is
    # Mode.fit_weight's); None: the mode's own error (Mode.fit_error).
    fit_error: type[NoiseAwareError] | None = None

    @abc.abstractmethod
    def estimate(self, signal: np.ndarray, shape: Shape, channels: int, sample_rate: int) -> NoiseEstimate:
        """The noise estimate of the mode's (positions, rows) signal, of audio coded at sample_rate."""

    def target(self, signal: np.ndarray, noise: NoiseEstimate, sample_rate: int) -> np.ndarray:
        """The signal the networks fit instead, once noise.applied: here the signal itself."""
        return signal


class ExplainNoise(Denoiser):
    """Spectral mode: the signal is log-magnitudes, and the fit's error explains the noise away (NoiseAwareError)."""

    fit_error = NoiseAwareError

    def estimate(self, signal: np.ndarray, shape: Shape, channels: int, sample_rate: int) -> NoiseEstimate:
        return estimate(signal, 1 << shape.synthesis, channels)


class WienerTarget(Denoiser):
    """Waveform mode: the signal is the samples, and the networks fit E[S | Y] (wiener) with the plain error.
    The weight ramps the estimate in as for the spectral fit, reaching the full estimate at MAX_WEIGHT."""

    def estimate(self, signal: np.ndarray, shape: Shape, channels: int, sample_rate: int) -> NoiseEstimate:
        n_fft = wiener_frame(sample_rate)
        return estimate(spectrum.analyze(signal, n_fft), n_fft, channels)

    def target(self, signal: np.ndarray, noise: NoiseEstimate, sample_rate: int) -> np.ndarray:
        return wiener(signal, noise.power * (noise.weight / MAX_WEIGHT), wiener_frame(sample_rate))


DENOISERS: dict[str, Denoiser] = {"explain": ExplainNoise(), "wiener": WienerTarget()}

# options.denoise's values that clean the audio before the mode makes its signal: (audio, rate, progress or None) ->
# what it made. The networks then fit clean audio, and the mode's own noise model (DENOISERS) stays off.
Cleaner = Callable[[np.ndarray, int, speech_denoise.Progress | None], speech_denoise.Cleaned]
BEFORE_FIT: dict[str, Cleaner] = {"speech": speech_denoise.denoise}
