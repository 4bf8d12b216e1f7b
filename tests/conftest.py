from pathlib import Path

import numpy as np
import pytest
import soundfile

DATA = Path(__file__).parent / "data"
VECTORS = Path(__file__).parent.parent / "formats" / "vectors"


def load(name: str) -> tuple[np.ndarray, int]:
    audio, rate = soundfile.read(DATA / name, dtype="float32", always_2d=True)
    return audio, rate


@pytest.fixture(scope="session")
def quick() -> int:
    """Fit steps for tests that need a fit, not a good one."""
    return 60
