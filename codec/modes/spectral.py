"""Spectral mode: the networks output log-magnitude STFT frames and the decoder rebuilds phase
(format version 2, synthesis s = 8..12 for a 2**s-point STFT; formats/ddc.md §7).

Encoder: the signal is ln(|STFT| + N * 2**-15) (codec/spectrum.py), frames along the
networks' axis, which the networks output at frequency nodes interpolated to the bins (codec/frequency.py);
segments are as long as the format allows and the width is the largest that fits the budget.
Decoder: phase per segment (codec/phase: a phase-gradient start, then a few
fast Griffin-Lim iterations), frames shared by consecutive segments crossfaded, then overlap-add.
"""

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from codec import phase, spectrum
from codec.bitstream import (
    GAIN_STEPS_PER_OCTAVE,
    MAX_RATE_DIVISOR,
    MAX_SPECTRAL_SEGMENT,
    MIN_SPECTRAL_SEGMENT,
    SPECTRAL_SYNTHESIS,
    V6_FIELDS,
    Header,
    PhaseSearch,
)
from codec.frequency import Nodes
from codec.layout import crossfade, output_rows
from codec.modes import ladder
from codec.modes.base import FitConfig, Mode
from codec.modes.ladder import Shape


@dataclass(frozen=True)
class Spectral(Mode):
    """Tunables measured on 10 s of speech at 24 kbps (bench/RESULTS.md, ablation): depth 3 beat 2 and
    tied 4; near 7 bits a weight (k = 71, levels ~120) tied 6.5 and 7.5 and beat wider networks on
    coarser codes (k = 80 and 96 at levels 33 and 14)."""

    depth: int = 3
    bits_per_weight: float = 7.0
    frame_seconds: float = 0.04  # the STFT is the largest power of 2 at most this long
    max_segment: int = 2048  # frames; 16 s at 16 kHz
    max_width: int = 256
    # Past ~4 bits a sample the networks would hold more weights than a quarter of the magnitudes they
    # code; files stop growing there (and stay inside the format's payload caps at 2-byte codes).
    max_bits_per_sample: float = 4.0
    # (bits a second per channel, coded rate): under the first bound that the bitrate is under, code a
    # narrower band, as Opus and MP3 do. The audio is decimated to the lowest whole fraction of its rate
    # that is at least the coded rate (48 kHz -> 16 kHz, 44.1 kHz -> 22.05 kHz; never up). Measured on the
    # dev speech (bench/RESULTS.md, "Coded band"): at 24 kbps 48 kHz speech went from PESQ-WB 1.19-1.37 to
    # 2.2-3.2, as good as the same clips coded at 16 kHz. Frequency nodes make the band from 4 to 8 kHz cheap
    # (12 nodes), so 8 kHz is now coded only under 4 kbps ("Frequency nodes": coded at 16 kHz instead of 8,
    # the 7 dev clips score PESQ-WB 3.27 against 2.67 at 12 kbps and 2.48 against 2.15 at 6, 1.32 against 1.45 at 3).
    narrow: tuple[tuple[float, int], ...] = ((4_000, 8_000), (32_000, 16_000))
    # Files with more channels keep the full band: the 8 dev music clips (stereo) coded narrower score lower by
    # Zimtohrli as well as by LSD: 2.22 against 2.74 at 24 kbps, 3.58 against 3.88 at 48 (bench/RESULTS.md).
    narrow_channels: int = 1
    # The fit weighs each cell's squared log error by exp(loudness_weight * t), t its standardized log-magnitude
    # (normalized to mean 1 a segment): loud cells, which are what is heard, count more than those near the
    # floor, which L2 on log-magnitudes otherwise weighs alike. Measured (bench/RESULTS.md, "Loudness-weighted
    # fit": 7 dev speech clips, seeds 0 and 1; 8 music clips): 0 -> 0.4 took speech PESQ-WB from 2.68 to 3.04
    # at 24 kbps, 2.10 to 2.22 at 12, 1.43 to 1.62 at 6, and music Zimtohrli at 64 kbps from 4.05 to 4.10.
    # 0.6 does better at 12 kbps (2.28) and worse on music (3.95); 0.2 worse at 24 kbps (2.92).
    loudness_weight: float = 0.4
    # The networks code the audio scaled to this RMS (format version 6's gain, in steps of 2**(1/8)): the fixed log
    # floor (codec/spectrum.py) then sits at the same depth under every file's level, so a recording's level no
    # longer changes what is coded (bench/RESULTS.md, "Stability", "After format version 6's gain": the -40 dBFS
    # penalty went from 0.20 to 0.07 PESQ-WB). -20 and -26 dBFS tied (3.02, 3.03); -14 and -32 scored lower.
    level_dbfs: float | None = -23.0  # None: code the audio at its own level (gain 0, as before version 6)
    # How the decoder rebuilds phase (format versions 5 and 7): a phase-gradient (PGHI) start, then fast Griffin-Lim
    # iterations that may move each magnitude by up to `slack`/64 natural-log units from the network's: its errors
    # are not those of any signal, and holding the search to them costs quality. Measured on the same weights
    # (bench/RESULTS.md, "Where the rest is lost, and slack"; 7 dev speech clips, 8 stereo music clips): mono
    # speech at 24 kbps scores PESQ-WB 3.16 after 4 iterations, 3.14 after 8, 3.26 after 8 with slack 10 (worst
    # clip 2.62, 2.79, 2.75) and 3.29 after 16 with slack 10, at 252x, 188x, 149x and 81x real time; at 12 kbps
    # 2.34, 2.34, 2.39 and 2.39. Slack 6 and 16 scored 3.24 and 3.22. On music slack does nothing for Zimtohrli
    # (4.11 without, 4.08 with, after 1 iteration), and each stereo iteration costs twice a mono one, so files with
    # more channels get 1 and no slack. Once the iterations were vectorized ("Decode speed after the vectorized
    # iteration"), 4, 6 and 8 with slack 10 scored 3.25, 3.26 and 3.26 (worst 2.79, 2.78, 2.79; 12 kbps 2.40,
    # 2.40, 2.41) at 386x, 323x and 276x. On version-8 files ("Four mono iterations"; the 7 dev clips and the six
    # clean VCTK originals of noisy/, which no tuning used), 4 against 6 scored 3.75 / 3.40 against 3.76 / 3.38 at
    # 24 kbps, 3.18 / 3.00 against 3.22 / 3.03 at 12 and 2.39 / 2.23 against 2.40 / 2.24 at 6, and decoded 16 kHz
    # speech at 387-403x against 316-323x: 4 keeps issue 14's 300x on every 16 kHz clip, for 0.03 at 12 kbps.
    # The networks output log-magnitudes at frequency nodes spaced floor(p / q) bins apart above bin 2q, and the
    # decoder interpolates them to the bins (format version 8, codec/frequency.py): the output layer, most of the
    # weights, shrinks and the network widens at the same rate (bench/RESULTS.md, "Frequency nodes"). On the 7 dev
    # speech clips at 24 kbps, PESQ-WB went from 3.26 to 3.74 (worst clip 2.78 to 3.15) with q = 16 (8: 3.39,
    # 32: 3.65); on the 8 music clips at 64 kbps, Zimtohrli from 4.12 to 4.40 (worst 3.75 to 4.14) with q = 32
    # (16: 4.36). q = 16 was also best at 6 and 12 kbps.
    frequency_q: int = 16
    multichannel_frequency_q: int = 32
    phase_start: int = phase.PGHI
    phase_iterations: int = 4
    multichannel_phase_iterations: int = 1
    slack: int = 10
    multichannel_slack: int = 0

    name = "spectral"
    summary = "codes the spectrum: best perceived quality per bit, waveform not kept"
    # Measured (bench/RESULTS.md, "Effort"): the fit is step-limited, so each mode takes the steps it can afford
    # near 1x real time on 2 cores: 1000 for stereo music, more where a network outputs at most 257 rows (mono
    # coded at 16 kHz or below; 2000 gave +0.18 PESQ-WB on dev speech at 24 kbps over 1000). Larger learning rates
    # tie. With frequency nodes the networks are wider and each step dearer, and mono speech fits as well in 1500
    # steps (7 dev clips, PESQ-WB at 24 / 12 / 6 kbps: 3.75 / 3.24 / 2.42 against 3.74 / 3.27 / 2.48 at 2000) in
    # three quarters of the time ("Frequency nodes"). Music at 700 steps lost 0.05 Zimtohrli, so it keeps 1000.
    fit = FitConfig(iterations=1000, lr=0.01, light_rows=257, light_iterations=1500)
    center = True  # log-magnitudes sit far from 0
    # A silent segment is the floor everywhere; one unit of log below it, bias rounding cannot lift
    # its magnitudes above 0, so silence decodes to exact zeros as in waveform mode.
    silent_bias = -1.0
    denoiser = "explain"  # the noise model fits magnitudes: ln(sqrt(S² + P_n) + eps)
    limits_peak = True  # rebuilt phases can line up into peaks far above the original's

    measure = "fit LSD {:.2f} (loudness-weighted)"  # the waveform's SNR means nothing where phase is rebuilt

    def fit_measure(self, relative_error: float, scale: np.ndarray) -> float:
        """The fit's RMS log-spectral error in the units of codec.metrics.lsd (log10 power), each cell weighed as
        fit_weight weighs it: 2 / ln 10 times the RMS natural-log magnitude error, exact for one segment."""
        return float(2 / np.log(10) * np.sqrt(relative_error * np.mean(np.square(scale))))

    def fit_weight(self, target: np.ndarray, mask: np.ndarray) -> np.ndarray:
        weight = np.exp(np.float32(self.loudness_weight) * target) * mask[:, None, :]
        valid = target.shape[1] * mask.sum(axis=1)
        return weight * (valid / np.maximum(weight.sum(axis=(1, 2)), 1e-30))[:, None, None]

    def owns(self, synthesis: int) -> bool:
        return synthesis in SPECTRAL_SYNTHESIS

    def synthesis(self, sample_rate: int) -> int:
        """log2 of the STFT size: ~40 ms frames (512 points at 16 kHz, 1024 at 44.1 and 48 kHz)."""
        s = math.floor(math.log2(sample_rate * self.frame_seconds))
        return min(max(s, SPECTRAL_SYNTHESIS.start), SPECTRAL_SYNTHESIS.stop - 1)

    def max_bitrate(self, sample_rate: int, channels: int) -> float:
        return min(super().max_bitrate(sample_rate, channels), self.max_bits_per_sample * sample_rate * channels)

    def phase_search(self, channels: int = 1, iterations: int | None = None) -> PhaseSearch:
        mono = channels == 1
        default = self.phase_iterations if mono else self.multichannel_phase_iterations
        count = default if iterations is None else iterations
        slack = (self.slack if mono else self.multichannel_slack) if count else 0  # it acts only through iterations
        return self.phase_start, count, slack

    def gain(self, audio: np.ndarray) -> int:
        """The steps of 2**(1/8) that take the audio's RMS (less each channel's mean: DC is not heard) to
        level_dbfs, fewer where its peak would pass 1."""
        audio = audio.astype(np.float64)
        rms = math.sqrt(float(np.square(audio - audio.mean(axis=0)).mean()))
        peak = float(np.abs(audio).max(initial=0.0))
        if rms == 0 or self.level_dbfs is None:  # rms 0: digital silence (or DC), no level to take anywhere
            return 0
        steps = round(GAIN_STEPS_PER_OCTAVE * (math.log2(rms) - self.level_dbfs / (20 * math.log10(2))))
        steps = max(steps, math.ceil(GAIN_STEPS_PER_OCTAVE * math.log2(peak)))
        low, high = V6_FIELDS[0][2:]
        return min(max(steps, low), high)

    def rate_divisor(self, bitrate: float, sample_rate: int, channels: int) -> int:
        if channels > self.narrow_channels:
            return 1
        coded = next((rate for below, rate in self.narrow if bitrate / channels < below), sample_rate)
        whole = [d for d in range(1, MAX_RATE_DIVISOR + 1) if not sample_rate % d]
        return max(d for d in whole if sample_rate // d >= min(coded, sample_rate))

    def shape(self, bitrate: float, sample_rate: int, channels: int, frames: int) -> Shape:
        """Segments as long as the format allows (up to max_segment frames), then the widest
        network whose weights fit each segment's share of the bits."""
        bitrate = min(bitrate, self.max_bitrate(sample_rate, channels))
        synthesis, depth = self.synthesis(sample_rate), self.depth
        multiple, rows = ladder.granule(depth), output_rows(channels, synthesis)
        q = self.frequency_q if channels == 1 else self.multichannel_frequency_q
        stored = Nodes(channels, rows // channels, q).rows  # the output layer's rows: channels x K
        positions = spectrum.frame_count(frames, 1 << synthesis)
        longest = min(self.max_segment, MAX_SPECTRAL_SEGMENT // rows) // multiple * multiple
        if positions <= longest:
            count, length, overlap = 1, max(MIN_SPECTRAL_SEGMENT, ladder.round_up(positions, multiple)), 0
        else:
            count = -(-(positions * ladder.OVERLAP_FRACTION - longest) // (longest * (ladder.OVERLAP_FRACTION - 1)))
            length = min(longest, ladder.stretched_length(positions, count, multiple))
            overlap = length // ladder.OVERLAP_FRACTION
        bits = (bitrate * frames / sample_rate - 8 * ladder.SMALL_OVERHEAD_BYTES) / count
        width = ladder.MIN_WIDTH
        while width < self.max_width and ladder.segment_cost(width + 1, depth, stored, self.bits_per_weight) <= bits:
            width += 1
        return Shape(width, depth, length, overlap, synthesis, q)

    def signal(self, audio: np.ndarray, shape: Shape, workers: int) -> np.ndarray:
        return spectrum.analyze(audio, 1 << shape.synthesis, workers)

    def values_per_segment(self, header: Header) -> int:
        return 8 * header.rows * header.segment_length  # a segment's phase search holds ~8 arrays of its size

    def blocks(self, header: Header, runs: Iterable[np.ndarray], workers: int) -> Iterator[np.ndarray]:
        """Log-magnitude runs (n, rows, L) -> audio blocks (formats/ddc.md §7).

        Segments are processed in order because each one starts its phase search from the
        frames it shares with the previous one; that keeps phase continuous across joins.
        Memory is one segment's frames plus three hops of pending overlap-add.
        """
        n_fft, channels, length = header.n_fft, header.channels, header.segment_length
        hop, bins = n_fft // spectrum.OVERLAP_FACTOR, header.rows // channels
        overlap, fade = header.overlap, crossfade(header.overlap)[:, None]
        stride = length - overlap
        shared = np.zeros((channels, 0, bins), np.complex128)  # previous segment's last `overlap` frames
        carry = np.zeros((channels, (spectrum.OVERLAP_FACTOR - 1) * hop))  # overlap-add tail missing frames
        skip, left, index = n_fft - hop, header.coded_frames, 0  # the first N - hop samples are leading padding
        for run in runs:
            for y in run:
                log_magnitude = y.reshape(channels, bins, length).transpose(0, 2, 1)
                valid = max(0, header.positions - index * stride)  # frames past the end are padding
                spectra = phase.rebuild(
                    log_magnitude,
                    valid,
                    header.phase,
                    header.phase_iterations,
                    header.seed,
                    index,
                    shared,
                    workers,
                    header.slack,
                )
                last = index == header.segments - 1
                emit = spectra[:, : length if last else stride].copy()
                if index > 0:
                    emit[:, :overlap] = (1.0 - fade) * shared + fade * spectra[:, :overlap]
                shared = spectra[:, stride:]
                samples = spectrum.istft(emit, n_fft, workers)
                samples[:, : carry.shape[1]] += carry
                done = samples.shape[1] - carry.shape[1]
                out, carry = samples[:, :done], samples[:, done:]
                if last:
                    out = samples
                drop = min(skip, out.shape[1])
                skip -= drop
                block = out[:, drop:].T[:left].astype(np.float32)
                left -= len(block)
                index += 1
                yield block

    def describe(self, header: Header) -> str:
        band = f", coded at {header.coded_rate} Hz" if header.rate_divisor > 1 else ""
        band += f", {header.nodes.count} frequency nodes at q {header.frequency_q}" if header.frequency_q else ""
        search = f"{phase.STARTS[header.phase].name} phase + {header.phase_iterations} iterations"
        search += f" with slack {header.phase_slack}/64" if header.phase_slack else ""
        return f"spectral ({header.n_fft}-point STFT{band}, {search})"
