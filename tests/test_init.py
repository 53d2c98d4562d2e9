"""nn.init: PyTorch's initialisers with PyTorch's exact meaning (compared with torch.nn.init), beside
the lecture's `xavier` (std 1/sqrt(fan_in))."""

import math

import numpy as np
import pytest
import torch

from nnscratch import nn
from nnscratch.nn import init

FAN_IN, FAN_OUT = 400, 300  # our weight is (fan_in, fan_out); torch's is (fan_out, fan_in)


def _torch_draw(fn, **kwargs):
    torch.manual_seed(0)
    w = torch.empty(FAN_OUT, FAN_IN, dtype=torch.float64)
    fn(w, **kwargs)
    return w.numpy()


@pytest.mark.parametrize("ours, theirs, kwargs", [
    (init.xavier_normal, torch.nn.init.xavier_normal_, {}),
    (init.xavier_normal, torch.nn.init.xavier_normal_, {"gain": 5 / 3}),
    (init.kaiming_normal, torch.nn.init.kaiming_normal_, {}),
    (init.kaiming_normal, torch.nn.init.kaiming_normal_, {"mode": "fan_out", "nonlinearity": "relu"}),
    (init.kaiming_normal, torch.nn.init.kaiming_normal_, {"a": 0.2}),
])
def test_normal_initialisers_have_torchs_standard_deviation(ours, theirs, kwargs):
    w = ours((FAN_IN, FAN_OUT), rng=0, dtype=np.float64, **kwargs)
    reference = _torch_draw(theirs, **kwargs)
    assert w.shape == (FAN_IN, FAN_OUT) and w.dtype == np.float64
    assert abs(w.mean()) < 0.01 * reference.std()
    np.testing.assert_allclose(w.std(), reference.std(), rtol=0.01)


@pytest.mark.parametrize("ours, theirs, kwargs", [
    (init.xavier_uniform, torch.nn.init.xavier_uniform_, {}),
    (init.xavier_uniform, torch.nn.init.xavier_uniform_, {"gain": 2.0}),
    (init.kaiming_uniform, torch.nn.init.kaiming_uniform_, {}),
    (init.kaiming_uniform, torch.nn.init.kaiming_uniform_, {"mode": "fan_out", "nonlinearity": "tanh"}),
])
def test_uniform_initialisers_have_torchs_bounds(ours, theirs, kwargs):
    w = ours((FAN_IN, FAN_OUT), rng=1, dtype=np.float64, **kwargs)
    reference = _torch_draw(theirs, **kwargs)
    bound = np.abs(reference).max()
    assert np.abs(w).max() <= bound * 1.001 and np.abs(w).max() >= bound * 0.99
    np.testing.assert_allclose(w.std(), reference.std(), rtol=0.01)


def test_the_hand_computed_values_of_each_convention():
    assert init.xavier_uniform((6, 4), rng=0).max() <= math.sqrt(6 / 10)
    np.testing.assert_allclose(init.xavier((10_000, 50), rng=0).std(), 1 / math.sqrt(10_000), rtol=0.01)
    np.testing.assert_allclose(init.kaiming_normal((10_000, 50), rng=0).std(), math.sqrt(2 / 10_000), rtol=0.01)
    for name in ("relu", "tanh", "leaky_relu", "sigmoid", "linear", "selu"):
        assert init.calculate_gain(name) == pytest.approx(torch.nn.init.calculate_gain(name))
    assert init.calculate_gain("leaky_relu", 0.3) == pytest.approx(torch.nn.init.calculate_gain("leaky_relu", 0.3))


def test_names_reach_a_layer_and_bad_settings_are_named():
    layer = nn.Linear(64, 32, init="kaiming_uniform", rng=0)
    assert np.abs(layer.weight.data).max() <= math.sqrt(6 / 64)
    np.testing.assert_array_equal(nn.Linear(8, 4, init="xavier_normal", rng=3).weight.data,
                                  init.xavier_normal((8, 4), rng=3))
    with pytest.raises(ValueError, match="mode='fan_avg'"):
        init.kaiming_normal((3, 3), mode="fan_avg")
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")
