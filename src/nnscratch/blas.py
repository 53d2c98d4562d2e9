"""Four BLAS routines called directly, for the sums of a training step that NumPy runs slowly.

NumPy runs SGD's `v *= m; v += g; w -= lr * v` as four passes on one core with a temporary
the size of `w`, after writing the gradient `g = x.T @ g_out` out in full. The BLAS library
NumPy itself ships with (OpenBLAS, inside NumPy's wheel) does the same sums on its own worker
threads, the velocity update inside the matrix product itself:

    axpy(a, x, y)           y += a * x
    axpby(a, x, b, y)       y  = a * x + b * y
    gemm_tn(a, x, g, b, y)  y  = a * x.T @ g + b * y    (v = momentum * v + x.T @ g_out in one call)
    gemm_nn(a, x, w, b, y)  y  = a * x @ w + b * y      (x @ W + b, the bias already in y)

Every function falls back to plain NumPy (same formula) when NumPy's BLAS is not found, the
arrays are small, not contiguous float32/float64 of one shape, or `NNSCRATCH_BLAS=numpy` is set:
the results agree to rounding either way. `BACKEND` names the one in use.
"""

from __future__ import annotations

import ctypes
import glob
import os

import numpy as np

_INT = {"64_": ctypes.c_int64, "": ctypes.c_int}  # symbol suffix -> integer width (ILP64 or LP64)
_ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112  # CBLAS's enum values
MIN_SIZE = 16384  # below this many elements a foreign call (~4 us) costs more than NumPy's single pass


def _library_candidates():
    """Shared libraries inside NumPy's wheel that look like a BLAS (Linux, macOS, Windows layouts)."""
    root = os.path.dirname(np.__file__)
    patterns = ("../numpy.libs/*openblas*", ".dylibs/*openblas*", "../numpy.libs/*blas*.dll")
    return sorted(p for pattern in patterns for p in glob.glob(os.path.join(root, pattern)))


def _bind(path):
    """{name: ctypes function} for s/d axpy, axpby and gemm from the library at `path`, or None."""
    lib = ctypes.CDLL(path)
    for prefix in ("scipy_", ""):
        for suffix, integer in _INT.items():
            names = {f"{t}{op}": f"{prefix}cblas_{t}{op}{suffix}" for t in "sd" for op in ("axpy", "axpby", "gemm")}
            if not all(hasattr(lib, symbol) for symbol in names.values()):
                continue
            funcs = {}
            for name, symbol in names.items():
                real = ctypes.c_float if name[0] == "s" else ctypes.c_double
                fn = getattr(lib, symbol)
                fn.restype = None
                p, i, e = ctypes.c_void_p, integer, ctypes.c_int
                fn.argtypes = {"axpy": [i, real, p, i, p, i], "axpby": [i, real, p, i, real, p, i],
                               "gemm": [e, e, e, i, i, i, real, p, i, p, i, real, p, i]}[name[1:]]
                funcs[name] = fn
            return funcs
    return None


def _load():
    if os.environ.get("NNSCRATCH_BLAS", "").lower() == "numpy":
        return None, "numpy (NNSCRATCH_BLAS=numpy)"
    for path in _library_candidates():
        try:
            funcs = _bind(path)
        except OSError:
            continue
        if funcs and _agrees_with_numpy(funcs):
            return funcs, f"BLAS {os.path.basename(path)}"
    return None, "numpy (NumPy's own BLAS library was not found)"


def _agrees_with_numpy(funcs):
    """A bound library is used only if it computes what NumPy computes on a small example."""
    x, y = np.arange(1, 7, dtype=np.float64), np.ones(6, np.float64)
    x32, y32 = x.astype(np.float32), np.ones(6, np.float32)
    a, b, c = x32.reshape(2, 3), x32[:4].reshape(2, 2), np.ones((3, 2), np.float32)
    funcs["daxpby"](6, 2.0, x.ctypes.data, 1, 3.0, y.ctypes.data, 1)
    funcs["saxpy"](6, -1.0, x32.ctypes.data, 1, y32.ctypes.data, 1)
    funcs["sgemm"](_ROW_MAJOR, _TRANS, _NO_TRANS, 3, 2, 2, 2.0, a.ctypes.data, 3, b.ctypes.data, 2, 0.5,
                   c.ctypes.data, 2)
    return (np.array_equal(y, 2 * x + 3) and np.array_equal(y32, 1 - x32)
            and np.array_equal(c, 2 * a.T @ b + np.float32(0.5)))


_FUNCS, BACKEND = _load()


def _blas(name, *arrays):
    """The typed BLAS function for these arrays, or None when NumPy must do it."""
    if _FUNCS is None or arrays[-1].size < MIN_SIZE:
        return None
    dtype = arrays[0].dtype
    if dtype not in (np.float32, np.float64):
        return None
    for a in arrays:
        if a.dtype != dtype or not a.flags.c_contiguous:
            return None
    if not arrays[-1].flags.writeable:
        return None
    return _FUNCS[("s" if dtype == np.float32 else "d") + name]


def axpy(a, x, y):
    """y += a * x, in place; x and y of one shape."""
    fn = _blas("axpy", x, y) if x.shape == y.shape else None
    if fn is None:
        y += y.dtype.type(a) * x
    else:
        fn(y.size, a, x.ctypes.data, 1, y.ctypes.data, 1)
    return y


def axpby(a, x, b, y):
    """y = a * x + b * y, in place; x and y of one shape."""
    fn = _blas("axpby", x, y) if x.shape == y.shape else None
    if fn is None:
        y *= y.dtype.type(b)
        y += y.dtype.type(a) * x if a != 1 else x
    else:
        fn(y.size, a, x.ctypes.data, 1, b, y.ctypes.data, 1)
    return y


def gemm_tn(a, x, g, b, y):
    """y = a * x.T @ g + b * y, in place; x: (N, D), g: (N, H), y: (D, H).

    With b = 0 the product is written into y; otherwise y is scaled and added to, with no temporary."""
    return _gemm(a, x, True, g, b, y)


def gemm_nn(a, x, w, b, y):
    """y = a * x @ w + b * y, in place; x: (N, D), w: (D, H), y: (N, H).

    With y prefilled by a bias row and b = 1, this is a layer's x @ W + b in one pass over y."""
    return _gemm(a, x, False, w, b, y)


def _gemm(a, x, transpose_x, w, b, y):
    """y = a * op(x) @ w + b * y with op(x) = x.T or x: one BLAS call, or NumPy's sums in place."""
    rows, inner = x.shape[::-1] if transpose_x else x.shape
    if w.shape[0] != inner or y.shape != (rows, w.shape[1]):
        name, partner, formula = ("gemm_tn", "g", "x.T @ g") if transpose_x else ("gemm_nn", "w", "x @ w")
        raise ValueError(f"{name}: x {x.shape}, {partner} {w.shape} and y {y.shape} do not fit y = {formula}")
    fn = _blas("gemm", x, w, y)
    if fn is not None:
        fn(_ROW_MAJOR, _TRANS if transpose_x else _NO_TRANS, _NO_TRANS, rows, w.shape[1], inner, a,
           x.ctypes.data, x.shape[1], w.ctypes.data, w.shape[1], b, y.ctypes.data, y.shape[1])
        return y
    product = (x.T if transpose_x else x) @ w
    if a != 1:
        product *= y.dtype.type(a)
    if b == 0:
        y[...] = product
    else:
        if b != 1:
            y *= y.dtype.type(b)
        y += product
    return y
