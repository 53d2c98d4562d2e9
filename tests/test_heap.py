"""nnscratch.heap: after the first convolution, glibc's malloc keeps a step's big freed blocks for the
next step instead of faulting fresh zeroed pages in again; NNSCRATCH_KEEP_FREED_MEMORY=0 leaves it alone."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from nnscratch import heap

SRC = str(Path(__file__).resolve().parents[1] / "src")

# Six 12 MiB arrays alive at once, freed together, made again: a CNN step's pattern in miniature.
# Prints the page faults of the last 10 rounds.
STEPS = """
import resource, sys
import numpy as np
from nnscratch import heap, nn, Tensor
if sys.argv[1] == "keep":
    assert heap.keep_freed_memory()
elif sys.argv[1] in ("conv", "off"):
    nn.Conv2d(1, 2, 3, rng=0)(Tensor(np.zeros((1, 1, 5, 5), np.float32)))

def step():
    arrays = [np.ones(12 * 2**20 // 8) for _ in range(6)]
    del arrays

step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    step()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def page_faults(mode, **env):
    result = subprocess.run([sys.executable, "-c", STEPS, mode], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "PYTHONPATH": SRC, **env})
    assert result.returncode == 0, result.stderr
    return int(result.stdout)


@pytest.mark.skipif(not sys.platform.startswith("linux") or os.confstr("CS_GNU_LIBC_VERSION") is None,
                    reason="the thresholds are glibc's")
def test_a_convolution_makes_the_next_steps_reuse_freed_pages_instead_of_faulting_them_in():
    faulting = page_faults("default")
    assert faulting > 10 * (12 * 2**20 // 4096) // 2  # glibc's defaults: at least one array's pages fresh a step
    for mode in ("keep", "conv"):
        assert page_faults(mode) < faulting / 20, mode
    assert page_faults("off", NNSCRATCH_KEEP_FREED_MEMORY="0") > faulting / 2  # the off switch


class FakeLibc:
    """Stands in for glibc: records mallopt's calls, answers `answer` (1 = accepted)."""

    def __init__(self, answer=1):
        self.calls, self.answer = [], answer
        libc = self

        class Mallopt:
            argtypes = restype = None

            def __call__(self, parameter, value):
                libc.calls.append((parameter, value))
                return libc.answer
        self.mallopt = Mallopt()


@pytest.fixture
def fresh(monkeypatch):
    monkeypatch.setattr(heap, "_state", {"done": False, "kept": False})
    monkeypatch.delenv(heap.ENV, raising=False)


def test_both_thresholds_are_set_once_per_process(fresh):
    libc = FakeLibc()
    assert heap.keep_freed_memory(libc) and heap.keep_freed_memory(libc)
    assert libc.calls == [(heap.M_MMAP_THRESHOLD, 32 * 2**20), (heap.M_TRIM_THRESHOLD, 128 * 2**20)]


@pytest.mark.parametrize("off", ["0", "false", " No", "OFF"])  # "no" and "false" used to leave it on
def test_the_off_switch_leaves_malloc_alone(fresh, monkeypatch, off):
    monkeypatch.setenv(heap.ENV, off)
    libc = FakeLibc()
    assert heap.keep_freed_memory(libc) is False and libc.calls == []


@pytest.mark.parametrize("on", ["1", "yes", ""])
def test_other_values_keep_freed_memory(fresh, monkeypatch, on):
    monkeypatch.setenv(heap.ENV, on)
    assert heap.keep_freed_memory(FakeLibc()) is True


def test_a_c_library_without_mallopt_or_refusing_it_is_left_as_it_is(fresh, monkeypatch):
    assert heap.keep_freed_memory(object()) is False  # musl, macOS: no mallopt
    monkeypatch.setattr(heap, "_state", {"done": False, "kept": False})
    assert heap.keep_freed_memory(FakeLibc(answer=0)) is False
