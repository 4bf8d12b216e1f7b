"""Stored codes -> weight arrays (formats/ddc.md, "Dequantization")."""

import numpy as np

from codec.bitstream import step_size, zigzag_decode


def dequantize(exponents: np.ndarray, codes: list[np.ndarray], shapes: list[tuple[int, ...]]) -> list[np.ndarray]:
    """Weights for a run of n segments as float64 (n, *shape).

    exponents: (n, T) uint8; codes: per tensor, zigzag (n, numel).
    """
    steps = step_size(exponents)
    return [
        (zigzag_decode(c) * steps[:, t, None]).reshape(len(c), *shape)
        for t, (c, shape) in enumerate(zip(codes, shapes, strict=True))
    ]
