"""nnscratch.blas's thread count: setting it takes effect and is restored, NNSCRATCH_BLAS_THREADS
fixes it, and the automatic count follows the cores other processes leave free."""

import ctypes
import os
import subprocess
import sys

import numpy as np
import pytest

from nnscratch import blas

needs_control = pytest.mark.skipif(blas.get_num_threads() is None, reason="NumPy's OpenBLAS not found here")
needs_two = pytest.mark.skipif(blas._threads.limit < 2, reason="the library runs one thread here")


@pytest.fixture(autouse=True)
def restore_threads():
    state = blas._threads
    before = (blas.get_num_threads(), state.auto, state.chosen, state.next_check)
    yield
    if before[0] is not None:
        state.put(before[0])
    state.auto, state.chosen, state.next_check = before[1:]


def library_count():
    """The count as the library itself reports it, read through a binding of our own."""
    lib = ctypes.CDLL(blas._library_candidates()[0])
    for name in ("scipy_openblas_get_num_threads64_", "scipy_openblas_get_num_threads", "openblas_get_num_threads"):
        if hasattr(lib, name):
            fn = getattr(lib, name)
            fn.restype = ctypes.c_int
            return fn()
    pytest.skip("no openblas_get_num_threads symbol")


@pytest.mark.parametrize("others, cores, limit, expected", [
    (0.0, 2, 2, 2), (0.2, 2, 2, 2), (0.3, 2, 2, 2),  # a core is free while others leave it >= 70% idle
    (0.31, 2, 2, 1), (0.5, 2, 2, 1), (1.0, 2, 2, 1), (1.6, 2, 2, 1), (7.0, 2, 2, 1),  # never fewer than 1
    (0.0, 2, 1, 1),  # never more than the library's own count (OPENBLAS_NUM_THREADS=1)
    (1.0, 8, 8, 7), (2.5, 8, 4, 4), (2.8, 8, 8, 5),
])
def test_auto_threads_gives_one_thread_per_free_core(others, cores, limit, expected):
    assert blas.auto_threads(others, cores, limit) == expected


@needs_control
def test_threadpool_limits_takes_effect_inside_and_restores_count_and_auto_mode():
    blas._threads.put(2)
    blas._threads.chosen, blas._threads.auto = 2, True
    a = np.random.default_rng(0).standard_normal((300, 200))
    with blas.threadpool_limits(1):
        assert blas.get_num_threads() == 1 and library_count() == 1
        assert not blas._threads.auto  # an explicit count is not overridden inside the block
        product = a @ a.T
    assert blas.get_num_threads() == 2 and library_count() == 2
    assert blas._threads.auto
    np.testing.assert_allclose(product, a @ a.T, rtol=1e-12, atol=1e-12)


@needs_control
def test_threadpool_limits_restores_after_an_error():
    blas.set_num_threads(2)
    with pytest.raises(KeyError):
        with blas.threadpool_limits(1):
            raise KeyError("inside")
    assert library_count() == 2 and not blas._threads.auto


@needs_control
def test_set_num_threads_fixes_the_count_and_ends_auto_mode():
    blas._threads.auto = True
    blas.set_num_threads(1)
    assert library_count() == 1 and not blas._threads.auto
    blas._threads.next_check = 0.0
    x, y = np.ones(blas.MIN_SIZE * 2, np.float32), np.zeros(blas.MIN_SIZE * 2, np.float32)
    blas.axpy(2.0, x, y)  # a call that would have re-measured in auto mode
    assert library_count() == 1 and y[0] == 2


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2", None])
def test_set_num_threads_rejects_what_is_not_a_whole_number_from_1(bad):
    with pytest.raises(ValueError, match=r"set_num_threads: n must be a whole number >= 1, got"):
        blas.set_num_threads(bad)


@needs_control
@needs_two
@pytest.mark.parametrize("others, expected", [(1.0, 1), (0.6, 1), (0.05, 2)])
def test_auto_mode_sets_the_count_from_others_load_at_the_next_call(monkeypatch, others, expected):
    state = blas._threads
    state.put(2 if expected == 1 else 1)
    state.chosen, state.auto, state.next_check = state.get(), True, 0.0
    monkeypatch.setattr(state, "others_cores", lambda: others)
    monkeypatch.setattr(state, "cores", 2)
    monkeypatch.setattr(state, "limit", 2)
    x, y = np.ones(blas.MIN_SIZE * 2, np.float32), np.zeros(blas.MIN_SIZE * 2, np.float32)
    blas.axpy(1.0, x, y)
    assert library_count() == expected and state.auto
    assert state.next_check > 0  # the next look is CHECK_SECONDS away, not at every call


