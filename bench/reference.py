"""The reference Deep Decoder recipe (Heckel & Hand 2019) ported to 1-D audio as published, for comparison.

One network for the whole clip, no segmentation: input noise U[0, 0.1) of shape
(k, N / 2^(d-1)); d-1 blocks of [1x1 conv (no bias) -> linear x2 upsampling ->
ReLU -> batch norm (batch of one, so a channel norm)]; then 1x1 conv -> ReLU ->
batch norm -> 1x1 conv to the audio channels (linear, where images used a
sigmoid). Adam at lr 0.004, plain MSE. Weights quantized to 8 bits per tensor
(uniform, max-abs scale) and zstd-compressed. The clip is scaled to unit RMS for
the fit (images come in [0, 1]; audio at its own level barely moves the fit) and
the scale is stored with the weights.
"""

import math
import struct

import numpy as np
import torch
import zstandard

DEPTH = 6
LR = 0.004
OVERHEAD_BYTES = 16 + 4  # rate, channels, frames, k, seed as a tiny header; the RMS scale
SCALE_BYTES = 4  # a float32 scale per tensor


def build(k: int, channels: int) -> torch.nn.Sequential:
    layers: list[torch.nn.Module] = []
    for _ in range(DEPTH - 1):
        layers += [
            torch.nn.Conv1d(k, k, 1, bias=False),
            torch.nn.Upsample(scale_factor=2, mode="linear", align_corners=False),
            torch.nn.ReLU(),
            torch.nn.BatchNorm1d(k),
        ]
    layers += [torch.nn.Conv1d(k, k, 1, bias=False), torch.nn.ReLU(), torch.nn.BatchNorm1d(k)]
    return torch.nn.Sequential(*layers, torch.nn.Conv1d(k, channels, 1))


def weight_count(k: int, channels: int) -> int:
    return sum(p.numel() for p in build(k, channels).parameters())


def size_estimate(k: int, channels: int) -> float:
    """Bytes for width k: 8-bit codes at ~0.95 bytes a weight after zstd, per-tensor scales, header."""
    return weight_count(k, channels) * 0.95 + SCALE_BYTES * (3 * DEPTH + 2) + OVERHEAD_BYTES


def width_for(budget_bytes: float, channels: int) -> int:
    """Largest k whose estimated size fits the budget; at least 1."""
    k = 1
    while size_estimate(k + 1, channels) <= budget_bytes:
        k += 1
    return k


def quantize(net: torch.nn.Sequential) -> bytes:
    """8-bit uniform codes per tensor, in place (the net then holds the dequantized weights); returns the bytes."""
    codes, scales = [], []
    with torch.no_grad():
        for p in net.parameters():
            scale = float(p.abs().max()) / 127 or 1.0
            q = torch.round(p / scale).clamp(-127, 127)
            p.copy_(q * scale)
            codes.append(q.to(torch.int8).numpy().tobytes())
            scales.append(struct.pack("<f", scale))
    return zstandard.ZstdCompressor(level=19).compress(b"".join(codes)) + b"".join(scales)


def encode(audio: np.ndarray, k: int, iterations: int, seed: int = 0) -> tuple[np.ndarray, int]:
    """Fit, quantize and decode one clip; returns (decoded audio (frames, channels), size in bytes)."""
    frames, channels = audio.shape
    granule = 2 ** (DEPTH - 1)
    n0 = math.ceil(frames / granule)
    torch.manual_seed(seed)
    net = build(k, channels)
    z = torch.rand(1, k, n0) * 0.1
    rms = float(np.sqrt(np.mean(audio.astype(np.float64) ** 2))) or 1.0
    target = torch.zeros(1, channels, n0 * granule)
    target[0, :, :frames] = torch.from_numpy(audio.T / rms)
    optimizer = torch.optim.Adam(net.parameters(), lr=LR)
    for _ in range(iterations):
        optimizer.zero_grad()
        loss = torch.mean((net(z)[..., :frames] - target[..., :frames]) ** 2)
        loss.backward()
        optimizer.step()
    payload = quantize(net)
    with torch.no_grad():
        decoded = net(z)[0, :, :frames].numpy().T * rms
    return decoded.astype(np.float32), len(payload) + OVERHEAD_BYTES
