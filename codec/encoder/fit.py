"""Fit a batch of 1-D Deep Decoders, one per segment, by gradient descent.

The network (Heckel & Hand, "Deep Decoder", ICLR 2019, made 1-D): fixed seeded
noise -> [1x1 mixing -> ReLU -> channel norm -> upsample x2] * depth -> 1x1 output.
The last hidden layer does not upsample. All segments train together: every
weight tensor carries a leading segment axis and layers are batched matmuls.
The forward pass must match codec/decoder/forward.py (formats/ddc.md, "Forward pass").
"""

from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

from codec.layout import NORM_EPS, input_length
from codec.modes.base import FitConfig
from codec.noise import input_noise

FitError = Callable[[torch.Tensor, int], torch.Tensor]  # (output layer values, step) -> summed error (Mode.fit_error)


def resolve_device(device: str) -> str:
    """ "auto" -> "cuda" when torch sees a GPU, else "cpu"; other names as they are."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def upsample_linear(x: torch.Tensor) -> torch.Tensor:
    """x2 linear upsampling with edge replication on the last axis: formats/ddc.md §4.3 in one fused kernel."""
    return F.interpolate(x, scale_factor=2, mode="linear", align_corners=False)


def channel_norm(x: torch.Tensor, scale: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """formats/ddc.md §4.1 as one fused kernel: normalize each channel over time (biased variance, eps
    inside the root), then a per-segment, per-channel affine map. x: (S, k, n)."""
    if x.shape[-1] == 1:  # a lone sample normalizes to exactly 0, and instance_norm refuses that size
        return x * 0 + shift[..., None]
    return F.instance_norm(x, eps=NORM_EPS) * scale[..., None] + shift[..., None]


def forward(weights: list[torch.Tensor], z: torch.Tensor, depth: int) -> torch.Tensor:
    """Run S networks at once. weights in bitstream order, each (S, *shape); z: (k, n0). Returns the output
    layer's (S, rows, L): the values at the frequency nodes (formats/ddc.md §11), not yet spread over the bins."""
    x = z.expand(weights[0].shape[0], *z.shape)
    for i in range(depth):
        mix, scale, shift = weights[3 * i : 3 * i + 3]
        x = channel_norm(torch.relu(mix @ x), scale, shift)
        if i < depth - 1:
            x = upsample_linear(x)
    out_mix, out_bias = weights[-2:]
    return out_mix @ x + out_bias[..., None]


def init_weights(segments: int, width: int, depth: int, channels: int, gen: torch.Generator) -> list[torch.Tensor]:
    """Gaussian mixing weights scaled by fan-in, unit norm scales, zero shifts and bias (bitstream order)."""

    def mixing(rows: int) -> torch.Tensor:
        return torch.randn(segments, rows, width, generator=gen) / np.sqrt(width)

    weights = []
    for _ in range(depth):
        weights += [mixing(width), torch.ones(segments, width), torch.zeros(segments, width)]
    return [*weights, mixing(channels), torch.zeros(segments, channels)]


def fit_networks(
    target: np.ndarray,
    mask: np.ndarray,
    width: int,
    depth: int,
    seed: int,
    config: FitConfig,
    error: FitError,
    progress: Callable[[int, float], None] | None = None,
    *,
    rows: int,
) -> list[np.ndarray]:
    """Fit one network per segment to `target`.

    target: (S, C, L) float, already scaled to unit RMS per segment.
    mask: (S, L) with 1 where a sample counts in the loss, 0 for padding.
    error: the error to minimize, bound to this target (Mode.fit_error, codec/encoder/denoise.py), called as
        error(output, step) on the output layer's (S, rows, L) values; normalized here by the target's energy.
    progress: called as progress(step, relative_error) every few steps: the error over the target's energy.
    rows: the output layer's rows, channels x the frequency nodes (formats/ddc.md §11), C where every bin is one.
    Returns the float32 weights in bitstream order, each (S, *shape).
    """
    device = torch.device(config.device)
    segments, _, length = target.shape
    gen = torch.Generator().manual_seed(seed)
    weights = [w.to(device).requires_grad_() for w in init_weights(segments, width, depth, rows, gen)]
    z = torch.from_numpy(input_noise(seed, width, input_length(length, depth))).float().to(device)
    energy = max(float(np.einsum("scl,scl,sl->", target, target, mask, dtype=np.float64)), 1e-12)

    opt = torch.optim.Adam(weights, lr=config.lr, fused=True)  # one kernel for all tensors: 3x the default on CPU
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, config.iterations, eta_min=config.lr * config.lr_floor)
    for step in range(config.iterations):
        err = error(forward(weights, z, depth), step)
        opt.zero_grad(set_to_none=True)
        (err / energy).backward()
        opt.step()
        sched.step()
        if progress is not None and (step % 25 == 0 or step == config.iterations - 1):
            progress(step + 1, err.item() / energy)
    return [w.detach().cpu().numpy() for w in weights]
