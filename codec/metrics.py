"""Quality of a decoded signal against its reference: SNR, SI-SDR, LSD, and PESQ/STOI/Zimtohrli/ViSQOL where installed.

    scores = score(reference, decoded, sample_rate)     # both (frames,) or (frames, channels)

Lossy codecs delay their output, so `score` first aligns the test signal to the
reference by cross-correlation (`align`), unless told the decoder adds no delay (ddcodec's
does not). PESQ (wide band) and STOI come from the optional `pesq` and `pystoi` packages,
Zimtohrli (a perceptual distance for any audio, music included) from `zimtohrli`, and ViSQOL's
audio mode (a second perceptual score for music) from `visqol-python` (`pip install -e '.[eval]'`);
without them, or where they cannot score a signal, their entries are None.
"""

import functools
import warnings

import numpy as np

LSD_WINDOW, LSD_HOP = 2048, 512
PESQ_RATE = 16000  # wide-band PESQ is defined at 16 kHz
ZIMTOHRLI_RATE = 48000  # the only rate Zimtohrli analyses
# zimtohrli 0.2.1 corrupts its heap and aborts the process on signals under about 4000 samples (seen at 3900,
# never at 4100); shorter clips get no score, with a margin.
ZIMTOHRLI_MIN_SECONDS = 0.25
VISQOL_RATE = 48000  # ViSQOL's audio mode is defined at 48 kHz
MAX_DELAY_S = 0.25  # the longest codec delay align() looks for
# align() shifts only where the best lag's normalized correlation reaches this. Codecs with a real delay reach
# 0.37 to 1.0 on the corpus (MP3's 1105 samples at 16 kHz: 0.57 on birdsong, 0.97+ on speech); a spectral
# decode, whose phase is rebuilt, peaks at 0.09 to 0.19 at lags of up to 25 ms that mean nothing, and
# shifting by them cost up to 0.16 PESQ-WB.
MIN_ALIGN_CORRELATION = 0.3


def _2d(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, np.float64)
    return x[:, None] if x.ndim == 1 else x


def snr_db(reference: np.ndarray, test: np.ndarray) -> float:
    """10 log10(|r|^2 / |r - t|^2) over all samples and channels."""
    r, t = _2d(reference), _2d(test)
    return float(10 * np.log10(np.sum(r**2) / max(np.sum((r - t) ** 2), 1e-30)))


def si_sdr_db(reference: np.ndarray, test: np.ndarray) -> float:
    """Scale-invariant SDR (Le Roux et al. 2019), zero-mean, over all channels."""
    r, t = _2d(reference), _2d(test)
    r, t = r - r.mean(axis=0), t - t.mean(axis=0)
    target = np.sum(t * r) / max(np.sum(r**2), 1e-30) * r
    return float(10 * np.log10(max(np.sum(target**2), 1e-30) / max(np.sum((t - target) ** 2), 1e-30)))


