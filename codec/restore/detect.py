"""Where audio is damaged: dropouts (runs of digital silence inside sound), clicks, and stretches a user names.

Each finder returns a (frames,) bool array, True where a sample is not to be trusted.
"""

import math

import numpy as np
from scipy import ndimage

from codec.errors import SettingError
from codec.restore import autoregressive
from codec.restore.runs import runs

MIN_GAP_S = 0.002  # shorter runs of exact zeros happen in quiet 16-bit audio
MAX_GAP_S = 0.25  # a longer silence is a pause, not a dropout: left alone
NEIGHBOUR_S = 0.01  # a dropout is silence between sound: both sides this long must be above
# "Sound" is an RMS above ACTIVE_DBFS, or above ACTIVE_BELOW_DB under the file's RMS where that is lower: in a
# quiet recording (tcd_CA01_01_48k, -31 dBFS) 8 of 31 dropouts had a side under -60 dBFS (speech fading into them)
# and were left silent.
ACTIVE_DBFS = -60.0
ACTIVE_BELOW_DB = 45.0

CLICK_ORDER_S = 0.002  # the click detector's linear predictor spans 2 ms (32 taps at 16 kHz)
CLICK_BLOCK_S = 0.05  # a predictor is fitted per block this long
# Measured on the dev corpus with the clicks of bench/restore.py: 96 % of clicks found, 0.23 % of the other samples
# flagged (without the isolation test: 96 % at threshold 15, with 0.62 % flagged).
CLICK_THRESHOLD = 10.0
CLICK_ISOLATION = 2.0
CLICK_CONTEXT_S = 0.015
CLICK_FLOOR_DB = -50.0  # a block's scale is at least this far below the channel's RMS: a tone predicts itself
CLICK_PAD_S = 0.0005  # a flagged sample's neighbours this close are refilled too
# A flagged run after which the RMS over ONSET_WINDOW_S (from ONSET_GUARD_S past its end) is more than ONSET_RATIO
# times that before it is an onset (a castanet's hit), not a click. Measured with bench/restore.py's clicks on every
# dev clip: castanets' LSD after --clicks went from 0.451 to 0.230 (0.298 left alone) and flagged samples of the
# clean music clips from 0.43 % to 0.20 %, clicks found from 96-97 % to 94 %; ratio 2 found only 90 % in speech.
ONSET_RATIO = 3.0
ONSET_WINDOW_S = 0.005
ONSET_GUARD_S = 0.001


