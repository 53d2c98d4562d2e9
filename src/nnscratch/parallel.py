"""The second core for the CNN layers: a pass over a feature map split into blocks that Python
threads run side by side (`for_blocks`), the one place where nnscratch itself runs threads.

Why: a convolutional step is mostly element-wise passes (batch norm, ReLU, pooling, the im2col
copies) between matrix products. NumPy runs each pass on one core, so with two cores half the
machine idled between two-core products (measured: 0.86x PyTorch at two threads, 1.06x at one).
NumPy releases the GIL inside ufuncs, reductions, copies and BLAS calls on large arrays, so two
Python threads, each given its own block of channels, run on two cores at once. In the batch-last
layout (functional.conv) a block of channels is one contiguous slab of memory, so each thread
streams through memory of its own. Every layer that uses this is per-channel maths (batch norm's
statistics, pooling's windows, a conv's input channels or output columns), so each block computes
exactly what the whole array would, and the layer's code reads as its maths applied to
`x[:, block]`.

Why one BLAS thread: OpenBLAS's own worker threads spin for about 0.1 s after each multi-threaded
product, fighting every other thread for the cores. A split lends the thread count to these threads
(ns.blas.lend_threads): the library runs at one thread, so a product inside a block is
single-threaded, and so are the few products between splits (the classifier's linear layer, the
optimiser's updates: small), so nothing spins beside the split. The library gets its threads back
half a second after the last split.

How many threads: ns.blas.get_num_threads() (in the default auto mode, the cores other processes
leave free) — one rule for the library's products and for the split. At one thread, for small
arrays (under MIN_ELEMENTS), and while another split runs (inside a block, or from another thread),
`fn` runs inline on the caller's thread, as one block.
"""

from __future__ import annotations

import contextvars
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from . import blas

MIN_ELEMENTS = 1 << 18  # below ~262k numbers a pass takes < 0.2 ms: a thread hand-off (~30 us) would eat the gain

_pool: ThreadPoolExecutor | None = None
_pool_size = 0
_pool_lock = threading.Lock()
_split_lock = threading.Lock()  # held by the thread whose split is running


def num_threads():
    """The threads a split uses now: ns.blas.get_num_threads(), or 1 where NumPy's OpenBLAS was not found."""
    return blas.get_num_threads() or 1


def blocks(n_items, n_blocks):
    """`n_blocks` consecutive slices covering range(n_items), their lengths differing by at most one
    (the first ones longer): blocks(5, 2) -> [slice(0, 3), slice(3, 5)]."""
    n_blocks = max(1, min(n_blocks, n_items))
    size, extra = divmod(n_items, n_blocks)
    bounds = [0]
    for i in range(n_blocks):
        bounds.append(bounds[-1] + size + (i < extra))
    return [slice(a, b) for a, b in zip(bounds, bounds[1:])]


def for_blocks(fn, n_items, size):
    """Call fn(block) for blocks (slices) covering range(n_items), one per thread, and wait for all.

    n_items: how many independent items (channels, columns) the work divides into; size: the number
    of array elements the whole pass touches (decides whether splitting pays). Each call of fn must
    write only its own block's part of the outputs. The caller's thread runs the first block itself.
    Runs fn(slice(0, n_items)) inline when there is one thread, `size` < MIN_ELEMENTS, n_items < 2,
    or another thread's split is running (the BLAS count is the process's, so one split at a time).
    An exception in any block is raised here after every block has finished."""
    threads = min(num_threads(), n_items) if size >= MIN_ELEMENTS else 1
    if threads < 2 or not _split_lock.acquire(blocking=False):
        fn(slice(0, n_items))
        return
    try:
        parts = blocks(n_items, threads)
        blas.lend_threads()  # the library at one thread: each block's products are single-threaded
        # each block in a copy of the caller's context: np.errstate and other context variables hold there too
        futures = [_executor(threads - 1).submit(contextvars.copy_context().run, fn, part) for part in parts[1:]]
        try:
            fn(parts[0])
        finally:
            for future in futures:
                future.exception()  # wait for every block before any error leaves (their outputs are ours)
        for future in futures:
            future.result()
    finally:
        _split_lock.release()


def for_channel_blocks(fn, x):
    """Call fn(block) for blocks of the channels of x, one per thread (see for_blocks), where `block` is
    the index of one block in any array shaped like x (`a[block]`): np.s_[:, c0:c1] for a feature map
    x: (N, C, ...), and np.s_[...] (all of it, inline) for anything else. fn must write only the block.

    A matrix x: (N, D) — an MLP's activations — runs inline as one block: its products run on
    OpenBLAS's own threads, whose spinning after each product a split beside them would fight."""
    if x.ndim < 3:
        fn(np.s_[...])
    else:
        for_blocks(lambda channels: fn(np.s_[:, channels]), x.shape[1], x.size)


def _executor(workers):
    """The persistent pool of worker threads, grown to at least `workers` (threads start once, not per call)."""
    global _pool, _pool_size
    with _pool_lock:
        if _pool is None or _pool_size < workers:
            old, _pool, _pool_size = _pool, ThreadPoolExecutor(workers, thread_name_prefix="nnscratch-block"), workers
            if old is not None:
                old.shutdown(wait=False)
        return _pool


def _forget_pool_in_child():
    """A forked child has none of its parent's threads: its first split starts a pool of its own."""
    global _pool, _pool_size, _pool_lock, _split_lock
    _pool, _pool_size, _pool_lock, _split_lock = None, 0, threading.Lock(), threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool_in_child)
