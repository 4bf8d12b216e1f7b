"""Fill runs of unknown samples from their surroundings, blending two fillers per run by trying them on known audio.

Two fillers are registered in FILLERS: Janssen's autoregressive interpolation (codec/restore/autoregressive.py),
the stronger on the mean, and the spectral filler (codec/restore/inpaint.py), which fails less badly where the
signal is not predictable. For each run up to SHORT_RUN_S long, both also fill two stand-ins of the same length
one run away on either side, whose samples are known, and each blend in BLENDS of the two fills is scored there.
The run gets the blend with the least squared error among those whose log-spectral distance is no worse than the
first filler's alone: squared error alone favours quiet fills, which lose a dropout's spectrum. Whatever the
blend, a run's last EDGE_S at either end leans on Janssen's fill: the spectral filler meets the known samples
with a kink that splashes energy over the empty band of band-limited audio (48 kHz speech with nothing above
8 kHz: 15-35 dB too much there). Over 20 and 50 ms dropouts in every dev clip (bench/RESULTS.md, "Restoration")
the blend with those ends has an LSD at or under Janssen's alone on every clip and a higher SNR on every mean.
Longer runs, where Janssen's cost grows with the square of the run, get the spectral filler, and Janssen's
only for their last EDGE_S at either end.
"""

from collections.abc import Callable

import numpy as np

from codec import metrics
from codec.restore import autoregressive, inpaint
from codec.restore.runs import Step, fft_size, runs

Filler = Callable[[np.ndarray, np.ndarray, int], np.ndarray]  # (audio (frames, C), unknown (frames,), rate) -> audio

FILLERS: dict[str, Filler] = {"autoregressive": autoregressive.janssen, "spectral": inpaint.fill}
SHORT_RUN_S = 0.1
BLOCK_S = 10.0  # runs are filled this much audio at a time, with their reach around it: memory follows the block
BLENDS = (1.0, 0.75, 0.5, 0.25, 0.0)  # the first filler's weight in a run's fill; the second's is 1 - weight
EDGE_S = 0.004  # ... but for the run's ends, where the first's weight rises to 1 (_blend)


def fill(audio: np.ndarray, unknown: np.ndarray, sample_rate: int, step: Step | None = None) -> np.ndarray:
    """(frames, C) audio with the samples where `unknown` (frames,) is True filled in, the rest unchanged.

    The runs go in groups spanning at most BLOCK_S (a longer run alone), each filled in the audio within `_reach`
    of it: every sample a filler or a stand-in reads. So the working memory is a block's, whatever the file's
    length. `step` hears of each group done."""
    out = np.array(audio)
    reach = _reach(sample_rate)
    spans = runs(unknown)
    groups = _groups(spans, BLOCK_S * sample_rate)
    for done, group in enumerate(groups, 1):
        lo, hi = max(0, group[0][0] - reach), min(len(audio), group[-1][1] + reach)
        filled = _fill_block(audio[lo:hi], unknown[lo:hi], sample_rate)
        for a, b in group:
            out[a:b] = filled[a - lo : b - lo]
        if step is not None:
            step(done, len(groups), group[-1][1])
    return out


def _reach(sample_rate: int) -> int:
    """How far from a run its fill reads: the farther stand-in (two runs away) and, around that, Janssen's
    context (twice its order), the spectral filler's window (four STFT lengths) and the LSD window."""
    longest = round(SHORT_RUN_S * sample_rate)
    n_fft = fft_size(sample_rate, inpaint.FILL_WINDOW_S)
    return 2 * longest + 2 * autoregressive.MAX_ORDER + 4 * n_fft + metrics.LSD_WINDOW


def _groups(spans: list[tuple[int, int]], block: float) -> list[list[tuple[int, int]]]:
    """Consecutive runs, grouped so that a group spans at most `block` samples (or is one run)."""
    groups: list[list[tuple[int, int]]] = []
    for span in spans:
        if groups and span[1] - groups[-1][0][0] <= block:
            groups[-1].append(span)
        else:
            groups.append([span])
    return groups


