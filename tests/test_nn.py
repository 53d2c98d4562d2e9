import numpy as np
import pytest

from nnscratch import Tensor, gradcheck, nn
from nnscratch.nn import functional as F
from nnscratch.nn import init

from conftest import param


def mlp(seed=0):
    return nn.Sequential(nn.Flatten(), nn.Linear(12, 8, rng=seed), nn.ReLU(), nn.Linear(8, 3, rng=seed + 1))


# ----- Linear -------------------------------------------------------------------------------------
def test_linear_weight_is_in_by_out_and_computes_x_at_w_plus_b(rng):
    layer = nn.Linear(4, 3, rng=0)
    assert layer.weight.shape == (4, 3) and layer.bias.shape == (3,)
    assert layer.weight.dtype == np.float32
    layer.bias.data[...] = [1.0, 2.0, 3.0]
    x = rng.standard_normal((5, 4)).astype(np.float32)
    np.testing.assert_allclose(layer(Tensor(x)).data, x @ layer.weight.data + [1, 2, 3], rtol=1e-6)


def test_linear_passes_gradient_check_with_and_without_bias(rng):
    assert gradcheck(nn.Linear(4, 3, rng=0), param(rng, 5, 4))
    assert gradcheck(nn.Linear(4, 3, bias=False, rng=0), param(rng, 5, 4))
    assert gradcheck(lambda x, w, b: F.linear(x, w, b), param(rng, 2, 5, 4), param(rng, 4, 3), param(rng, 3))


def test_linear_without_bias_has_only_a_weight():
    layer = nn.Linear(4, 3, bias=False, rng=0)
    assert [n for n, _ in layer.named_parameters()] == ["weight"]
    assert repr(layer) == "Linear(4 -> 3, bias=False)"


def test_two_linear_layers_without_activation_are_one_linear_layer(rng):
    first, second = nn.Linear(6, 5, rng=0), nn.Linear(5, 3, rng=1)
    first.bias.data[...] = rng.standard_normal(5)
    second.bias.data[...] = rng.standard_normal(3)
    merged = nn.Linear(6, 3, rng=2)
    merged.weight.data[...] = first.weight.data @ second.weight.data
    merged.bias.data[...] = first.bias.data @ second.weight.data + second.bias.data
    x = Tensor(rng.standard_normal((7, 6)).astype(np.float32))
    np.testing.assert_allclose(nn.Sequential(first, second)(x).data, merged(x).data, rtol=1e-5, atol=1e-6)


def test_linear_given_images_says_to_flatten_them():
    layer = nn.Linear(784, 256, rng=0)
    with pytest.raises(ValueError, match=r"Linear\(784 -> 256\) got input of shape \(128, 28, 28\); flatten"):
        layer(Tensor(np.zeros((128, 28, 28), np.float32)))
    with pytest.raises(ValueError, match=r"shape \(2, 100\); it expects \(N, 784\)"):
        layer(Tensor(np.zeros((2, 100), np.float32)))


def test_layer_sizes_must_be_positive_integers():
    with pytest.raises(ValueError, match="out_features must be a positive integer, got 0"):
        nn.Linear(3, 0)
    with pytest.raises(ValueError, match="unknown init 'uniformish'.*kaiming"):
        nn.Linear(3, 2, init="uniformish")


# ----- Module ------------------------------------------------------------------------------------
def test_named_parameters_follow_the_layer_order():
    names = [n for n, _ in mlp().named_parameters()]
    assert names == ["1.weight", "1.bias", "3.weight", "3.bias"]
    assert len(mlp().parameters()) == 4


class Block(nn.Module):
    def __init__(self):
        self.encoder = nn.Linear(3, 4, rng=0)
        self.heads = [nn.Linear(4, 2, rng=1), nn.Linear(4, 1, rng=2)]
        self.scale = nn.Parameter(np.ones(1, np.float32))

    def forward(self, x):
        h = F.relu(self.encoder(x))
        return self.heads[0](h).sum() + self.heads[1](h).sum() * self.scale


def test_custom_modules_find_parameters_in_attributes_and_lists(rng):
    block = Block()
    names = [n for n, _ in block.named_parameters()]
    assert names == ["scale", "encoder.weight", "encoder.bias", "heads.0.weight", "heads.0.bias",
                     "heads.1.weight", "heads.1.bias"]
    out = block(Tensor(rng.standard_normal((2, 3)).astype(np.float32)))
    out.backward()
    assert all(p.grad is not None for p in block.parameters())
    block.zero_grad()
    assert all(p.grad is None for p in block.parameters())


def test_a_shared_parameter_is_listed_once():
    layer = nn.Linear(3, 3, rng=0)
    net = nn.Sequential(layer, nn.ReLU(), layer)
    assert len(net.parameters()) == 2


def test_train_and_eval_reach_every_submodule():
    net = mlp()
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())


