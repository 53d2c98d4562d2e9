"""What a PyTorch user types first works, and means what it means in PyTorch: each checked against
torch itself or by a gradient check."""

import numpy as np
import pytest
import torch

import nnscratch as ns
from nnscratch import Tensor, gradcheck, nn
from nnscratch.nn import functional as F

from conftest import param


def _both(rng, *shape):
    data = rng.standard_normal(shape)
    return Tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)


def _same_forward_and_backward(ours, theirs, fn_ours, fn_torch, upstream_seed=3):
    out, ref = fn_ours(ours), fn_torch(theirs)
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-12, atol=1e-12)
    g = np.random.default_rng(upstream_seed).standard_normal(ref.shape)
    out.backward(g)
    ref.backward(torch.from_numpy(g))
    np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name, ours, theirs", [
    ("view", lambda t: t.view(4, 3), lambda t: t.view(4, 3)),
    ("reshape -1", lambda t: t.reshape(-1, 2), lambda t: t.reshape(-1, 2)),
    ("unsqueeze", lambda t: t.unsqueeze(1), lambda t: t.unsqueeze(1)),
    ("unsqueeze -1", lambda t: t.unsqueeze(-1), lambda t: t.unsqueeze(-1)),
    ("squeeze", lambda t: t.unsqueeze(0).squeeze(), lambda t: t.unsqueeze(0).squeeze()),
    ("squeeze dim", lambda t: t.unsqueeze(2).squeeze(2), lambda t: t.unsqueeze(2).squeeze(2)),
    ("clamp", lambda t: t.clamp(-0.5, 0.7), lambda t: t.clamp(-0.5, 0.7)),
    ("clamp min", lambda t: t.clamp(min=0.1), lambda t: t.clamp(min=0.1)),
    ("relu", lambda t: t.relu(), lambda t: t.relu()),
    ("sigmoid", lambda t: t.sigmoid(), lambda t: t.sigmoid()),
    ("tanh", lambda t: t.tanh(), lambda t: t.tanh()),
    ("softmax dim 0", lambda t: t.softmax(0), lambda t: t.softmax(0)),
    ("softmax dim=1", lambda t: t.softmax(dim=1), lambda t: t.softmax(dim=1)),
    ("log_softmax", lambda t: t.log_softmax(dim=1), lambda t: t.log_softmax(dim=1)),
    ("sum dim keepdim", lambda t: t.sum(dim=1, keepdim=True), lambda t: t.sum(dim=1, keepdim=True)),
    ("mean dim tuple", lambda t: t.mean(dim=(0, 1)), lambda t: t.mean(dim=(0, 1))),
    ("max dim", lambda t: t.max(dim=0), lambda t: t.max(dim=0).values),
    ("clone", lambda t: t.clone() * 2, lambda t: t.clone() * 2),
    ("double", lambda t: t.double() * 3, lambda t: t.double() * 3),
    ("flatten", lambda t: t.unsqueeze(0).flatten(1), lambda t: t.unsqueeze(0).flatten(1)),
    ("cat dim", lambda t: ns.concatenate([t, t * 2], dim=1), lambda t: torch.cat([t, t * 2], dim=1)),
    ("stack dim", lambda t: ns.stack([t, t], dim=2), lambda t: torch.stack([t, t], dim=2)),
    ("F.softmax dim", lambda t: F.softmax(t, dim=0), lambda t: torch.softmax(t, dim=0)),
])
def test_pytorch_method_matches_torch_forward_and_backward(rng, name, ours, theirs):
    _same_forward_and_backward(*_both(rng, 3, 4), ours, theirs)


def test_new_differentiable_methods_pass_gradcheck(rng):
    x = param(rng, 3, 4, low=0.1)
    assert gradcheck(lambda t: t.clamp(-0.8, 0.9), x)
    assert gradcheck(lambda t: t.clone().unsqueeze(0).squeeze(0).view(2, 6), x)
    assert gradcheck(lambda t: t.softmax(dim=0), x)


def test_clamp_passes_the_gradient_at_the_bounds_as_torch():
    ours, theirs = Tensor([-1.0, 0.0, 0.5, 1.0, 2.0], requires_grad=True), torch.tensor([-1.0, 0.0, 0.5, 1.0, 2.0], requires_grad=True)
    ours.clamp(0.0, 1.0).sum().backward()
    theirs.clamp(0.0, 1.0).sum().backward()
    np.testing.assert_array_equal(ours.grad, theirs.grad.numpy())


def test_argmax_tolist_detach_float():
    t = Tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]])
    assert t.argmax(dim=1).tolist() == [1, 0] and t.argmax().item() == 3
    assert t.argmax(dim=0, keepdim=True).tolist() == [[1, 0, 1]]
    assert t.argmax(dim=1).dtype == np.int64
    assert t.tolist() == [[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]] and type(t.tolist()[0][0]) is float
    w = Tensor([1.0], requires_grad=True)
    assert not w.detach().requires_grad and w.detach().data is w.data
    h = Tensor(np.array([1.5]), requires_grad=True)
    f = h.float()
    assert f.dtype == np.float32 and f.float() is f
    (f * 2).sum().backward()
    assert h.grad.dtype == np.float64 and h.grad.tolist() == [2.0]


