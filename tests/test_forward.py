"""The numpy decoder must agree with the torch forward pass the encoder fits."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from codec.decoder import forward as np_forward
from codec.encoder import fit as torch_fit
from codec.encoder.loss import SquaredError
from codec.frequency import Nodes
from codec.layout import input_length, tensor_shapes
from codec.noise import input_noise


def test_linear_upsampling_is_torchs_half_sample_linear_interpolation():
    x = np.random.default_rng(0).normal(size=(2, 3, 9))
    expected = F.interpolate(torch.from_numpy(x), scale_factor=2, mode="linear", align_corners=False).numpy()
    np.testing.assert_allclose(np_forward.upsample_linear(x), expected, atol=1e-12)
    np.testing.assert_allclose(torch_fit.upsample_linear(torch.from_numpy(x)).numpy(), expected, atol=1e-12)


@pytest.mark.parametrize(
    ("width", "depth", "channels", "length"), [(8, 6, 1, 2048), (3, 1, 2, 40), (16, 4, 3, 800), (4, 3, 1, 4)]
)
def test_numpy_forward_matches_torch_within_1e5(width, depth, channels, length):
    rng = np.random.default_rng(width)
    segments = 3 if length > 4 else 1  # n0 = 1 with one segment: the fused norm's refused size
    weights = [rng.normal(scale=0.6, size=(segments, *s)) for s in tensor_shapes(width, depth, channels)]
    weights[-2] *= 0.1 / np.sqrt(width)  # audio-scale output, |y| about 1 at most, as fitted files have
    weights[-1] *= 0.1
    z = input_noise(5, width, input_length(length, depth))
    expected = np_forward.forward(weights, z, depth)
    got = torch_fit.forward([torch.from_numpy(w).float() for w in weights], torch.from_numpy(z).float(), depth)
    assert expected.shape == (segments, channels, length) and np.abs(expected).max() < 2
    np.testing.assert_allclose(got.numpy(), expected, atol=1e-5, rtol=0)


@pytest.mark.parametrize(("channels", "bins", "q"), [(1, 9, 0), (1, 257, 16), (2, 129, 5), (3, 40, 2)])
@pytest.mark.parametrize("per_value", [True, False])  # a weight per value, or the mask's (S, 1, L)
def test_the_error_at_the_nodes_is_the_squared_error_over_the_spread_bins_in_value_and_gradient(
    channels, bins, q, per_value
):
    nodes = Nodes(channels, bins, q)
    rng = np.random.default_rng(bins + q)
    output = torch.tensor(rng.normal(size=(2, nodes.rows, 6)), requires_grad=True)
    spread = output.detach().clone().requires_grad_()
    target = torch.tensor(rng.normal(size=(2, channels * bins, 6)))
    weight = torch.tensor(rng.uniform(size=(2, channels * bins if per_value else 1, 6)))
    error = SquaredError(target, weight, nodes)(output, 0)
    matrix = np.eye(bins)  # S: bin b = (1 - t_b) node k_b + t_b node k_b + 1, written out densely
    if q:
        matrix = np.zeros((bins, nodes.count))
        matrix[np.arange(bins), nodes.left] = 1 - nodes.weight
        matrix[np.arange(bins), nodes.right] = nodes.weight
    per_channel = spread.reshape(2, channels, nodes.count, 6)
    over_bins = torch.einsum("bk,sckl->scbl", torch.from_numpy(matrix), per_channel).reshape(target.shape)
    expected = ((over_bins - target).square() * weight).sum()
    (3 * error).backward()
    (3 * expected).backward()
    assert torch.allclose(error, expected, rtol=1e-10) and torch.allclose(output.grad, spread.grad, rtol=1e-10)
    with pytest.raises(ValueError, match="data, not parameters"):
        SquaredError(target.requires_grad_(), weight, nodes)
