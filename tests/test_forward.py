"""The numpy decoder must agree with the torch forward pass the encoder fits."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from codec.decoder import forward as np_forward
from codec.encoder import fit as torch_fit
from codec.encoder.loss import weighted_squared_error
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


@pytest.mark.parametrize("weight_shape", [(2, 3, 5), (2, 1, 5)])  # per value, or the mask's (S, 1, L)
def test_the_fused_squared_error_has_the_plain_formula_s_value_and_gradient(weight_shape):
    rng = np.random.default_rng(0)
    output = torch.tensor(rng.normal(size=(2, 3, 5)), requires_grad=True)
    plain = output.detach().clone().requires_grad_()
    target, weight = torch.tensor(rng.normal(size=(2, 3, 5))), torch.tensor(rng.uniform(size=weight_shape))
    fused = weighted_squared_error(output, target, weight)
    expected = ((plain - target).square() * weight).sum()
    (3 * fused).backward()
    (3 * expected).backward()
    assert torch.allclose(fused, expected) and torch.allclose(output.grad, plain.grad)
    with pytest.raises(ValueError, match="data, not parameters"):
        weighted_squared_error(output, target.requires_grad_(), weight)
