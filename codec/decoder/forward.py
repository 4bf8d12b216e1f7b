"""Weights -> samples: the Deep Decoder forward pass in numpy (formats/ddc.md, "Forward pass").

Mirrors codec/encoder/fit.py:forward in float64; the two agree to ~1e-6.
"""

import numpy as np

from codec.layout import NORM_EPS


def upsample_linear(x: np.ndarray) -> np.ndarray:
    """x2 linear upsampling on the last axis, edges replicated.

    y[2i] = (x[i-1] + 3 x[i]) / 4 and y[2i+1] = (3 x[i] + x[i+1]) / 4.
    """
    left = np.concatenate([x[..., :1], x[..., :-1]], axis=-1)
    right = np.concatenate([x[..., 1:], x[..., -1:]], axis=-1)
    out = np.empty((*x.shape[:-1], 2 * x.shape[-1]), dtype=x.dtype)
    out[..., 0::2] = 0.25 * left + 0.75 * x
    out[..., 1::2] = 0.75 * x + 0.25 * right
    return out


def channel_norm(x: np.ndarray, scale: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """Per channel over time: (x - mean) / sqrt(var + eps) * scale + shift. x: (n, k, t)."""
    centred = x - x.mean(axis=-1, keepdims=True)
    var = np.square(centred).mean(axis=-1, keepdims=True)
    return centred / np.sqrt(var + NORM_EPS) * scale[..., None] + shift[..., None]


def forward(weights: list[np.ndarray], z: np.ndarray, depth: int) -> np.ndarray:
    """Run n networks. weights in bitstream order, each (n, *shape); z: (k, n0). Returns (n, C, L)."""
    x = np.broadcast_to(z, (weights[0].shape[0], *z.shape))
    for i in range(depth):
        mix, scale, shift = weights[3 * i : 3 * i + 3]
        x = channel_norm(np.maximum(mix @ x, 0.0), scale, shift)
        if i < depth - 1:
            x = upsample_linear(x)
    out_mix, out_bias = weights[-2:]
    out = out_mix @ x
    out += out_bias[..., None]  # in place: a broadcast sum into a new array took 3x the product's time
    return out
