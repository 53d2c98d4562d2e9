"""The engine's contracts: eager ndarray gradients, the backward order, retain_grad, version counters
for in-place changes, per-thread grad mode, and every Function's name, rule and constants."""

import threading

import numpy as np
import pytest
import torch

import nnscratch as ns
from nnscratch import Tensor, nn
from nnscratch.function import Function
from nnscratch.nn import functional as F
from nnscratch.tensor import topological_order


# ----- gradients are arrays, computed during backward ----------------------------------------
def _torch_linear(weight, bias):
    layer = torch.nn.Linear(*weight.shape).double()
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(weight.T.copy()))
        layer.bias.copy_(torch.from_numpy(bias))
    return layer


@pytest.mark.parametrize("sizes", [(6, 4, 3), (20, 7, 5)])
def test_accumulating_through_one_reused_input_buffer_matches_pytorch(sizes):
    # The example: two micro-batches written into the same array, backward after each.
    n, d, h = sizes
    rng = np.random.default_rng(0)
    micro_batches = [rng.standard_normal((n, d)) for _ in range(2)]
    targets = [rng.integers(0, h, n) for _ in range(2)]
    layer = nn.Linear(d, h, rng=1, dtype=np.float64)
    reference = _torch_linear(layer.weight.data, layer.bias.data)
    buffer = np.empty((n, d))
    torch_buffer = torch.empty((n, d), dtype=torch.float64)
    for x, y in zip(micro_batches, targets):
        buffer[...] = x
        F.cross_entropy(layer(Tensor(buffer)), y).backward()
        torch_buffer.copy_(torch.from_numpy(x))
        torch.nn.functional.cross_entropy(reference(torch_buffer), torch.from_numpy(y)).backward()
    assert type(layer.weight.grad) is np.ndarray
    np.testing.assert_allclose(layer.weight.grad, reference.weight.grad.numpy().T, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(layer.bias.grad, reference.bias.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_every_gradient_is_a_plain_array_the_moment_backward_returns():
    model = nn.Sequential(nn.Linear(5, 4, rng=0), nn.ReLU(), nn.Linear(4, 3, rng=1))
    F.cross_entropy(model(np.ones((2, 5), np.float32)), [0, 2]).backward()
    assert all(type(p.grad) is np.ndarray and p.grad.shape == p.shape for p in model.parameters())


def test_backward_visits_the_reverse_of_topological_order():
    a = Tensor([1.0, 2.0], requires_grad=True)
    b = a * 3
    c = b.exp() + b
    loss = c.sum()
    order = topological_order(loss)
    position = {id(t): i for i, t in enumerate(order)}
    assert all(position[id(inp)] < position[id(t)] for t in order if t._ctx for inp in t._ctx.inputs if inp.requires_grad)
    visited = []
    for t in order:
        if t._ctx is not None:
            original = t._ctx.backward
            t._ctx.backward = lambda g, t=t, original=original: (visited.append(t), original(g))[1]
    loss.backward()
    assert visited == [t for t in reversed(order) if t._ctx is not None]


def test_retain_grad_keeps_the_sum_of_every_gradient_of_a_non_leaf():
    x = Tensor([1.0, -2.0], requires_grad=True)
    h = x * 2
    h.retain_grad()
    (h * h + h * 3).sum().backward()  # h is used three times: 2h + 3
    np.testing.assert_allclose(h.grad, 2 * np.array([2.0, -4.0]) + 3)
    np.testing.assert_allclose(x.grad, 2 * h.grad)
    assert x * 2 is not None and (x * 2).grad is None  # without retain_grad, nothing is kept


def test_a_released_graph_leaves_a_marker_with_no_inputs():
    x = Tensor([1.0], requires_grad=True)
    y = x * 2
    y.backward()
    assert y._ctx.inputs == () and y._ctx.name == "released"
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


# ----- in-place changes are caught --------------------------------------------------------------
def test_backward_refuses_an_input_of_mul_changed_in_place():
    a = Tensor([1.0, 2.0, 3.0])
    w = Tensor([0.5, 0.5, 0.5], requires_grad=True)
    y = (a * w).sum()
    a.add_(1)
    with pytest.raises(RuntimeError) as caught:
        y.backward()
    assert str(caught.value).startswith(
        "one of the tensors needed for the backward of mul (input 0, shape (3,)) was modified in place: "
        "it is at version 1, the graph saved version 0; clone it before modifying (t.clone())")


def test_backward_refuses_an_output_an_op_saved_changed_in_place():
    x = Tensor([0.0, 1.0], requires_grad=True)
    e = x.exp()
    e.retain_grad()
    loss = e.sum()
    with ns.no_grad():
        e.mul_(2)
        e.mul_(2)
    with pytest.raises(RuntimeError, match=r"backward of exp \(output, shape \(2,\)\).*at version 2, the graph saved version 0"):
        loss.backward()


def test_a_change_after_backward_or_to_an_unsaved_input_is_fine():
    a, b = Tensor([1.0, 2.0], requires_grad=True), Tensor([3.0, 4.0])
    y = (a + b).sum()  # add saves nothing: changing b cannot corrupt the gradient
    b.fill_(0)
    y.backward()
    np.testing.assert_array_equal(a.grad, [1.0, 1.0])


@pytest.mark.parametrize("operation, expected", [
    (lambda t: t.__setitem__(0, 9.0), [9.0, 2.0, 3.0]),
    (lambda t: t.add_(1), [2.0, 3.0, 4.0]),
    (lambda t: t.add_(Tensor([1.0, 1.0, 1.0]), alpha=2), [3.0, 4.0, 5.0]),
    (lambda t: t.sub_(1), [0.0, 1.0, 2.0]),
    (lambda t: t.mul_(2), [2.0, 4.0, 6.0]),
    (lambda t: t.div_(2), [0.5, 1.0, 1.5]),
    (lambda t: t.zero_(), [0.0, 0.0, 0.0]),
    (lambda t: t.fill_(7), [7.0, 7.0, 7.0]),
    (lambda t: t.copy_(np.array([4.0, 5.0, 6.0])), [4.0, 5.0, 6.0]),
    (lambda t: t.clamp_(min=1.5, max=2.5), [1.5, 2.0, 2.5]),
])
def test_every_in_place_operation_changes_the_data_and_bumps_the_version(operation, expected):
    t = Tensor([1.0, 2.0, 3.0])
    data = t.data
    operation(t)
    assert t.data is data and t.dtype == np.float32
    np.testing.assert_array_equal(t.data, expected)
    assert t._version == 1


def test_in_place_on_a_leaf_that_requires_grad_needs_no_grad():
    w = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="add_ changes a leaf tensor that requires grad in place.*no_grad"):
        w.add_(1)
    with ns.no_grad():
        w.sub_(Tensor([0.5, 0.5]))
    np.testing.assert_array_equal(w.data, [0.5, 1.5])


def test_an_optimiser_step_makes_a_graph_that_saved_the_weights_stale():
    w = nn.Parameter(np.array([1.0, 2.0], np.float32))
    x = Tensor([3.0, 4.0], requires_grad=True)
    y = (x * w).sum()
    w.grad = np.ones(2, np.float32)
    ns.optim.SGD([w], lr=0.1).step()
    with pytest.raises(RuntimeError, match=r"backward of mul \(input 1, shape \(2,\)\)"):
        y.backward()


# ----- grad mode is per thread ------------------------------------------------------------------
def test_no_grad_in_one_thread_does_not_stop_another_from_recording():
    inside_no_grad, recorded = threading.Barrier(2), {}

    def evaluator():
        with ns.no_grad():
            inside_no_grad.wait()  # the trainer records while this thread is inside no_grad
            recorded["evaluator"] = (Tensor([1.0], requires_grad=True) * 2).requires_grad
            inside_no_grad.wait()

    def trainer():
        inside_no_grad.wait()
        w = Tensor([1.0, 2.0], requires_grad=True)
        (w * w).sum().backward()
        recorded["trainer"] = (ns.is_grad_enabled(), w.grad.tolist())
        inside_no_grad.wait()

    threads = [threading.Thread(target=evaluator), threading.Thread(target=trainer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert recorded == {"evaluator": False, "trainer": (True, [2.0, 4.0])}


def test_a_new_thread_starts_with_grad_enabled_even_under_no_grad():
    seen = []
    with ns.no_grad():
        thread = threading.Thread(target=lambda: seen.append(ns.is_grad_enabled()))
        thread.start()
        thread.join()
        assert not ns.is_grad_enabled()
    assert seen == [True]


def test_no_grad_works_as_a_decorator():
    @ns.no_grad()
    def evaluate(w):
        return w * 2

    assert not evaluate(Tensor([1.0], requires_grad=True)).requires_grad
    assert ns.is_grad_enabled()


# ----- every Function names itself for a learner --------------------------------------------------
def _all_functions(cls=Function):
    """Every Function subclass of the library (tests define their own, e.g. a deliberately wrong one)."""
    for sub in cls.__subclasses__():
        if sub.__module__.startswith("nnscratch"):
            yield sub
        yield from _all_functions(sub)


def test_every_function_has_its_own_name_and_rule():
    import nnscratch.functional  # noqa: F401  (load every Function subclass)

    functions = list(_all_functions())
    assert len(functions) >= 30
    for fn in functions:
        assert "name" in vars(fn) and "rule" in vars(fn), fn.__name__
        assert fn.name.islower() and len(fn.rule.split()) >= 5, fn.__name__
    names = [fn.name for fn in functions]
    assert len(names) == len(set(names))


def test_function_classes_never_share_a_name_with_a_module():
    import nnscratch.functional as functional

    modules = {name for name in dir(nn) if isinstance(getattr(nn, name), type) and issubclass(getattr(nn, name), nn.Module)}
    functions = {fn.__name__ for fn in _all_functions()}
    assert not modules & functions
    assert {"ReLUFunction", "SigmoidFunction", "TanhFunction", "LinearFunction", "CrossEntropyFunction"} <= functions
    assert F is functional and nn.functional is functional


def test_a_recorded_node_exposes_inputs_needs_grad_saved_and_constants():
    x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    y = x.sum(axis=1)
    fn = y._ctx
    assert fn.name == "sum" and fn.constants == {"axis": 1, "keepdims": False}
    assert fn.inputs == (x,) and fn.needs_grad == (True,)
    z = x * Tensor(np.ones((2, 3)))
    assert z._ctx.needs_grad == (True, False) and z._ctx.saved[0] is x.data
    assert F.relu(x)._ctx.name == "relu" and nn.Linear(3, 2, rng=0)(x)._ctx.name == "linear"
