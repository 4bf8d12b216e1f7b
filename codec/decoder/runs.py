"""Codes -> networks' outputs: dequantize and run a few segments at a time.

Memory stays bounded by MAX_WORK values whatever the file's length.
"""

from collections.abc import Iterator

import numpy as np

from codec.bitstream import Header
from codec.decoder.forward import forward
from codec.decoder.weights import dequantize
from codec.layout import input_length, params_per_segment
from codec.noise import input_noise

MAX_WORK = 2**22  # values held per run, and separately weights (~32 MiB each as float64)


def iter_runs(header: Header, exponents: np.ndarray, codes: list[np.ndarray], per_segment: int) -> Iterator[np.ndarray]:
    """Consecutive runs of decoded segments, each (n, rows, L) float64, in order, from bitstream.read's payload;
    a spectral network's frequency nodes are spread over its bins (§11).

    per_segment: values the caller holds per segment of a run (its mode's values_per_segment).
    """
    z = input_noise(header.seed, header.width, input_length(header.segment_length, header.depth))
    batch = max(1, MAX_WORK // max(per_segment, params_per_segment(header.width, header.depth, header.network_rows)))
    nodes = header.nodes
    for start in range(0, header.segments, batch):
        stop = min(start + batch, header.segments)
        weights = dequantize(exponents[start:stop], [c[start:stop] for c in codes], header.shapes)
        yield nodes.spread(forward(weights, z, header.depth))
