"""Grad mode: whether operations record the graph, one switch per thread (as PyTorch's).

A server that trains in one thread and evaluates under `no_grad()` in another keeps recording
the first thread's graph: the switch is a `threading.local`. Numpy-free, imports nothing.
"""

from __future__ import annotations

import contextlib
import threading


class _GradMode(threading.local):
    enabled = True  # every thread starts with gradients on, whatever another thread does


_grad_mode = _GradMode()


def is_grad_enabled() -> bool:
    """True when operations in this thread record the graph (False inside `no_grad()`)."""
    return _grad_mode.enabled


@contextlib.contextmanager
def set_grad_enabled(mode):
    """Record the graph (mode=True) or not (False) inside this block, in this thread only.

    Usable as `with set_grad_enabled(False):` or as a decorator; restores the previous mode on exit."""
    previous, _grad_mode.enabled = _grad_mode.enabled, bool(mode)
    try:
        yield
    finally:
        _grad_mode.enabled = previous


def no_grad():
    """`with no_grad():` (or `@no_grad()`): operations in this thread record no graph, as in PyTorch's
    `torch.no_grad`; for evaluation and optimiser updates. Other threads keep recording theirs."""
    return set_grad_enabled(False)


def enable_grad():
    """`with enable_grad():` records the graph again inside a `no_grad()` block (this thread only)."""
    return set_grad_enabled(True)
