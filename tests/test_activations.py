import numpy as np
import pytest

from nnscratch import Tensor, gradcheck, nn
from nnscratch.nn import functional as F

from conftest import param

MODULES = [nn.Sigmoid(), nn.Tanh(), nn.ReLU(), nn.LeakyReLU(0.01), nn.LeakyReLU(0.2), nn.ELU(1.0),
           nn.ELU(0.5), nn.Identity(), nn.Softmax(), nn.Softmax(axis=0), nn.LogSoftmax(), nn.LogSoftmax(axis=0)]


@pytest.mark.parametrize("act", MODULES, ids=repr)
def test_every_activation_passes_gradient_check(rng, act):
    x = param(rng, 4, 5, low=0.05)  # away from the kinks at 0
    assert gradcheck(act, x)


def test_maxout_passes_gradient_check_for_input_and_parameters(rng):
    layer = nn.Maxout(4, 3, pieces=3, rng=0)
    assert gradcheck(layer, param(rng, 5, 4))


def test_maxout_is_the_max_of_its_linear_pieces(rng):
    layer = nn.Maxout(4, 3, pieces=2, rng=0)
    layer.bias.data[...] = rng.standard_normal(layer.bias.shape)
    x = rng.standard_normal((5, 4)).astype(np.float32)
    w, b = layer.weight.data, layer.bias.data
    expected = np.maximum(x @ w[0] + b[0], x @ w[1] + b[1])
    np.testing.assert_allclose(layer(Tensor(x)).data, expected, rtol=1e-6)


def test_values_against_hand_computed_results():
    x = Tensor(np.array([-2.0, 0.0, 3.0]))
    np.testing.assert_allclose(F.sigmoid(x).data, [1 / (1 + np.e**2), 0.5, 1 / (1 + np.e**-3)], rtol=1e-12)
    np.testing.assert_allclose(F.tanh(x).data, [np.tanh(-2), 0, np.tanh(3)], rtol=1e-12)
    np.testing.assert_array_equal(F.relu(x).data, [0, 0, 3])
    np.testing.assert_allclose(F.leaky_relu(x).data, [-0.02, 0, 3])
    np.testing.assert_allclose(F.leaky_relu(x, 0.3).data, [-0.6, 0, 3])
    np.testing.assert_allclose(F.elu(x).data, [np.exp(-2) - 1, 0, 3], rtol=1e-12)
    np.testing.assert_allclose(F.elu(x, 2.0).data, [2 * (np.exp(-2) - 1), 0, 3], rtol=1e-12)
    np.testing.assert_array_equal(F.step(x).data, [0, 0, 1])


def test_softmax_matches_hand_computed_values():
    p = F.softmax(Tensor([0.3, 2.9, 4.0]))
    np.testing.assert_allclose(p.numpy(), [0.01821127, 0.24519181, 0.73659691], rtol=1e-6)


def test_log_softmax_is_the_log_of_softmax(rng):
    x = Tensor(rng.standard_normal((3, 6)))
    np.testing.assert_allclose(F.log_softmax(x).data, np.log(F.softmax(x).data), rtol=1e-12)
    np.testing.assert_allclose(F.softmax(x).data.sum(axis=1), 1, rtol=1e-12)


def test_step_passes_no_gradient():
    x = Tensor(np.array([-1.0, 2.0]), requires_grad=True)
    F.step(x).sum().backward()
    np.testing.assert_array_equal(x.grad, [0, 0])


def test_relu_gradient_is_one_where_positive_zero_elsewhere():
    x = Tensor(np.array([-1.0, 2.0, 0.5]), requires_grad=True)
    F.relu(x).sum().backward()
    np.testing.assert_array_equal(x.grad, [0, 1, 1])


def test_sigmoid_saturates_without_warnings():
    with np.errstate(all="raise", under="ignore"):
        for dtype in (np.float32, np.float64):
            s = F.sigmoid(Tensor(np.array([-1000.0, 1000.0], dtype)))
            np.testing.assert_array_equal(s.data, [0.0, 1.0])
            assert s.dtype == dtype


def test_activation_modules_print_their_settings():
    assert repr(nn.LeakyReLU(0.2)) == "LeakyReLU(negative_slope=0.2)"
    assert repr(nn.ELU()) == "ELU(alpha=1.0)"
    assert repr(nn.Maxout(4, 3, pieces=5, rng=0)) == "Maxout(4 -> 3, pieces=5)"


def test_relu_of_infinities_is_exact():
    x = Tensor(np.array([-np.inf, np.inf, -2.0], np.float32))
    np.testing.assert_array_equal(F.relu(x).data, [0, np.inf, 0])