def _fill_block(audio: np.ndarray, unknown: np.ndarray, sample_rate: int) -> np.ndarray:
    x = np.where(unknown[:, None], 0.0, np.asarray(audio, np.float64))
    spans = runs(unknown)
    short = [(a, b) for a, b in spans if b - a <= SHORT_RUN_S * sample_rate]
    out = x.copy()
    edge = round(EDGE_S * sample_rate)
    if short:
        mask = _mask(short, len(x))
        first, second = (filler(x, mask, sample_rate) for filler in FILLERS.values())
        for (a, b), weight in zip(short, _blends(x, mask, short, sample_rate, edge), strict=True):
            out[a:b] = _blend(first[a:b], second[a:b], weight, edge)
    long = [(a, b) for a, b in spans if b - a > SHORT_RUN_S * sample_rate]
    if long:
        out = FILLERS["spectral"](out, _mask(long, len(x)), sample_rate)
        # Janssen's alone would cost the square of the run; on its ends, with the spectral fill inside as
        # context, it removes their splash (200 ms dropouts: LSD 0.714 -> 0.679 on speech, 0.571 -> 0.509 music)
        ends = [(a, a + edge) for a, _ in long] + [(b - edge, b) for _, b in long]
        out = FILLERS["autoregressive"](out, _mask(ends, len(x)), sample_rate)
    return out.astype(np.asarray(audio).dtype)


def _blend(first: np.ndarray, second: np.ndarray, weight: float, edge: int) -> np.ndarray:
    """weight * first + (1 - weight) * second over a run (length, C), the first's weight rising to 1 over `edge`
    samples at either end (raised cosine): the spectral filler's ends meet the known samples with a kink whose
    splash of high frequencies Janssen's do not have."""
    length = len(first)
    k = min(edge, length // 2)
    profile = np.full(length, weight)
    ramp = 0.5 + 0.5 * np.cos(np.pi * (np.arange(k) + 0.5) / k)  # towards 1 at the run's end, towards 0 inside
    profile[:k] = weight + (1 - weight) * ramp
    profile[length - k :] = weight + (1 - weight) * ramp[::-1]
    return profile[:, None] * first + (1 - profile[:, None]) * second


def _mask(spans: list[tuple[int, int]], frames: int) -> np.ndarray:
    mask = np.zeros(frames, bool)
    for a, b in spans:
        mask[a:b] = True
    return mask


def _blends(
    x: np.ndarray, unknown: np.ndarray, spans: list[tuple[int, int]], sample_rate: int, edge: int
) -> list[float]:
    """Per run, the weight in BLENDS that fills its stand-ins, [a - 2L, a - L) and [b + L, b + 2L) for a run [a, b)
    of length L, with the least squared error among those no worse than BLENDS[0] in LSD (codec.metrics, over the
    stand-in and half an LSD window either side), each blended as the run will be (_blend, `edge` samples of ends).
    Stand-ins must lie inside the audio and clear of unknown samples; they are filled with the runs, in one pass
    per side. A run with no stand-in gets BLENDS[0]."""
    error = np.zeros((len(spans), len(BLENDS)))
    distance = np.zeros((len(spans), len(BLENDS)))
    margin = metrics.LSD_WINDOW // 2
    for side in (-2, 1):
        trial = unknown.copy()
        placed = []
        for i, (a, b) in enumerate(spans):
            length = b - a
            start = a + side * length if side < 0 else b + length
            if start >= 0 and start + length <= len(x) and not unknown[start : start + length].any():
                trial[start : start + length] = True
                placed.append((i, start, start + length))
        if not placed:
            continue
        damaged = np.where(trial[:, None], 0.0, x)
        first, second = (filler(damaged, trial, sample_rate) for filler in FILLERS.values())
        for i, start, stop in placed:
            around = slice(max(0, start - margin), stop + margin)
            for k, weight in enumerate(BLENDS):
                blend = _blend(first[start:stop], second[start:stop], weight, edge)
                error[i, k] += float(np.sum((blend - x[start:stop]) ** 2))
                scored = x[around].copy()  # only the stand-in differs: other runs nearby are not known
                scored[start - around.start : stop - around.start] = blend
                distance[i, k] += metrics.lsd(x[around], scored)
    allowed = np.where(distance <= distance[:, :1], error, np.inf)
    return [BLENDS[k] for k in np.argmin(allowed, axis=1)]
