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

This module also sets how many threads that library uses (for these calls and for NumPy's own
`@`): `get_num_threads()`, `set_num_threads(n)`, `threadpool_limits(n)` (a `with` block, as in
threadpoolctl). OpenBLAS splits each matrix product evenly over its threads and waits for the
slowest, so a thread on a core that another process is using stalls the whole product (measured:
a training step 6x slower with 2 threads than with 1 when other processes kept 1.5 of 2 cores
busy). By default (`NNSCRATCH_BLAS_THREADS=auto`) the count follows the free cores: every
`CHECK_SECONDS`, at the next call here, it is set to the cores that other processes leave at
least 70% free (`auto_threads`), at most the library's own count at import. A whole number in
`NNSCRATCH_BLAS_THREADS` fixes the count instead, and so does `set_num_threads`.

The count is the process's, shared with nnscratch.parallel, which splits the CNN layers' passes
over Python threads: while it does, the count is lent to those threads (`lend_threads`) and the
library runs at one thread, because OpenBLAS's workers spin for ~0.1 s after each multi-threaded
product and would fight the split's threads for the cores. The library gets the count back
LEND_SECONDS after the last split, at the next call here (an MLP's first step).
"""

from __future__ import annotations

import contextlib
import ctypes
import glob
import math
import os
import time

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
    if _threads.lent_until and time.monotonic() >= _threads.lent_until:
        _threads.end_loan()
    if _threads.auto and time.monotonic() >= _threads.next_check:
        _threads.adapt()
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


# ----- how many threads the library uses ------------------------------------------------------------
THREADS_ENV = "NNSCRATCH_BLAS_THREADS"  # "auto" (default) or a whole number >= 1
CHECK_SECONDS = 0.5  # the automatic count looks at the machine's load again after this long
FREE_SHARE = 0.7  # a core is free when other processes leave it at least this idle (the benchmark's "quiet")
LEND_SECONDS = 0.5  # the library gets its threads back this long after nnscratch.parallel's last split


def auto_threads(others_cores, cores, limit):
    """The BLAS threads worth using when other processes keep `others_cores` of our `cores` busy:
    one per core they leave at least FREE_SHARE idle, between 1 and `limit` (the library's own count).

    OpenBLAS gives each of its threads an equal share of a matrix product and waits for the last
    one; a thread on a core shared with a busy process runs at half speed or worse and holds the
    product up, so only a free core is worth a thread. On 2 cores: others 0.2 -> 2 threads, 0.5 -> 1.
    """
    free = math.floor(cores - others_cores + (1 - FREE_SHARE) + 1e-9)
    return max(1, min(int(limit), free))


def _bind_thread_control():
    """(get, set): the ctypes functions openblas_get/set_num_threads of NumPy's OpenBLAS, or (None, None)."""
    for path in _library_candidates():
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix, suffix in (("scipy_", "64_"), ("scipy_", ""), ("", "64_"), ("", "")):
            get = getattr(lib, f"{prefix}openblas_get_num_threads{suffix}", None)
            put = getattr(lib, f"{prefix}openblas_set_num_threads{suffix}", None)
            if get is not None and put is not None:
                get.restype, get.argtypes = ctypes.c_int, []
                put.restype, put.argtypes = None, [ctypes.c_int]
                return get, put
    return None, None


def _busy_seconds(cpus):
    """Busy seconds since boot of the cores numbered `cpus` (/proc/stat's per-core lines: user, nice,
    system, irq, softirq and steal ticks; idle and iowait are not busy), or None without /proc/stat."""
    busy = 0
    try:
        with open("/proc/stat") as f:
            for line in f:
                name, _, rest = line.partition(" ")
                if name[:3] != "cpu":
                    break  # the per-core lines come first
                if name[3:].isdigit() and int(name[3:]) in cpus:
                    ticks = [int(t) for t in rest.split()[:8]]
                    busy += sum(ticks) - ticks[3] - ticks[4]
    except (OSError, ValueError, IndexError):
        return None
    return busy / _CLOCK_TICKS


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


class _AutoThreads:
    """The thread count in force and, in "auto" mode, the rule that moves it (see `auto_threads`).

    Others' load over a window = (the busy time of the cores this process may run on - this process's
    CPU time, all its threads) / wall time. A count set by anyone else (the user,
    threadpoolctl) is noticed at the next check and then left alone: auto mode ends."""

    def __init__(self):
        self.get, self.put = _bind_thread_control()
        self.limit = self.get() if self.get else 1  # OPENBLAS_NUM_THREADS, or the library's core count
        self.cpus = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else range(os.cpu_count() or 1)
        self.cores = len(self.cpus)
        self.chosen = self.limit  # the count this module believes in force: any other means someone set it
        self.lent_until = 0.0  # while set, the library runs at one thread: the count is lent (lend_threads)
        setting = os.environ.get(THREADS_ENV, "auto").strip().lower() or "auto"
        self.auto = setting == "auto" and self.get is not None and self.limit > 1
        if setting != "auto":
            if not setting.isdigit() or int(setting) < 1:
                raise ValueError(f"{THREADS_ENV}={os.environ[THREADS_ENV]!r}: give 'auto' (threads follow the "
                                 f"free cores) or a whole number >= 1, e.g. {THREADS_ENV}=1")
            if self.put is not None:
                self.set(int(setting))
        self.restart_window()

    def restart_window(self):
        self.window = (time.monotonic(), _busy_seconds(self.cpus), time.process_time())
        self.next_check = self.window[0] + CHECK_SECONDS

    def set(self, n):
        """n becomes the count: the library's now, or when a loan to nnscratch.parallel's threads ends."""
        self.chosen = n
        if not self.lent_until:
            self.put(n)

    def lend(self):
        """The library at one thread until LEND_SECONDS from now (see lend_threads)."""
        if not self.lent_until:
            self.notice_count_set_by_others(self.chosen)
            self.put(1)
        self.lent_until = time.monotonic() + LEND_SECONDS

    def end_loan(self):
        """The library runs the count again (unless someone else set one meanwhile: theirs stands)."""
        if self.lent_until:
            self.lent_until = 0.0
            if not self.notice_count_set_by_others(1):
                self.put(self.chosen)

    def notice_count_set_by_others(self, expected):
        """True, and that count adopted as the fixed count, when the library no longer runs `expected`
        threads: someone else (threadpoolctl, the user) set it."""
        if self.get() == expected:
            return False
        self.chosen, self.auto = self.get(), False
        return True

    def others_cores(self):
        """Cores other processes used on ours since the last call (None without /proc/stat)."""
        (wall0, busy0, own0), self.window = self.window, (time.monotonic(), _busy_seconds(self.cpus), time.process_time())
        wall, busy, own = self.window
        if busy is None or busy0 is None or wall <= wall0:
            return None
        return max(0.0, (busy - busy0) - (own - own0)) / (wall - wall0)

    def adapt(self):
        """Re-measure others' load and set the count `auto_threads` gives (called from `_blas`)."""
        self.next_check = time.monotonic() + CHECK_SECONDS
        if self.chosen is not None and self.get() != (1 if self.lent_until else self.chosen):
            self.auto = False  # someone else set a count since: theirs stands
            return
        others = self.others_cores()
        if others is None:
            self.auto = False
            return
        n = auto_threads(others, self.cores, self.limit)
        if n != self.chosen:
            self.set(n)


_threads = _AutoThreads()
if hasattr(os, "register_at_fork"):  # a forked child's CPU clock restarts at 0: so must its window
    os.register_at_fork(after_in_child=_threads.restart_window)


def get_num_threads():
    """The threads NumPy's BLAS library (OpenBLAS) uses now — or, while they are lent to
    nnscratch.parallel's split (lend_threads), the threads that split uses: an int, or None where
    the library was not found."""
    if _threads.get is None:
        return None
    return _threads.chosen if _threads.lent_until else _threads.get()


def lend_threads():
    """Lend the thread count to nnscratch.parallel's Python threads: the library runs at one thread
    from now until LEND_SECONDS after the last call (it gets the count back at the next call here
    after that, or at set_num_threads). Why: OpenBLAS's workers spin for ~0.1 s after each
    multi-threaded product (an MLP layer's, an optimiser's update), and would fight the split's
    threads for the cores; with the library at one thread, all the parallelism is the split's."""
    if _threads.get is not None:
        _threads.lend()


def set_num_threads(n):
    """Make NumPy's BLAS library use `n` threads from now on (for nnscratch's calls and NumPy's `@`),
    switching the automatic count off. n: a whole number >= 1 (more than the cores only slows it).

    Raises ValueError for another n; RuntimeError where NumPy's OpenBLAS was not found (then set
    OPENBLAS_NUM_THREADS before Python starts, or use threadpoolctl)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"set_num_threads: n must be a whole number >= 1, got {n!r}")
    if _threads.put is None:
        raise RuntimeError(f"set_num_threads: NumPy's OpenBLAS was not found ({BACKEND}); set "
                           f"OPENBLAS_NUM_THREADS before starting Python, or use threadpoolctl")
    _threads.auto = False
    _threads.end_loan()
    _threads.set(int(n))


@contextlib.contextmanager
def threadpool_limits(limits):
    """`with blas.threadpool_limits(1): ...` runs the block with `limits` BLAS threads, then restores
    the count and the automatic mode that were in force (threadpoolctl's name and meaning, for
    NumPy's OpenBLAS only). Raises as `set_num_threads` does."""
    before, was_auto = get_num_threads(), _threads.auto
    set_num_threads(limits)
    try:
        yield
    finally:
        _threads.end_loan()
        _threads.set(before)
        _threads.auto = was_auto
