"""Weights -> integer codes, and the search for the step that meets a byte budget.

Each tensor of each segment gets its own step, a power of 2**(1/8) just above
max|w| / levels, so its codes span [-levels, levels]; `levels` is one number per
file, searched so the compressed payload fits the target size.
"""

from collections.abc import Callable

import numpy as np

from codec.bitstream import MAX_LEVELS, STEP_EXPONENT_OFFSET, zigzag_encode


def quantize(weights: list[np.ndarray], levels: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """Float weights, each (S, *shape) -> step exponents (S, T) uint8 and zigzag codes per tensor (S, numel)."""
    exponents, codes = [], []
    for w in weights:
        flat = w.reshape(len(w), -1).astype(np.float64)
        peak = np.abs(flat).max(axis=1)
        with np.errstate(divide="ignore"):
            e = np.ceil(8.0 * (np.log2(peak / levels) + STEP_EXPONENT_OFFSET))
        e = np.clip(np.nan_to_num(e, neginf=0.0), 0, 255)
        step = np.exp2(e / 8.0 - STEP_EXPONENT_OFFSET)
        q = np.clip(np.rint(flat / step[:, None]), -levels, levels)
        exponents.append(e.astype(np.uint8))
        codes.append(zigzag_encode(q))
    return np.stack(exponents, axis=1), codes


def search_levels(size_of: Callable[[int], int], budget: int, top: int = MAX_LEVELS) -> int:
    """Largest levels in [1, top] whose size_of(levels) <= budget (1 if none fits); size grows with levels."""
    low, high = 1, top
    if size_of(high) <= budget:
        return high
    while low < high:
        mid = (low + high + 1) // 2
        if size_of(mid) <= budget:
            low = mid
        else:
            high = mid - 1
    return low