def test_state_dict_round_trip_restores_outputs(rng):
    a, b = mlp(seed=0), mlp(seed=10)
    x = Tensor(rng.standard_normal((2, 3, 4)).astype(np.float32))
    state = a.state_dict()
    a.parameters()[0].data += 1  # the state dict is a copy, not a view
    b.load_state_dict(state)
    a.load_state_dict(state)
    np.testing.assert_array_equal(a(x).data, b(x).data)


def test_load_state_dict_names_missing_unexpected_and_misshapen_keys():
    net = mlp()
    state = net.state_dict()
    state["5.weight"] = state.pop("3.weight")
    with pytest.raises(ValueError, match=r"missing keys \['3.weight'\], unexpected keys \['5.weight'\]"):
        net.load_state_dict(state)
    state = net.state_dict()
    state["1.weight"] = np.zeros((8, 12))
    with pytest.raises(ValueError, match=r"'1.weight' has shape \(12, 8\) in the model but \(8, 12\)"):
        net.load_state_dict(state)


def test_repr_shows_the_architecture():
    assert repr(mlp()) == (
        "Sequential(\n  (0): Flatten()\n  (1): Linear(12 -> 8)\n  (2): ReLU()\n  (3): Linear(8 -> 3)\n)"
    )
    assert "(encoder): Linear(3 -> 4)" in repr(Block())


def test_sequential_indexing_and_type_check():
    net = mlp()
    assert isinstance(net[1], nn.Linear) and len(net) == 4
    assert len(net[1:3]) == 2
    with pytest.raises(TypeError, match="item 1 is a function"):
        nn.Sequential(nn.ReLU(), F.relu)


# ----- initialisers -----------------------------------------------------------------------------
@pytest.mark.parametrize("name, std", [
    ("normal", 0.01), ("small", 0.01), ("large", 1.0), ("xavier", 1 / np.sqrt(400)),
    ("glorot", np.sqrt(2 / 700)), ("kaiming", np.sqrt(2 / 400)), ("normal:0.05", 0.05),
])
def test_initialisers_draw_the_documented_spread(name, std):
    w = init.get(name)((400, 300), rng=0)
    assert w.dtype == np.float32
    assert abs(w.mean()) < 0.01 * std * 10
    assert w.std() == pytest.approx(std, rel=0.02)


def test_initialisers_are_reproducible_from_a_seed_and_leave_global_state_alone():
    state = np.random.get_state()[1].copy()
    a = init.kaiming((5, 4), rng=3)
    b = nn.Linear(5, 4, rng=3).weight.data
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, init.kaiming((5, 4), rng=4))
    assert np.array_equal(np.random.get_state()[1], state)
    assert init.zeros((2, 2)).sum() == 0
    assert init.xavier((3, 3), rng=np.random.default_rng(1), dtype=np.float64).dtype == np.float64


# ----- the lecture's worked examples -------------------------------------------------------------
def test_three_layer_sigmoid_network_gives_the_lecture_output():
    x = Tensor(np.array([[1.0, 0.5]]))
    W1, b1 = Tensor([[0.1, 0.3, 0.5], [0.2, 0.4, 0.6]], dtype=np.float64), Tensor([0.1, 0.2, 0.3], dtype=np.float64)
    W2 = Tensor([[0.1, 0.4], [0.2, 0.5], [0.3, 0.6]], dtype=np.float64)
    b2 = Tensor([0.1, 0.2], dtype=np.float64)
    W3, b3 = Tensor([[0.1, 0.3], [0.2, 0.4]], dtype=np.float64), Tensor([0.1, 0.2], dtype=np.float64)
    z1 = F.sigmoid(F.linear(x, W1, b1))
    z2 = F.sigmoid(F.linear(z1, W2, b2))
    y = F.linear(z2, W3, b3)  # the output layer is the identity
    np.testing.assert_allclose(y.data[0], [0.31682708, 0.69627909], rtol=1e-7)


def test_two_layer_network_gradients_equal_the_hand_derived_formulas():
    rng = np.random.default_rng(0)
    N, D_in, H, D_out = 64, 1000, 100, 10
    x, y = rng.standard_normal((N, D_in)), rng.standard_normal((N, D_out))
    w1 = Tensor(rng.standard_normal((D_in, H)) * 0.01, requires_grad=True)
    w2 = Tensor(rng.standard_normal((H, D_out)) * 0.1, requires_grad=True)
    h = F.sigmoid(Tensor(x) @ w1)
    y_pred = h @ w2
    ((y_pred - y) ** 2).sum().backward()

    h_, y_pred_ = h.data, y_pred.data  # the lecture's NumPy backward, by hand
    grad_y_pred = 2 * (y_pred_ - y)
    grad_w2 = h_.T @ grad_y_pred
    grad_h = grad_y_pred @ w2.data.T
    grad_w1 = x.T @ (grad_h * h_ * (1 - h_))
    np.testing.assert_allclose(w2.grad, grad_w2, rtol=1e-6)
    np.testing.assert_allclose(w1.grad, grad_w1, rtol=1e-6)
