"""Numerical gradient checking: the engine's gradients against central differences.

The check runs in float64 whatever the inputs' dtype: with eps = 1e-6, float32's seven
digits would drown the difference quotient in rounding error.
"""

from __future__ import annotations

import numpy as np

from .tensor import Tensor, no_grad

_PROJECTION_SEED = 1234


def gradcheck(fn, *inputs, eps=1e-6, atol=1e-5, rtol=1e-4):
    """Check d fn / d input for every input Tensor with `requires_grad` (and, when `fn` is a
    `Module`, its parameters) against central differences (f(x+eps) - f(x-eps)) / 2 eps.

    A scalar output is checked as it is; a non-scalar output is reduced to the scalar sum(out * R) with a fixed random R, which
    checks every row of the Jacobian at once. Returns True, or raises AssertionError naming
    the input, the worst element, both values and the relative error.
    """
    inputs = [_as_float64(x) for x in inputs]
    params = _module_parameters(fn)
    saved = [p.data for _, p in params]
    try:
        for _, p in params:
            p.data = p.data.astype(np.float64)
        checked = [(f"input {i}", x) for i, x in enumerate(inputs) if _wants_grad(x)]
        checked += [(f"parameter {name!r}", p) for name, p in params]
        if not checked:
            raise ValueError("gradcheck: no input has requires_grad=True, so there is nothing to check")
        _check(fn, inputs, checked, eps, atol, rtol)
    finally:
        for (_, p), data in zip(params, saved):
            p.data = data
    return True


def _check(fn, inputs, checked, eps, atol, rtol):
    out = fn(*inputs)
    if out.size == 1:
        projection = np.ones(out.shape)
    else:
        projection = np.random.default_rng(_PROJECTION_SEED).standard_normal(out.shape)

    def scalar_output():
        with no_grad():
            return float((fn(*inputs).data * projection).sum())

    for _, x in checked:
        x.grad = None
    (out * Tensor(projection)).sum().backward()

    for label, x in checked:
        analytic = np.zeros_like(x.data) if x.grad is None else x.grad
        numeric = _central_differences(scalar_output, x.data, eps)
        error = np.abs(analytic - numeric)
        allowed = atol + rtol * np.abs(numeric)
        if np.any(~(error <= allowed)):
            worst = np.unravel_index(np.argmax(error - allowed), x.shape) if x.ndim else ()
            a, n = analytic[worst], numeric[worst]
            relative = abs(a - n) / max(abs(a), abs(n), 1e-300)
            raise AssertionError(
                f"gradcheck failed for {label} of shape {x.shape} at index {tuple(map(int, worst))}: "
                f"analytic {a:.10g}, numerical {n:.10g}, relative error {relative:.3g} "
                f"(allowed atol={atol}, rtol={rtol})"
            )


def _central_differences(f, x, eps):
    grad = np.zeros_like(x)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        original = flat[i]
        flat[i] = original + eps
        plus = f()
        flat[i] = original - eps
        minus = f()
        flat[i] = original
        gflat[i] = (plus - minus) / (2 * eps)
    return grad


def _as_float64(x):
    if isinstance(x, Tensor) and np.issubdtype(x.dtype, np.floating):
        copy = Tensor(x.data.astype(np.float64), requires_grad=x.requires_grad)
        return copy
    return x


def _wants_grad(x):
    return isinstance(x, Tensor) and x.requires_grad


def _module_parameters(fn):
    named = getattr(fn, "named_parameters", None)
    return list(named()) if callable(named) else []
