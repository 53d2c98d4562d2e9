"""A linear layer's weight gradient x.T @ g is kept as a LazyProduct: reading .grad gives the
right numbers in every use of the weight, and SGD's folded update equals the plain one."""

import numpy as np
import pytest

from nnscratch import Tensor, nn, optim
from nnscratch.nn import functional as F
from nnscratch.tensor import LazyProduct


def data(n=5, d=4, h=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)), rng.standard_normal((d, h)), rng.standard_normal((n, h))


def test_weight_gradient_is_a_product_until_read_then_the_hand_computed_array():
    x, w, g = data()
    weight = nn.Parameter(w)
    F.linear(Tensor(x), weight).backward(g)
    assert type(weight.raw_grad) is LazyProduct
    np.testing.assert_allclose(weight.grad, x.T @ g, rtol=1e-12)
    assert type(weight.raw_grad) is np.ndarray  # multiplied out once, then kept


def test_weight_used_twice_gets_the_sum_of_both_products():
    x, w, g = data()
    x2 = np.random.default_rng(1).standard_normal(x.shape)
    weight = nn.Parameter(w)
    (F.linear(Tensor(x), weight) + F.linear(Tensor(x2), weight)).backward(g)
    np.testing.assert_allclose(weight.grad, x.T @ g + x2.T @ g, rtol=1e-12)


def test_two_backward_passes_accumulate():
    x, w, g = data()
    weight = nn.Parameter(w)
    for _ in range(2):
        F.linear(Tensor(x), weight).backward(g)
    np.testing.assert_allclose(weight.grad, 2 * x.T @ g, rtol=1e-12)


def test_a_computed_weight_passes_the_product_on_to_what_made_it():
    x, w, g = data()
    p = nn.Parameter(w)
    F.linear(Tensor(x), p * 3.0).backward(g)  # the product reaches Mul's backward as an array
    np.testing.assert_allclose(p.grad, 3 * x.T @ g, rtol=1e-12)


@pytest.mark.parametrize("settings", [dict(momentum=0.9), dict(momentum=0.9, weight_decay=0.01), dict(),
                                      dict(momentum=0.9, nesterov=True)])
@pytest.mark.parametrize("size", [4, 200], ids=["numpy-sized", "blas-sized"])  # 200² > blas.MIN_SIZE
def test_sgd_folding_the_product_takes_the_same_steps_as_sgd_on_the_array(settings, size):
    rng = np.random.default_rng(2)
    start = rng.standard_normal((size, size)).astype(np.float32)
    batches = [(rng.standard_normal((8, size)).astype(np.float32), rng.standard_normal((8, size)).astype(np.float32))
               for _ in range(3)]

    def trajectory(as_product):
        p = nn.Parameter(start.copy())
        opt = optim.SGD([p], lr=0.1, **settings)
        for x, g in batches:
            p.grad = LazyProduct(x, g) if as_product else x.T @ g
            opt.step()
        return p.data

    folded, plain = trajectory(True), trajectory(False)
    np.testing.assert_allclose(folded, plain, rtol=1e-5, atol=1e-6)
    assert not np.allclose(folded, start)


def test_other_optimisers_receive_an_array():
    x, w, g = data()
    p = nn.Parameter(w)
    p.grad = LazyProduct(x, g)
    seen = []

    class Recording(optim.SGD):
        takes_products = False

        def update(self, w, g, state):
            seen.append(type(g))
            super().update(w, g, state)

    Recording([p], lr=0.1).step()
    assert seen == [np.ndarray]


def test_fit_lets_each_batchs_arrays_go_after_its_step():
    from nnscratch.train import fit

    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((64, 6)).astype(np.float32), rng.integers(0, 2, 64)
    model = nn.Sequential(nn.Linear(6, 4, rng=0), nn.ReLU(), nn.Linear(4, 2, rng=1))
    fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1, momentum=0.9), (X, y), epochs=1,
        batch_size=16, progress=False)
    assert all(p.raw_grad is None for p in model.parameters())  # no product still holding a batch