def test_axis_and_dim_together_must_agree():
    t = Tensor(np.ones((2, 3)))
    assert t.sum(axis=1, dim=1).shape == (2,)
    with pytest.raises(TypeError, match="axis=0 and dim=1"):
        t.sum(axis=0, dim=1)


def test_factories_match_torch_and_take_rng():
    assert ns.tensor([1, 2]).dtype == np.int64 and ns.tensor([1.0, 2]).dtype == np.float32
    assert ns.tensor([[1.0]], requires_grad=True).requires_grad
    assert ns.tensor(5.0).shape == () and ns.tensor(np.zeros(2, np.float64)).dtype == np.float64
    assert ns.zeros(2, 3).tolist() == torch.zeros(2, 3).tolist() and ns.ones((2,)).tolist() == [1.0, 1.0]
    assert ns.arange(5).tolist() == torch.arange(5).tolist() and ns.arange(5).dtype == np.int64
    assert ns.arange(1, 2, 0.25).tolist() == torch.arange(1, 2, 0.25).tolist()
    a, b, c = ns.randn(3, 4, rng=7), ns.randn(3, 4, rng=7), ns.randn(3, 4, rng=8)
    assert a.shape == (3, 4) and a.dtype == np.float32
    np.testing.assert_array_equal(a.data, b.data)
    assert not np.array_equal(a.data, c.data)
    big = ns.randn(200_000, rng=np.random.default_rng(0), dtype=np.float64).data
    assert abs(big.mean()) < 0.01 and abs(big.std() - 1) < 0.01


def test_the_module_name_is_callable_and_still_a_module():
    import nnscratch.tensor as tensor_module
    from nnscratch.tensor import Tensor as T

    assert ns.tensor is tensor_module and T is Tensor
    assert ns.tensor([1.0, 2.0]).tolist() == [1.0, 2.0]
    assert tensor_module.topological_order is not None


def test_a_module_takes_a_list_and_a_wrong_shape_names_both():
    model = nn.Sequential(nn.Linear(784, 16, rng=0), nn.ReLU(), nn.Linear(16, 10, rng=1))
    out = model([[0.0] * 784])
    assert out.shape == (1, 10) and out.dtype == np.float32
    np.testing.assert_allclose(out.data, model(np.zeros((1, 784), np.float32)).data)
    with pytest.raises(ValueError, match=r"Linear\(784 -> 16\) got input of shape \(2, 783\).*\(N, 784\)"):
        model([[0.0] * 783, [1.0] * 783])
    loss = nn.CrossEntropyLoss()(nn.Linear(3, 2, rng=0)((1.0, 2.0, 3.0)).reshape(1, 2), [1])
    assert loss.shape == ()
    assert (Tensor([1.0, 2.0]) + [1, 1]).tolist() == [2.0, 3.0]


def test_module_list_children_modules_apply():
    class Stack(nn.Module):
        def __init__(self):
            self.blocks = nn.ModuleList([nn.Linear(4, 4, rng=i) for i in range(3)])
            self.head = nn.Linear(4, 2, rng=9)

        def forward(self, x):
            for block in self.blocks:
                x = block(x).relu()
            return self.head(x)

    model = Stack()
    names = [name for name, _ in model.named_parameters()]
    assert names == ["blocks.0.weight", "blocks.0.bias", "blocks.1.weight", "blocks.1.bias", "blocks.2.weight",
                     "blocks.2.bias", "head.weight", "head.bias"]
    assert [type(c).__name__ for c in model.children()] == ["ModuleList", "Linear"]
    assert len(list(model.modules())) == 6 and len(model.blocks) == 3 and model.blocks[1] is list(model.blocks)[1]
    seen = []
    assert model.apply(lambda m: seen.append(type(m).__name__)) is model
    assert seen == ["Linear", "Linear", "Linear", "ModuleList", "Linear", "Stack"]  # PyTorch's order
    with pytest.raises(TypeError, match="ModuleList holds modules"):
        nn.ModuleList([nn.ReLU(), "relu"])
    model(np.ones((2, 4), np.float32)).sum().backward()
    assert all(p.grad is not None for p in model.parameters())


def test_module_float_and_double_cast_every_parameter():
    model = nn.Sequential(nn.Linear(3, 2, rng=0), nn.Tanh(), nn.Linear(2, 1, rng=1))
    before = model[0].weight.data.copy()
    assert model.double() is model
    assert all(p.dtype == np.float64 for p in model.parameters())
    np.testing.assert_array_equal(model[0].weight.data, before)
    assert model(np.ones((1, 3))).dtype == np.float64
    assert all(p.dtype == np.float32 for p in model.float().parameters())
    assert gradcheck(model.double(), Tensor(np.ones((2, 3)), requires_grad=True))
