"""Stored codes -> weight arrays (formats/ddc.md, "Dequantization")."""

import numpy as np

from codec.bitstream import Header, step_size, zigzag_decode
from codec.errors import FormatError


def check_codes(header: Header, codes: list[np.ndarray]) -> None:
    """Reject codes outside [-levels, levels]; a conforming encoder never writes them."""
    limit = 2 * header.levels  # largest zigzag value of +-levels
    for index, c in enumerate(codes):
        if c.size and int(c.max()) > limit:
            raise FormatError(f"tensor {index} has a code beyond levels={header.levels}")


def dequantize(exponents: np.ndarray, codes: list[np.ndarray], shapes: list[tuple[int, ...]]) -> list[np.ndarray]:
    """Weights for a run of n segments as float64 (n, *shape).

    exponents: (n, T) uint8; codes: per tensor, zigzag (n, numel).
    """
    steps = step_size(exponents)
    return [
        (zigzag_decode(c) * steps[:, t, None]).reshape(len(c), *shape)
        for t, (c, shape) in enumerate(zip(codes, shapes, strict=True))
    ]
