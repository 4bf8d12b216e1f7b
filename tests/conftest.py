from pathlib import Path

import numpy as np
import pytest
import soundfile

DATA = Path(__file__).parent / "data"
VECTORS = Path(__file__).parent.parent / "formats" / "vectors"


def snr_db(ref: np.ndarray, test: np.ndarray) -> float:
    ref = np.asarray(ref, np.float64)
    return float(10 * np.log10(np.sum(ref**2) / max(np.sum((ref - test) ** 2), 1e-30)))


def load(name: str) -> tuple[np.ndarray, int]:
    audio, rate = soundfile.read(DATA / name, dtype="float32", always_2d=True)
    return audio, rate


@pytest.fixture(scope="session")
def quick():
    from codec.encoder import FitConfig

    return FitConfig(iterations=60)
