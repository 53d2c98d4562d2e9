"""Freed memory kept for the next batch: glibc's malloc told to reuse a CNN step's big temporaries
instead of handing them back to the kernel after every step (`keep_freed_memory`).

Why: a convolutional step makes a dozen arrays of 1-30 MB (feature maps, their gradients, padded
copies) and frees them all before the next step makes the same dozen again. glibc serves blocks that
big with fresh pages from the kernel (mmap) and gives the heap's free top back as soon as it exceeds
its trim threshold, so every step paid a page fault per 4 KiB and the kernel's zeroing of every
page: measured on the 2-core benchmark machine, fresh processes, `cnn:32,64` at batch 128,
1,106-1,247 images/s with glibc's defaults against 1,424-1,470 with the thresholds below (PyTorch
eager, whose arrays go through the same malloc, 1,146-1,248 as it runs by default). With them,
blocks up to MMAP_THRESHOLD come from the heap and up to TRIM_THRESHOLD of freed heap is kept, so a
step reuses the last step's pages.

The cost: a process that trained a CNN keeps up to TRIM_THRESHOLD of freed memory instead of
returning it to the system. It is done once per process, at the first convolution (never at import),
only where the C library is glibc; `NNSCRATCH_KEEP_FREED_MEMORY=0` leaves malloc as it is. These are
the knobs of `mallopt(3)` (M_MMAP_THRESHOLD, M_TRIM_THRESHOLD), as the environment variables
MALLOC_MMAP_THRESHOLD_ / MALLOC_TRIM_THRESHOLD_ would set them for the whole process.
"""

from __future__ import annotations

import ctypes
import os

ENV = "NNSCRATCH_KEEP_FREED_MEMORY"  # "0" (or false, no, off) leaves glibc's malloc settings alone
OFF = ("0", "false", "no", "off")  # "no" and "false" used to keep freed memory all the same
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # mallopt's parameter numbers (glibc's malloc.h)
MMAP_THRESHOLD = 32 * 2**20  # glibc's largest allowed value (HEAP_MAX_SIZE / 2 on 64-bit)
TRIM_THRESHOLD = 128 * 2**20

_state = {"done": False, "kept": False}


def keep_freed_memory(libc=None):
    """Set glibc's mmap and trim thresholds (see the module docstring) once per process.

    Returns True when malloc now keeps freed memory (this call or an earlier one), False where it was
    switched off (NNSCRATCH_KEEP_FREED_MEMORY=0, false, no or off), the C library has no `mallopt`
    (not glibc) or refused the values. `libc`: the C library to use (a ctypes.CDLL; tests pass a
    stand-in). Never raises.
    """
    if _state["done"]:
        return _state["kept"]
    _state["done"] = True
    if os.environ.get(ENV, "1").strip().lower() in OFF:
        return False
    try:
        mallopt = (libc or ctypes.CDLL(None)).mallopt
    except (OSError, AttributeError):  # no C library to load, or one without mallopt (musl, macOS)
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    _state["kept"] = bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    return _state["kept"]
