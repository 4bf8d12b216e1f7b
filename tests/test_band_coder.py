"""The transform coder that prices a waveform low band on the phase oracle ladder (bench.band_coder)."""

import numpy as np
import pytest

from bench import band_coder


@pytest.mark.parametrize("n", [40, 80])
def test_mdct_rebuilds_the_signal(n: int) -> None:
    x = np.random.default_rng(0).standard_normal(1234)
    assert np.allclose(band_coder.imdct(band_coder.mdct(x, n), n, len(x)), x, atol=1e-10)


def _speechlike(rate: int, seconds: float) -> np.ndarray:
    """Harmonics of a gliding f0 under a syllable envelope, plus a little noise."""
    t = np.arange(int(rate * seconds)) / rate
    f0 = 120 + 20 * np.sin(2 * np.pi * 0.5 * t)
    phase = 2 * np.pi * np.cumsum(f0) / rate
    voice = sum(np.sin(k * phase) / k for k in range(1, 30) if k * 140 < rate / 2)
    envelope = 0.5 + 0.5 * np.sin(2 * np.pi * 3 * t) ** 2
    noise = 0.01 * np.random.default_rng(1).standard_normal(len(t))
    return (0.1 * voice * envelope + noise)[:, None]


def test_a_finer_step_costs_more_and_gives_about_6_db_a_halving() -> None:
    audio, rate = _speechlike(16000, 3.0), 16000
    coarse, fine = (band_coder.code_band(audio, rate, 1000, step) for step in (1.0, 0.5))
    assert fine.kbps > coarse.kbps > 0
    assert 4.0 < fine.snr - coarse.snr < 8.0
    assert coarse.audio.shape == audio.shape


def test_the_decoded_band_is_the_original_band_within_its_snr() -> None:
    audio, rate = _speechlike(16000, 3.0), 16000
    coded = band_coder.code_band(audio, rate, 2000, 0.25)
    spectrum = np.fft.rfft(audio[:, 0])
    spectrum[np.fft.rfftfreq(len(audio), 1 / rate) > 1800] = 0  # under the resampler's transition band
    band = np.fft.irfft(spectrum, len(audio))
    kept = np.fft.rfft(coded.audio[:, 0])
    kept[np.fft.rfftfreq(len(audio), 1 / rate) > 1800] = 0
    error = band - np.fft.irfft(kept, len(audio))
    assert coded.snr > 20.0
    assert 10 * np.log10(np.sum(band**2) / np.sum(error**2)) > 20.0


def test_silence_costs_only_the_first_scale() -> None:
    coded = band_coder.code_band(np.zeros((16000, 1), np.float32), 16000, 1000, 0.5)
    assert coded.kbps == band_coder.FIRST_SCALE_BITS / 1000
    assert not coded.audio.any()


def test_mid_codes_the_channels_mean_once_on_every_channel() -> None:
    mono, rate = _speechlike(16000, 3.0), 16000
    stereo = np.concatenate([mono, 0.5 * mono], axis=1)
    apart, mid = (band_coder.code_band(stereo, rate, 1000, 0.5, mid) for mid in (False, True))
    alone = band_coder.code_band(0.75 * mono, rate, 1000, 0.5)
    assert mid.audio.shape == stereo.shape and np.array_equal(mid.audio[:, 0], mid.audio[:, 1])
    np.testing.assert_array_equal(mid.audio[:, 0], alone.audio[:, 0])
    assert mid.kbps == alone.kbps < 0.6 * apart.kbps