def _log_power(x: np.ndarray) -> np.ndarray:
    """(frames, bins) log10 power of a centred, reflect-padded STFT with a periodic Hann window."""
    from scipy import signal  # here, not at the top: `import codec` should not pay its 0.6 s

    if len(x) <= LSD_WINDOW // 2:
        x = np.pad(x, (0, LSD_WINDOW // 2 + 1 - len(x)))
    padded = np.pad(x, LSD_WINDOW // 2, mode="reflect")
    frames = np.lib.stride_tricks.sliding_window_view(padded, LSD_WINDOW)[::LSD_HOP]
    spectrum = np.fft.rfft(frames * signal.get_window("hann", LSD_WINDOW), axis=-1)
    return np.log10(np.abs(spectrum) ** 2 + 1e-10)


def lsd(reference: np.ndarray, test: np.ndarray) -> float:
    """Log-spectral distance: mean over frames of sqrt(mean over bins of (L_ref - L_test)^2), mean over channels."""
    r, t = _2d(reference), _2d(test)
    if r.shape != t.shape:
        raise ValueError(f"shapes differ: {r.shape} and {t.shape}")
    per_channel = [
        np.mean(np.sqrt(np.mean((_log_power(a) - _log_power(b)) ** 2, axis=-1))) for a, b in zip(r.T, t.T, strict=True)
    ]
    return float(np.mean(per_channel))


def align(reference: np.ndarray, test: np.ndarray, sample_rate: int) -> np.ndarray:
    """`test` shifted by the lag (up to MAX_DELAY_S) that best correlates it with `reference`, cut to its length;
    not shifted where even that lag correlates under MIN_ALIGN_CORRELATION (no waveform to line up)."""
    from scipy import signal  # here, not at the top: `import codec` should not pay its 0.6 s

    r, t = _2d(reference), _2d(test)
    limit = int(MAX_DELAY_S * sample_rate)
    r_sum, t_sum = r.sum(axis=1), t.sum(axis=1)
    corr = signal.correlate(t_sum, r_sum, mode="full", method="fft")
    lags = np.arange(-len(r) + 1, len(t))
    window = np.abs(lags) <= limit
    best = int(np.argmax(corr[window]))
    norms = np.linalg.norm(r_sum) * np.linalg.norm(t_sum)
    lag = int(lags[window][best]) if norms > 0 and corr[window][best] >= MIN_ALIGN_CORRELATION * norms else 0
    return _shifted(t, lag, len(r))


def _shifted(test: np.ndarray, lag: int, frames: int) -> np.ndarray:
    """(frames, C): `test` (2-D) from sample `lag` on (zeros first for a negative lag), cut or zero-padded."""
    shifted = test[lag:] if lag >= 0 else np.concatenate([np.zeros((-lag, test.shape[1])), test])
    out = np.zeros((frames, test.shape[1]))
    out[: min(frames, len(shifted))] = shifted[:frames]
    return out


def resample(x: np.ndarray, rate: int, new_rate: int) -> np.ndarray:
    """Polyphase resampling along time (exact ratio)."""
    from scipy import signal  # here, not at the top: `import codec` should not pay its 0.6 s

    if rate == new_rate:
        return np.asarray(x, np.float64)
    g = np.gcd(rate, new_rate)
    return signal.resample_poly(np.asarray(x, np.float64), new_rate // g, rate // g, axis=0)


def pesq_wb(reference: np.ndarray, test: np.ndarray, sample_rate: int) -> float | None:
    """Wide-band PESQ (MOS-LQO) of the channel mean at 16 kHz; None without `pesq` or when it cannot score."""
    try:
        from pesq import PesqError, pesq
    except ImportError:
        return None
    r = resample(_2d(reference).mean(axis=1), sample_rate, PESQ_RATE)
    t = resample(_2d(test).mean(axis=1), sample_rate, PESQ_RATE)
    try:
        return float(pesq(PESQ_RATE, r, t, "wb"))
    except PesqError:  # no utterance found, or too short
        return None


def zimtohrli_mos(reference: np.ndarray, test: np.ndarray, sample_rate: int) -> float | None:
    """Zimtohrli's MOS estimate (1 to 5) of the channels' mean distance, each channel resampled to 48 kHz; None
    without `zimtohrli` or for a clip under ZIMTOHRLI_MIN_SECONDS. A perceptual metric for music, where LSD
    punishes a low-pass more than listeners do."""
    if len(reference) < ZIMTOHRLI_MIN_SECONDS * sample_rate:
        return None
    try:
        import zimtohrli
    except ImportError:
        return None
    meter = zimtohrli.Pyohrli()
    r = resample(_2d(reference), sample_rate, ZIMTOHRLI_RATE).astype(np.float32)
    t = resample(_2d(test), sample_rate, ZIMTOHRLI_RATE).astype(np.float32)
    distance = np.mean([meter.distance(a, b) for a, b in zip(r.T, t.T, strict=True)])
    return float(zimtohrli.mos_from_zimtohrli(float(distance)))


@functools.cache
def _visqol_meter() -> object:
    """ViSQOL v3's audio mode with its bundled model, built once a process (0.7 s)."""
    from visqol.api import VisqolApi

    meter = VisqolApi()
    meter.create(mode="audio")
    return meter


def visqol_mos(reference: np.ndarray, test: np.ndarray, sample_rate: int) -> float | None:
    """ViSQOL v3's audio-mode MOS-LQO (1 to about 4.73 for a perfect copy) of each channel resampled to 48 kHz,
    averaged over the channels; None without `visqol-python`, or for a clip too short for its patches (about 1 s).
    A second perceptual score for music beside Zimtohrli (issue 12 asks for both)."""
    try:
        import visqol  # noqa: F401 - only whether it is there; _visqol_meter builds the meter
    except ImportError:
        return None
    r = resample(_2d(reference), sample_rate, VISQOL_RATE)
    t = resample(_2d(test), sample_rate, VISQOL_RATE)
    try:
        scores = [_visqol_meter().measure_from_arrays(a, b, VISQOL_RATE).moslqo for a, b in zip(r.T, t.T, strict=True)]
    except ValueError:  # "spectrum size smaller than minimum patch size": the clip is too short to score
        return None
    return float(np.mean(scores))


def stoi(reference: np.ndarray, test: np.ndarray, sample_rate: int) -> float | None:
    """STOI of the channel mean; None without `pystoi`, or when the clip has too few speech frames to score."""
    try:
        from pystoi import stoi as _stoi
    except ImportError:
        return None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            value = float(_stoi(_2d(reference).mean(axis=1), _2d(test).mean(axis=1), sample_rate))
        except (ValueError, IndexError):  # a clip shorter than one of its frames
            return None
    return None if caught else value  # pystoi warns and returns 1e-5 when it cannot score


def score(
    reference: np.ndarray,
    test: np.ndarray,
    sample_rate: int,
    speech: bool = True,
    search_delay: bool = True,
    visqol: bool | None = None,
) -> dict[str, float | None]:
    """Every metric of `test` against `reference` (same rate and channels), `test` first aligned to it (`align`)
    and cut or padded to its length; PESQ/STOI only for speech, ViSQOL (audio mode) where `visqol` says, by
    default for what is not speech.

    search_delay: False scores `test` where it is, for a decoder known to add no delay. A rebuilt phase can
    correlate best at a lag that means nothing: align() shifted two spectral decodes of lyra_sample2_16kHz by
    105 and 138 samples, which cost them 0.32 and 0.41 PESQ-WB.
    """
    reference, test = _2d(reference), _2d(test)
    if test.shape[1] != reference.shape[1]:
        raise ValueError(f"channel counts differ: {reference.shape[1]} and {test.shape[1]}")
    test = align(reference, test, sample_rate) if search_delay else _shifted(test, 0, len(reference))
    visqol = not speech if visqol is None else visqol
    return {
        "snr_db": snr_db(reference, test),
        "si_sdr_db": si_sdr_db(reference, test),
        "lsd": lsd(reference, test),
        "pesq_wb": pesq_wb(reference, test, sample_rate) if speech else None,
        "stoi": stoi(reference, test, sample_rate) if speech else None,
        "zimtohrli_mos": zimtohrli_mos(reference, test, sample_rate),
        "visqol_mos": visqol_mos(reference, test, sample_rate) if visqol else None,
    }


def bitrate_kbps(size_bytes: int, seconds: float) -> float:
    return size_bytes * 8 / seconds / 1000


def compression_ratio(size_bytes: int, frames: int, channels: int) -> float:
    """How many times smaller than 16-bit PCM."""
    return frames * channels * 2 / size_bytes
