"""What an encode can be asked: EncodeOptions, the one place every default lives.

The CLI builds an EncodeOptions from its flags and takes its defaults from here.
"""

import dataclasses
from dataclasses import dataclass

from codec import modes, threads
from codec.bitstream import MAX_PHASE_ITERATIONS, MAX_SEED
from codec.modes import FitConfig
from codec.restore import Damage

DEVICES = ("auto", "cpu", "cuda")  # auto: CUDA when torch sees one, else the CPU
DENOISE = ("auto", "off", "speech")
MAX_EFFORT = 64.0
BANDS = ("auto", "full")  # auto: a narrower band at low bitrates where the input has no content above it (codec.band)


@dataclass(frozen=True)
class EncodeOptions:
    """How to encode. Invalid values raise ValueError naming the value and what is allowed.

    bitrate : target bits per second of audio, header included; the file lands at or just
        under it unless the clip is too short for the smallest network. Each mode stops
        growing at its own ceiling (16-bit PCM's rate at most).
    mode : a name in codec.modes.MODES (README "Modes"): "spectral" codes log-magnitude
        spectra and rebuilds phase at decode; "waveform" codes the samples.
    seed : seeds the network input and initialization (stored in the file).
    device : where to fit: "auto" (CUDA when torch sees a GPU, else the CPU), "cpu" or "cuda".
    iterations : fit steps; None for the mode's default (FitConfig.steps: more is slower and, up to a point, better).
    effort : the fit's steps as a multiple of the default (1): 2 takes about twice as long for a little more
        quality (bench/RESULTS.md, "Effort"). Give effort or iterations, not both.
    threads : threads to compute with (torch, BLAS, OpenMP, the FFTs); None for $DDCODEC_THREADS, else 1
        (codec.threads: measured fastest, and it shares the cores with other processes).
    denoise : "auto" removes stationary background noise the encoder detects (input it finds
        clean, 20 dB SNR or more, is coded as with "off"); "off" keeps
        everything, noise included. Off by default: the detector also takes sustained music
        for noise (bench/RESULTS.md, "Denoising"), so auto is for speech. "speech" runs a learned
        speech denoiser (DeepFilterNet3, codec.speech_denoise; the extra `denoise`) on the audio
        before the fit, so the file holds only the speech; not for music, which it dulls.
    band : "auto" lets the mode code a narrower band where the bitrate is too low for the full
        one (spectral mode, mono files under 32 kbps: 48 kHz audio is coded at 16 kHz, i.e. up to
        about 7.2 kHz, and played back at 48 kHz), unless the input carries content above that rate's
        Nyquist frequency (codec.band); "full" always codes every frequency.
    phase_iterations : spectral mode: the fast Griffin-Lim iterations the decoder runs after its
        phase-gradient start (0 to 64, stored in the file); None for the mode's default. Fewer
        decode faster, more rebuild the phase closer to the magnitudes (bench/RESULTS.md, "Phase").
    restore : damage to repair before coding (codec.restore.Damage: dropouts, clicks, stretches in seconds); the
        file then holds the restored audio. Default: none.
    """

    bitrate: float = 24_000
    mode: str = modes.DEFAULT
    seed: int = 0
    device: str = "auto"
    iterations: int | None = None
    effort: float = 1.0
    threads: int | None = None
    denoise: str = "off"
    band: str = "auto"
    phase_iterations: int | None = None
    restore: Damage = Damage()  # noqa: RUF009 - frozen, so one shared default is safe

    def __post_init__(self) -> None:
        modes.get(self.mode)
        if not self.bitrate > 0:
            raise ValueError(f"bitrate must be positive, got {self.bitrate}")
        if not 0 <= self.seed <= MAX_SEED:
            raise ValueError(f"seed must be in [0, {MAX_SEED}], got {self.seed}")
        if self.device not in DEVICES:
            raise ValueError(f"device must be one of {', '.join(DEVICES)}, got {self.device!r}")
        if self.iterations is not None and self.iterations < 1:
            raise ValueError(f"iterations must be at least 1, got {self.iterations}")
        if not 0 < self.effort <= MAX_EFFORT:
            raise ValueError(f"effort must be in (0, {MAX_EFFORT:g}], got {self.effort:g}")
        if self.iterations is not None and self.effort != 1:
            raise ValueError(f"give effort or iterations, not both (got effort {self.effort:g})")
        threads.check(self.threads)
        if self.denoise not in DENOISE:
            raise ValueError(f"denoise must be one of {', '.join(DENOISE)}, got {self.denoise!r}")
        if self.band not in BANDS:
            raise ValueError(f"band must be one of {', '.join(BANDS)}, got {self.band!r}")
        if self.phase_iterations is not None and not 0 <= self.phase_iterations <= MAX_PHASE_ITERATIONS:
            raise ValueError(f"phase_iterations must be in [0, {MAX_PHASE_ITERATIONS}], got {self.phase_iterations}")

    def fit_config(self, rows: int, mode: modes.Mode | None = None) -> FitConfig:
        """The mode's default fit (options.mode's unless given) for networks of `rows` output rows, with these
        options' iterations (or effort) and device."""
        fit = (mode or modes.get(self.mode)).fit
        return dataclasses.replace(fit, iterations=self.iterations or fit.steps(rows, self.effort), device=self.device)
