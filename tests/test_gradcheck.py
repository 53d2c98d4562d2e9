import numpy as np
import pytest

from nnscratch import Tensor, gradcheck, nn
from nnscratch.tensor import Function


class WrongSquare(Function):
    """x² with a deliberately wrong backward (x instead of 2x)."""

    def forward(self, x):
        self.save(x)
        return x * x

    def backward(self, grad):
        (x,) = self.saved
        return (grad * x,)


def test_a_wrong_gradient_is_reported_with_input_index_values_and_error():
    x = Tensor(np.array([1.0, -3.0, 0.5]), requires_grad=True)
    with pytest.raises(AssertionError) as failure:
        gradcheck(lambda x: WrongSquare.apply(x).sum(), x)
    message = str(failure.value)
    assert "input 0" in message and "index (1,)" in message  # the largest error is at x = -3
    assert "analytic -3" in message and "numerical -6" in message
    assert "relative error 0.5" in message


def test_a_correct_gradient_passes_and_returns_true():
    x = Tensor(np.array([1.0, -3.0, 0.5]), requires_grad=True)
    assert gradcheck(lambda x: x * x, x) is True


def test_float32_inputs_are_checked_in_float64_and_left_untouched():
    x = Tensor(np.array([0.3, 0.7], np.float32), requires_grad=True)
    assert gradcheck(lambda x: (x * x).exp(), x)
    assert x.dtype == np.float32 and x.grad is None


def test_a_module_has_its_parameters_checked_and_restored():
    layer = nn.Linear(3, 2, rng=0)
    x = Tensor(np.random.default_rng(1).standard_normal((4, 3)))
    assert gradcheck(layer, x)
    assert layer.weight.dtype == np.float32 and layer.bias.dtype == np.float32


def test_nothing_to_check_is_an_error():
    with pytest.raises(ValueError, match="requires_grad"):
        gradcheck(lambda x: x * 2, Tensor(np.ones(2)))
