"""Stability at extreme values and dtype discipline: nothing overflows, nothing drifts to float64."""

import numpy as np
import pytest

from nnscratch import Tensor, nn
from nnscratch.nn import functional as F
from nnscratch.optim import SGD
from nnscratch.tensor import topological_order


@pytest.fixture
def strict_numpy():
    with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
        yield


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_and_softmax_with_logits_of_1e4(strict_numpy, dtype):
    z = Tensor(np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 5e3]], dtype), requires_grad=True)
    loss = F.cross_entropy(z, np.array([0, 2]))
    assert loss.item() == pytest.approx((0 + 5e3) / 2)  # row 2 misses by 1e4 - 5e3
    loss.backward()
    np.testing.assert_allclose(z.grad, [[0, 0, 0], [0, 0.5, -0.5]], atol=1e-7)
    p = F.softmax(z)
    np.testing.assert_allclose(p.data, [[1, 0, 0], [0, 1, 0]], atol=1e-7)
    assert np.isfinite(F.log_softmax(z).data).all()


def test_bce_elu_and_softmax_backward_at_extremes(strict_numpy):
    x = Tensor(np.array([-1e4, 1e4, 0.0], np.float32), requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(x, np.array([1.0, 0.0, 1.0]), reduction="sum")
    assert loss.item() == pytest.approx(2e4 + np.log(2), rel=1e-6)
    loss.backward()
    np.testing.assert_allclose(x.grad, [-1, 1, -0.5])
    F.elu(x).sum().backward()
    F.softmax(x).max().backward()
    assert np.isfinite(x.grad).all()


ACTIVATIONS = [nn.Sigmoid(), nn.Tanh(), nn.ReLU(), nn.LeakyReLU(), nn.ELU(), nn.Identity()]


@pytest.mark.parametrize("act", ACTIVATIONS, ids=repr)
@pytest.mark.parametrize("loss", ["cross_entropy", "hinge", "mse", "l1", "bce", "gaussian"])
def test_a_float32_model_stays_float32_everywhere(act, loss):
    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(12, 6, rng=0), act, nn.Maxout(6, 5, rng=1),
                          nn.Linear(5, 4, rng=2), nn.LogSoftmax() if loss == "l1" else nn.Identity())
    x = rng.standard_normal((8, 3, 4))  # float64 data: Linear and the engine must not promote
    labels = rng.integers(0, 4, 8)
    target = rng.random((8, 4))  # float64 targets are cast to the prediction's dtype
    out = model(x)
    value = {
        "cross_entropy": lambda: F.cross_entropy(out, labels),
        "hinge": lambda: F.hinge_loss(out, labels),
        "mse": lambda: F.mse_loss(out, target),
        "l1": lambda: nn.L1Loss()(out, target),
        "bce": lambda: F.binary_cross_entropy_with_logits(out, target),
        "gaussian": lambda: F.gaussian_nll_loss(out, target, 2.0, full=True),
    }[loss]()
    value.backward()
    for node in topological_order(value):
        assert node.dtype == np.float32, f"{type(node._ctx).__name__} produced {node.dtype}"
    for name, p in model.named_parameters():
        assert p.grad.dtype == np.float32, name


def test_integer_images_and_float64_data_enter_a_float32_layer_as_float32():
    x = np.arange(12, dtype=np.uint8).reshape(2, 6)
    assert nn.Linear(6, 3, rng=0)(x).dtype == np.float32
    assert nn.Maxout(6, 3, rng=0)(x.astype(np.float64)).dtype == np.float32


def float64_arrays_in(values):
    """Names of the float64 arrays among `values` (name -> object)."""
    return [name for name, a in values.items() if isinstance(a, np.ndarray) and a.dtype == np.float64]


def test_a_float32_training_step_never_makes_a_float64_array_on_the_way():
    # The engine casts a backward's result to its input's dtype, which would hide an op that
    # computes in float64 (twice the memory traffic): look at every op's own outputs and state.
    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Linear(20, 16, rng=0), nn.ReLU(), nn.Linear(16, 8, rng=1), nn.ReLU(),
                          nn.Linear(8, 3, rng=2))
    optimizer = SGD(model.parameters(), lr=0.1, momentum=0.9)
    loss = F.cross_entropy(model(rng.standard_normal((32, 20))), rng.integers(0, 3, 32))  # float64 data in
    offenders = []
    for node in topological_order(loss):
        fn = node._ctx
        if fn is None:
            continue
        name = type(fn).__name__
        offenders += [f"{name}.{a}" for a in float64_arrays_in(vars(fn))]
        offenders += [f"{name}.saved[{i}]" for i in float64_arrays_in(dict(enumerate(getattr(fn, "saved", ()))))]

        def checked(grad, fn=fn, name=name, backward=fn.backward):
            grads = backward(grad)
            offenders.extend(f"{name}.backward[{i}]" for i in float64_arrays_in(dict(enumerate(grads))))
            return grads

        fn.backward = checked
    loss.backward()
    optimizer.step()
    offenders += [f"SGD state {k}" for s in optimizer.state for k in float64_arrays_in(s)]
    assert offenders == []
