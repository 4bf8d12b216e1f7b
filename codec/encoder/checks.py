"""Audio the encoder is given: validated once, as (frames, channels) float32."""

import numpy as np

from codec.bitstream import FIELDS, MAX_OUTPUT_SAMPLES
from codec.errors import AudioError

_LIMITS = {name: (low, high) for name, _, low, high in FIELDS}


def check_audio(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """Validate samples and return them as (frames, channels) float32; raise AudioError naming the problem."""
    audio = np.asarray(audio)
    if audio.ndim == 1:
        audio = audio[:, None]
    if audio.ndim != 2:
        raise AudioError(f"audio must be (frames,) or (frames, channels), got shape {audio.shape}")
    if not np.issubdtype(audio.dtype, np.floating):
        raise AudioError(f"audio must be floating point in [-1, 1], got {audio.dtype}")
    for name, value in (("sample_rate", sample_rate), ("channels", audio.shape[1])):
        low, high = _LIMITS[name]
        if not low <= value <= high:
            raise AudioError(f"{name} {value} is not supported (allowed {low}..{high})")
    if audio.shape[0] == 0:
        raise AudioError("audio is empty")
    if audio.size > MAX_OUTPUT_SAMPLES:
        raise AudioError(f"audio has {audio.size} samples, more than the format's {MAX_OUTPUT_SAMPLES}")
    if not np.isfinite(audio).all():
        raise AudioError("audio contains NaN or infinite samples")
    return audio.astype(np.float32, copy=False)
