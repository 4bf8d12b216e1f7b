"""The fit's weighted squared error as one autograd node (codec.modes.base.squared_error computes it here).

Written as plain tensor operations, autograd keeps the difference, its square and the weighted square, and its
backward pass makes three more full-size passes over the (S, rows, L) error; for spectral speech that was a third
of a fit step. Here the forward keeps only the difference and the backward reuses it in place.
"""

from typing import Any

import torch


class _WeightedSquaredError(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, output: torch.Tensor, target: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        residual = output - target
        ctx.save_for_backward(residual, weight)
        return torch.dot(residual.reshape(-1), (residual * weight).reshape(-1))

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None, None]:
        residual, weight = ctx.saved_tensors
        return residual.mul_(weight).mul_(2 * grad), None, None  # the residual is not needed again


def weighted_squared_error(output: torch.Tensor, target: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """sum(weight * (output - target)**2), weight broadcastable to output; differentiable in `output` only."""
    if target.requires_grad or weight.requires_grad:
        raise ValueError("the target and weight of a fit are data, not parameters")
    return _WeightedSquaredError.apply(output, target, weight)
