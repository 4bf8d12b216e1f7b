"""The fit's weighted squared error over the bins, as one autograd node that takes the networks' node outputs.

The fit minimizes E(o) = sum_b w_b (y_b - (S o)_b)^2 over every (segment, frame), where o are the output layer's
values at the frequency nodes and S is the fixed linear interpolation of formats/ddc.md §11 (bin b lies between
nodes k_b and k_b + 1 at fraction t_b). S is linear, so E is a quadratic in o whose matrix is tridiagonal:

    E(o) = o^T A o - 2 c^T o + sum_b w_b y_b^2,   A = S^T W S,   c = S^T W y,

with A's diagonal and off-diagonal and c summed from the bins once, before the first step. Each step then works
on K values a frame instead of N/2 + 1 (71 instead of 257 for 16 kHz mono, 280 instead of 1026 for 44.1 kHz
stereo) and never spreads the nodes; E and its gradient 2 (A o - c) are those of the bins exactly (up to float32
rounding). With a node at every bin (q = 0) S is the identity and A, c are w and w y.
"""

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from codec.frequency import Nodes


class SquaredError:
    """sum w (y - S o)^2 for one batch: target y (S, channels x bins, L) and weight w broadcastable to it, with the
    networks' outputs o (S, channels x K, L) at `nodes`. Called as error(o, step), the same at every step."""

    def __init__(self, target: torch.Tensor, weight: torch.Tensor, nodes: Nodes) -> None:
        if target.requires_grad or weight.requires_grad:
            raise ValueError("the target and weight of a fit are data, not parameters")
        segments, _, length = target.shape
        by_bin = (segments, nodes.channels, nodes.bins, length)
        y, w = target.reshape(by_bin), weight.expand_as(target).reshape(by_bin)
        self.constant = torch.dot(w.flatten(), y.square().flatten())
        self.shape = (segments, nodes.channels, nodes.count, length)
        if not nodes.q:
            self.diagonal, self.off, self.linear = w, None, w * y
            return
        left = torch.from_numpy(nodes.left).to(target.device)
        t = torch.from_numpy(nodes.weight).to(target.dtype).to(target.device)[:, None]
        to_left, to_right = w * (1 - t), w * t  # each bin's weight on its two nodes' errors

        def gathered(values: torch.Tensor, offset: int, count: int) -> torch.Tensor:
            total = torch.zeros(segments, nodes.channels, count, length, dtype=target.dtype, device=target.device)
            return total.index_add_(2, left + offset, values)

        self.diagonal = gathered(to_left * (1 - t), 0, nodes.count) + gathered(to_right * t, 1, nodes.count)
        self.off = gathered(to_left * t, 0, nodes.count - 1)  # A[k, k + 1] = A[k + 1, k]
        self.linear = gathered(to_left * y, 0, nodes.count) + gathered(to_right * y, 1, nodes.count)

    def residual(self, output: torch.Tensor) -> torch.Tensor:
        """A o - c: half the gradient of E, shaped as output."""
        o = output.reshape(self.shape)
        r = self.diagonal * o - self.linear
        if self.off is not None:
            r[:, :, :-1].addcmul_(self.off, o[:, :, 1:])
            r[:, :, 1:].addcmul_(self.off, o[:, :, :-1])
        return r.reshape(output.shape)

    def __call__(self, output: torch.Tensor, step: int = 0) -> torch.Tensor:
        return _QuadraticError.apply(output, self)


class _QuadraticError(torch.autograd.Function):
    """E(o) = o . (A o - 2 c) + constant, with the gradient 2 (A o - c) kept from the forward pass."""

    @staticmethod
    def forward(ctx: Any, output: torch.Tensor, error: SquaredError) -> torch.Tensor:
        with torch.no_grad():
            r = error.residual(output)
            o = output.flatten()
            value = torch.dot(o, r.flatten()) - torch.dot(o, error.linear.flatten()) + error.constant
        ctx.save_for_backward(r)
        return value

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        (r,) = ctx.saved_tensors
        return r.mul_(2 * grad), None  # r is not needed again


def spreader(nodes: Nodes, device: torch.device) -> Callable[[torch.Tensor], torch.Tensor] | None:
    """formats/ddc.md §11 in torch, (S, channels x K, L) node values -> (S, channels x bins, L); None for q = 0.
    For errors that are not quadratic in the bins (codec/encoder/denoise.py), which must spread every step."""
    if not nodes.q:
        return None
    left, right = (torch.from_numpy(index).to(device) for index in (nodes.left, nodes.right))
    weight = torch.from_numpy(nodes.weight).float().to(device)[:, None]

    def spread(values: torch.Tensor) -> torch.Tensor:  # index_select: 4x faster than indexing, backward included
        segments, _, length = values.shape
        by_node = values.reshape(segments, nodes.channels, nodes.count, length)
        low = torch.index_select(by_node, 2, left)
        high = torch.index_select(by_node, 2, right)
        return (low + weight * (high - low)).reshape(segments, -1, length)

    return spread


def as_tensor(values: np.ndarray, device: str | torch.device) -> torch.Tensor:
    """float32 on `device`, for the data a fit compares against."""
    return torch.as_tensor(np.asarray(values, np.float32), device=device)
