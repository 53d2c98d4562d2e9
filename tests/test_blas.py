"""nnscratch.blas: the BLAS sums agree with NumPy's, and NumPy takes over whenever BLAS must not run."""

import os
import subprocess
import sys

import numpy as np
import pytest

from nnscratch import blas, optim
from nnscratch.nn import Parameter

BIG = blas.MIN_SIZE * 3 + 5  # above the size where BLAS is used; odd, so no kernel sees only full blocks
needs_blas = pytest.mark.skipif(blas._FUNCS is None, reason=f"no BLAS bound here: {blas.BACKEND}")


def arrays(dtype, n=BIG, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(n).astype(dtype), rng.standard_normal(n).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_axpy_and_axpby_compute_numpys_formula(dtype):
    x, y = arrays(dtype)
    expected = y + dtype(-0.05) * x
    out = blas.axpy(-0.05, x, y)
    assert out is y and y.dtype == dtype
    np.testing.assert_allclose(y, expected, rtol=1e-6, atol=1e-7)
    x, y = arrays(dtype, seed=1)
    expected = dtype(2.5) * x + dtype(0.9) * y
    blas.axpby(2.5, x, 0.9, y)
    np.testing.assert_allclose(y, expected, rtol=1e-6, atol=1e-6)


@needs_blas
def test_large_contiguous_float_arrays_go_to_blas_and_the_rest_to_numpy():
    x, y = arrays(np.float32)
    assert blas._blas("axpy", x, y) is not None
    assert blas._blas("axpy", x[:10], y[:10]) is None  # small: one NumPy pass is cheaper than a foreign call
    two_d = np.ones((BIG, 2), np.float32)
    assert blas._blas("axpy", two_d[:, 0], two_d[:, 1]) is None  # strided views
    assert blas._blas("axpy", x, y.astype(np.float64)) is None  # mixed dtypes
    assert blas._blas("axpy", x.astype(np.int64), y.astype(np.int64)) is None


@pytest.mark.parametrize("make_view", [lambda a: a[::2], lambda a: a[1:]], ids=["strided", "offset by one"])
def test_views_still_get_the_right_answer(make_view):
    x, y = arrays(np.float32, n=2 * BIG)
    xv, yv = make_view(x), make_view(y)
    expected = yv + np.float32(3) * xv
    blas.axpy(3.0, xv, yv)
    np.testing.assert_allclose(yv, expected, rtol=1e-6, atol=1e-6)  # BLAS fuses multiply-add: last-bit rounding


def test_a_read_only_target_is_refused_never_written():
    x, y = arrays(np.float32)
    before = y.copy()
    y.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        blas.axpy(1.0, x, y)
    np.testing.assert_array_equal(y, before)


def test_integer_arrays_use_numpy():
    y = np.arange(BIG, dtype=np.int64)
    blas.axpy(2, np.ones(BIG, np.int64), y)
    assert y[0] == 2 and y[-1] == BIG + 1


def test_environment_variable_switches_blas_off():
    env = dict(os.environ, NNSCRATCH_BLAS="numpy")
    done = subprocess.run([sys.executable, "-c", "from nnscratch import blas; print(blas.BACKEND)"],
                          capture_output=True, text=True, env=env, check=True)
    assert done.stdout.startswith("numpy (NNSCRATCH_BLAS=numpy)")


@pytest.mark.parametrize("settings", [dict(momentum=0.9), dict(momentum=0.9, nesterov=True, weight_decay=1e-3),
                                      dict()])
def test_sgd_takes_the_same_steps_with_and_without_blas(settings, monkeypatch):
    rng = np.random.default_rng(3)
    start = rng.standard_normal((BIG, 2)).astype(np.float32)
    grads = [rng.standard_normal(start.shape).astype(np.float32) for _ in range(3)]

    def trajectory():
        p = Parameter(start.copy())
        opt = optim.SGD([p], lr=0.1, **settings)
        for g in grads:
            p.grad = g
            opt.step()
        return p.data

    with_blas = trajectory()
    monkeypatch.setattr(blas, "_FUNCS", None)
    np.testing.assert_allclose(with_blas, trajectory(), rtol=1e-5, atol=1e-6)
    assert not np.array_equal(with_blas, start)


# name: shapes of x, its partner and y (each y over 16,384 elements: the BLAS path where there is one),
# and the product NumPy computes for it
GEMMS = {
    "gemm_tn": ((64, 300), (64, 70), (300, 70), lambda x, g: x.T @ g),  # a weight gradient x.T @ g
    "gemm_nn": ((128, 40), (40, 200), (128, 200), lambda x, w: x @ w),  # a layer's x @ W
}


@pytest.mark.parametrize("name", GEMMS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("a, b", [(1.0, 0.9), (2.0, 0.0), (-0.5, 1.0), (1.0, 0.0), (1.0, 1.0), (-0.5, 0.25)])
def test_gemm_adds_the_product_into_y(name, dtype, a, b):
    x_shape, partner_shape, y_shape, product = GEMMS[name]
    rng = np.random.default_rng(4)
    x, partner = rng.standard_normal(x_shape).astype(dtype), rng.standard_normal(partner_shape).astype(dtype)
    y = rng.standard_normal(y_shape).astype(dtype)
    expected = dtype(a) * product(x, partner) + dtype(b) * y
    out = getattr(blas, name)(a, x, partner, b, y)
    assert out is y
    np.testing.assert_allclose(y, expected, rtol=1e-4 if dtype == np.float32 else 1e-10, atol=1e-4)


def test_gemm_tn_names_the_shapes_that_do_not_fit():
    with pytest.raises(ValueError, match=r"x \(4, 3\), g \(5, 2\) and y \(3, 2\) do not fit"):
        blas.gemm_tn(1.0, np.ones((4, 3)), np.ones((5, 2)), 0.0, np.ones((3, 2)))


def test_gemm_nn_names_the_shapes_that_do_not_fit():
    with pytest.raises(ValueError, match=r"gemm_nn: x \(4, 3\), w \(4, 2\) and y \(4, 2\) do not fit y = x @ w"):
        blas.gemm_nn(1.0, np.ones((4, 3)), np.ones((4, 2)), 0.0, np.ones((4, 2)))
