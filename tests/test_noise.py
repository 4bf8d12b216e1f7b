import numpy as np
import pytest

from codec.noise import input_noise, splitmix64, start_seed, uniform
from codec.phase import draws


def test_splitmix64_matches_the_published_sequence():
    # Reference outputs of SplitMix64 seeded with 0 (Vigna's splitmix64.c), quoted in formats/ddc.md §3.
    assert [int(v) for v in splitmix64(0, 3)] == [0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, 0x06C45D188009454F]


def test_input_noise_is_row_major_uniform_and_seeded():
    z = input_noise(42, 4, 1000)
    assert z.shape == (4, 1000) and z.dtype == np.float64
    assert z.min() >= 0.0 and z.max() < 1.0 and abs(z.mean() - 0.5) < 0.02
    assert np.array_equal(z.ravel()[:10], input_noise(42, 1, 10).ravel())
    assert not np.array_equal(z, input_noise(43, 4, 1000))


@pytest.mark.parametrize("seed", [0, 1, 2**32 - 1, 2**63 + 7, 2**64 - 1])
def test_compiled_start_angles_are_the_defined_draws_bit_for_bit(seed):
    for segment, shape in ((0, (3, 5)), (1, (972, 513)), (4095, (7, 257))):
        defined = uniform(start_seed(seed, segment), int(np.prod(shape))).reshape(shape) * (2.0 * np.pi)
        compiled = draws.start_angle(seed, segment, shape)
        assert compiled.dtype == np.float64 and np.array_equal(compiled, defined)
    assert not np.array_equal(draws.start_angle(seed, 0, (4, 4)), draws.start_angle(seed, 1, (4, 4)))