@needs_control
@needs_two
def test_auto_mode_leaves_a_count_someone_else_set_alone(monkeypatch):
    state = blas._threads
    state.put(2)
    state.chosen, state.auto = 2, True
    state.put(1)  # as threadpoolctl or the user's own ctypes call would
    monkeypatch.setattr(state, "others_cores", lambda: 0.0)  # a quiet machine would mean 2 threads
    state.adapt()
    assert library_count() == 1 and not state.auto


def run_with_env(value, code):
    env = dict(os.environ, NNSCRATCH_BLAS_THREADS=value)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)


@needs_control
def test_environment_variable_fixes_the_count():
    done = run_with_env("1", "from nnscratch import blas; print(blas.get_num_threads(), blas._threads.auto)")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["1", "False"]


@needs_control
@needs_two
def test_environment_variable_auto_is_the_default():
    code = "from nnscratch import blas; print(blas._threads.auto)"
    assert run_with_env("auto", code).stdout.strip() == "True"
    env = {k: v for k, v in os.environ.items() if k != "NNSCRATCH_BLAS_THREADS"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert done.stdout.strip() == "True"


@pytest.mark.parametrize("bad", ["0", "two", "-1", "1.5"])
def test_environment_variable_with_a_bad_value_names_it_and_the_fix(bad):
    done = run_with_env(bad, "import nnscratch")
    assert done.returncode != 0
    assert f"NNSCRATCH_BLAS_THREADS='{bad}': give 'auto'" in done.stderr
    assert "a whole number >= 1, e.g. NNSCRATCH_BLAS_THREADS=1" in done.stderr


def test_others_load_excludes_this_process(monkeypatch):
    """Busy time that is all ours counts as no one else's: machine busy = own CPU gives 0 others."""
    state = blas._threads
    state.window = (10.0, 100.0, 5.0)  # then 0.5 s of wall time in which the machine and we both used 0.8 s
    monkeypatch.setattr(blas.time, "monotonic", lambda: 10.5)
    monkeypatch.setattr(blas, "_busy_seconds", lambda cpus: 100.8)
    monkeypatch.setattr(blas.time, "process_time", lambda: 5.8)
    assert state.others_cores() == 0.0
    state.window = (10.0, 100.0, 5.0)
    monkeypatch.setattr(blas.time, "process_time", lambda: 5.3)  # we used 0.3 s: others 0.5 s in 0.5 s
    assert state.others_cores() == pytest.approx(1.0)


def test_busy_seconds_counts_only_the_given_cores(tmp_path, monkeypatch):
    """Per-core lines of /proc/stat: busy = all ticks but idle and iowait, for the cores asked about."""
    stat = tmp_path / "stat"
    stat.write_text("cpu  30 0 10 500 5 0 0 0 0 0\n"
                    "cpu0 10 0 5 200 2 0 0 0 0 0\n"
                    "cpu1 20 0 5 300 3 1 1 2 0 0\n"
                    "intr 12345\n")
    real_open = open
    monkeypatch.setattr("builtins.open", lambda path, *a, **k: real_open(stat if path == "/proc/stat" else path, *a, **k))
    ticks = blas._CLOCK_TICKS
    assert blas._busy_seconds({0}) == pytest.approx(15 / ticks)
    assert blas._busy_seconds({1}) == pytest.approx(29 / ticks)  # irq, softirq and steal are busy too
    assert blas._busy_seconds({0, 1}) == pytest.approx(44 / ticks)


@needs_control
@needs_two
def test_a_count_set_by_others_before_the_first_check_stands():
    """As in a sweep worker that threadpoolctl limited to 1 thread right after starting."""
    code = ("from nnscratch import blas\n"
            "blas._threads.put(1)\n"  # the library's own setter, not ours: as threadpoolctl calls it
            "blas._threads.others_cores = lambda: 0.0\n"
            "blas._threads.adapt()\n"
            "print(blas.get_num_threads(), blas._threads.auto)")
    done = run_with_env("auto", code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["1", "False"]