def gaps(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """Dropouts: runs of samples that are exactly 0 in every channel, MIN_GAP_S to MAX_GAP_S long, with sound
    (see ACTIVE_BELOW_DB, over NEIGHBOUR_S) on both sides. Silence at the ends, and long pauses, are not gaps."""
    silent = ~np.any(audio != 0, axis=1)
    found = np.zeros(len(audio), bool)
    side = max(1, round(NEIGHBOUR_S * sample_rate))
    floor = min(10 ** (ACTIVE_DBFS / 20), _rms(audio) * 10 ** (-ACTIVE_BELOW_DB / 20))
    for start, stop in runs(silent):
        if not MIN_GAP_S * sample_rate <= stop - start <= MAX_GAP_S * sample_rate:
            continue
        before, after = audio[max(0, start - side) : start], audio[stop : stop + side]
        if len(before) and len(after) and min(_rms(before), _rms(after)) > floor:
            found[start:stop] = True
    return found


def _rms(x: np.ndarray) -> float:
    """RMS over all of x, a block at a time (no float64 copy of a whole file)."""
    flat = np.ravel(x)
    if not len(flat):
        return 0.0
    step = 1 << 20
    total = sum(
        float(np.dot(part, part)) for part in (flat[i : i + step].astype(np.float64) for i in range(0, len(flat), step))
    )
    return float(np.sqrt(total / len(flat)))


CLICK_CHUNK_BLOCKS = 200  # the finder goes this many predictor blocks (10 s) at a time: memory follows the chunk


def clicks(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """Clicks: samples that a short linear predictor, fitted block by block, misses by more than CLICK_THRESHOLD
    robust standard deviations of that block's residual and by CLICK_ISOLATION times the largest miss in the
    CLICK_CONTEXT_S either side (voiced speech misses its pitch pulses too, but each like its neighbours); and
    their neighbours within CLICK_PAD_S; but not where a louder sound starts (_without_onsets). The file's first
    samples, which have no past to be predicted from, are never clicks."""
    order = max(4, round(CLICK_ORDER_S * sample_rate))
    block = max(4 * order, round(CLICK_BLOCK_S * sample_rate))
    far = 2 * order + round(CLICK_CONTEXT_S * sample_rate)
    span = CLICK_CHUNK_BLOCKS * block
    margin = (-(-far // block) + 1) * block  # whole blocks: a chunk's blocks are the file's, read as they would be
    found = np.zeros(len(audio), bool)
    for c in range(audio.shape[1]):
        floor = 10 ** (CLICK_FLOOR_DB / 20) * _rms(audio[:, c])
        for start in range(0, len(audio), span):
            lo, hi = max(0, start - margin), min(len(audio), start + span + margin)
            chunk = _clicks_in(np.asarray(audio[lo:hi, c], np.float64), lo > 0, order, block, far, floor)
            found[start : start + span] |= chunk[start - lo : start - lo + span]
    found[:order] = False
    pad = round(CLICK_PAD_S * sample_rate)
    if pad and found.any():
        found = ndimage.maximum_filter1d(found, 2 * pad + 1)
    return _without_onsets(audio, found, sample_rate)


def _clicks_in(x: np.ndarray, has_past: bool, order: int, block: int, far: int, floor: float) -> np.ndarray:
    """The click test on a stretch of one channel whose first block, if `has_past`, only gives context."""
    near = 2 * order
    size, scale = np.zeros(len(x)), np.zeros(len(x))
    for start in range(block if has_past else 0, len(x), block):
        size[start : start + block], scale[start : start + block] = _residual(x, start, block, order)
    half = (far - near) // 2
    widest = ndimage.maximum_filter1d(size, 2 * half + 1, mode="constant")
    padded = np.pad(widest, near + half)
    neighbours = np.maximum(padded[: len(x)], padded[2 * (near + half) :])
    scale = np.maximum(scale, floor)
    return (size > CLICK_THRESHOLD * scale) & (size > CLICK_ISOLATION * neighbours)


def _without_onsets(audio: np.ndarray, found: np.ndarray, sample_rate: int) -> np.ndarray:
    """found with the runs that start a louder sound (ONSET_RATIO) cleared."""
    window, guard = round(ONSET_WINDOW_S * sample_rate), round(ONSET_GUARD_S * sample_rate)
    kept = found.copy()
    for start, stop in runs(found):
        before = audio[max(0, start - guard - window) : max(0, start - guard)]
        after = audio[stop + guard : stop + guard + window]
        if len(before) and len(after) and _rms(after) > ONSET_RATIO * _rms(before):
            kept[start:stop] = False
    return kept


def _residual(x: np.ndarray, start: int, block: int, order: int) -> tuple[np.ndarray, float]:
    """|residual| of x[start : start + block] under the block's own predictor, and its robust scale (0: none)."""
    from scipy import signal  # here, not at the top: `import codec` should not pay its 0.6 s

    context = x[max(0, start - order) : start + block]
    lead = start - max(0, start - order)
    a = autoregressive.predictor(context, order, 1e-9)
    if a is None:
        return np.zeros(len(context) - lead), 0.0
    residual = np.abs(signal.lfilter(a, [1.0], context)[lead:])
    return residual, 1.4826 * float(np.median(residual))


def mask_stretches(text: str) -> list[tuple[float, float]]:
    """'START-END,...' in seconds -> [(start, end), ...]; SettingError naming a stretch that is not 0 <= START < END.
    Checked when the options are made, so a malformed mask is bad usage before any audio is read."""
    stretches = []
    for part in text.split(","):
        start_s, sep, stop_s = part.strip().partition("-")
        try:
            start, stop = float(start_s), float(stop_s)
        except ValueError:
            raise SettingError(f"--mask stretch {part.strip()!r} is not START-END in seconds") from None
        if not sep or not (math.isfinite(start) and math.isfinite(stop)) or not 0 <= start < stop:
            raise SettingError(f"--mask stretch {part.strip()!r} needs 0 <= START < END")
        stretches.append((start, stop))
    return stretches


def parse_mask(text: str, sample_rate: int, frames: int) -> np.ndarray:
    """'START-END,...' in seconds -> a (frames,) bool mask; SettingError naming a bad or empty stretch."""
    found = np.zeros(frames, bool)
    for start, stop in mask_stretches(text):
        first, last = round(start * sample_rate), min(frames, round(stop * sample_rate))
        if first >= last:
            raise SettingError(
                f"--mask stretch {start:g}-{stop:g} lies beyond the audio ({frames / sample_rate:.3f} s)"
            )
        found[first:last] = True
    return found
