"""Frequency nodes (formats/ddc.md §11): the grid, the interpolation, and the encoder's torch twin of it."""

import numpy as np
import pytest
import torch

from codec.encoder.loss import spreader
from codec.frequency import Nodes, positions


def test_q_0_puts_a_node_at_every_bin():
    assert positions(257, 0) == tuple(range(257))
    values = np.random.default_rng(0).normal(size=(2, 257, 5))
    assert Nodes(1, 257, 0).spread(values) is values  # no interpolation at all


@pytest.mark.parametrize(("bins", "q"), [(129, 1), (257, 16), (513, 32), (2049, 255), (129, 200)])
def test_nodes_lie_a_bin_apart_to_bin_2q_then_floor_p_over_q_apart_and_end_at_the_last_bin(bins, q):
    nodes = np.array(positions(bins, q))
    assert nodes[0] == 0 and nodes[-1] == bins - 1
    gaps = np.diff(nodes)
    expected = np.maximum(1, nodes[:-2] // q)
    assert np.array_equal(gaps[:-1], expected)  # every step but the last, which stops at the top bin
    assert 1 <= gaps[-1] <= max(1, nodes[-2] // q)
    assert np.all(gaps[nodes[:-1] < 2 * q] == 1)


def test_a_constant_q_grid_holds_far_fewer_nodes_than_bins():
    assert Nodes(1, 257, 16).count == 71 and Nodes(2, 513, 32).rows == 2 * 140


@pytest.mark.parametrize(("channels", "bins", "q"), [(1, 257, 16), (2, 513, 32), (3, 129, 5)])
def test_spread_is_linear_interpolation_between_the_nodes_of_each_channel(channels, bins, q):
    nodes = Nodes(channels, bins, q)
    values = np.random.default_rng(q).normal(size=(2, nodes.rows, 7))
    got = nodes.spread(values.copy())
    grid = np.array(positions(bins, q))
    for n in range(2):
        for c in range(channels):
            for t in range(7):
                expected = np.interp(np.arange(bins), grid, values[n, c * nodes.count : (c + 1) * nodes.count, t])
                np.testing.assert_allclose(got[n, c * bins : (c + 1) * bins, t], expected, atol=1e-12)


def test_every_bin_s_weights_sum_to_one_so_the_bias_shifts_every_bin_alike():
    nodes = Nodes(2, 257, 16)
    spread = nodes.spread(np.full((1, nodes.rows, 3), -4.25))
    np.testing.assert_allclose(spread, -4.25, atol=1e-12)  # the encoder folds each segment's mean into the bias


def test_the_encoder_spreads_as_the_decoder_does():
    nodes = Nodes(2, 257, 16)
    values = np.random.default_rng(1).normal(size=(3, nodes.rows, 11))
    got = spreader(nodes, torch.device("cpu"))(torch.from_numpy(values).float()).numpy()
    np.testing.assert_allclose(got, nodes.spread(values.copy()), atol=1e-5)
    assert spreader(Nodes(2, 257, 0), torch.device("cpu")) is None
