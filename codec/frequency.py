"""Frequency nodes (formats/ddc.md §11): a spectral network outputs log-magnitudes at K nodes per channel along
frequency, and fixed linear interpolation spreads them over the N/2 + 1 bins.

Nodes lie a bin apart up to bin 2q, then floor(p / q) bins apart: a constant-Q grid above that, where one node per
bin would spend output weights on detail listeners do not hear. The output layer then holds K x width weights
instead of (N/2 + 1) x width, and the weights it frees widen the network. Shared by the encoder (which fits
through the interpolation) and the decoder.
"""

import functools
from dataclasses import dataclass

import numpy as np


@functools.cache
def positions(bins: int, q: int) -> tuple[int, ...]:
    """The nodes' bins: p_0 = 0, p_{k+1} = min(p_k + max(1, floor(p_k / q)), bins - 1) until bins - 1 is reached;
    every bin for q = 0."""
    if q == 0:
        return tuple(range(bins))
    nodes = [0]
    while nodes[-1] < bins - 1:
        nodes.append(min(nodes[-1] + max(1, nodes[-1] // q), bins - 1))
    return tuple(nodes)


@dataclass(frozen=True)
class Nodes:
    """The frequency nodes of a file: `channels` blocks of `count` nodes, each spread over `bins` bins."""

    channels: int
    bins: int
    q: int  # 0: a node at every bin (no interpolation)

    @property
    def count(self) -> int:
        """Nodes per channel, K."""
        return len(positions(self.bins, self.q))

    @property
    def rows(self) -> int:
        """Rows of the networks' output layer: channels x K."""
        return self.channels * self.count

    @functools.cached_property
    def left(self) -> np.ndarray:
        """(bins,) the node k each bin is interpolated from, with node k + 1 (k <= K - 2)."""
        nodes = np.array(positions(self.bins, self.q))
        return np.clip(np.searchsorted(nodes, np.arange(self.bins), side="right") - 1, 0, len(nodes) - 2)

    @functools.cached_property
    def right(self) -> np.ndarray:
        """(bins,) the node k + 1 each bin is interpolated toward."""
        return self.left + 1

    @functools.cached_property
    def weight(self) -> np.ndarray:
        """(bins,) float64: w_b = (b - p_k) / (p_{k+1} - p_k), how far bin b lies from node k toward node k + 1."""
        nodes = np.array(positions(self.bins, self.q), np.float64)
        return (np.arange(self.bins) - nodes[self.left]) / (nodes[self.right] - nodes[self.left])

    def spread(self, values: np.ndarray) -> np.ndarray:
        """(n, channels x K, L) node values -> (n, channels x bins, L): y_b = v_k + w_b (v_{k+1} - v_k)."""
        if self.q == 0:
            return values
        from codec import spread_nodes  # compiled by numba, which `import codec` does not load

        n, _, length = values.shape
        nodes = values.reshape(n, self.channels, self.count, length)
        return spread_nodes.spread(nodes, self.left, self.weight).reshape(n, self.channels * self.bins, length)
