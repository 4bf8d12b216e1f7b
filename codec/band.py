"""The band the encoder codes: under --band auto, the mode's narrower band for the bitrate, unless the input
carries content above it that the narrowing would drop; under --band full, every frequency.

The rate alone chose the band before, and fullband speech lost its top octaves: at 24 kbps tcd_CA01_01_48k scored
Zimtohrli 3.32 coded at 16 kHz against 4.49 at 48 kHz, and the full band won at 6 and 12 kbps too (3.09 against
2.77, 4.14 against 3.23). The 48 kHz lyra clips, 16 kHz recordings resampled, hold -39 and -70 dB above the narrow
band and score better narrowed (4.21 against 4.05 at 24 kbps); bench/RESULTS.md, "Coded band".

The content is measured above the narrow rate's Nyquist frequency, not the band's edge a little below it: a
recording made at that rate holds nothing there (the lyra clips: -79 dB) and may hold much just under it (-39 dB
above the edge); tcd_CA01_01_48k holds -17 dB.
"""

import numpy as np

from codec import resample
from codec.modes import Mode

# The most of the input's energy above the narrow rate's Nyquist frequency that the narrowing may drop: -30 dB,
# far from both the fullband clip (-17 dB) and the resampled ones (-79 dB).
MAX_DROPPED = 1e-3


def rate_divisor(audio: np.ndarray, sample_rate: int, bitrate: float, mode: Mode, band: str) -> int:
    """D: the audio is coded at sample_rate / D (formats/ddc.md §8). audio: (frames, channels)."""
    if band == "full":
        return 1
    narrowed = mode.rate_divisor(bitrate, sample_rate, audio.shape[1])
    if narrowed > 1 and resample.energy_above_band(audio, narrowed, edge=1.0) > MAX_DROPPED:
        return 1
    return narrowed
