"""Where trials run: a local process pool (the default) or a Dask cluster, both as a
`concurrent.futures.Executor`, and how to stop either on Ctrl-C.

Local workers get BLAS threads = cores ÷ workers, so N workers do not each start a thread per
core and fight over them: the environment variables (for anything started later) and
threadpoolctl (for BLAS already loaded) are both set in the worker's initializer. Each worker
is put in its own process group, so a terminal's Ctrl-C reaches only the sweep, which then asks
each worker once to stop at a step boundary (its trial keeps a resumable checkpoint).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
from concurrent.futures import ProcessPoolExecutor

BLAS_ENV = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS",
            "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")
DASK_RETRIES = 2  # a trial whose task fails outside run_trial (a lost worker, an import error) is retried


def blas_threads_per_worker(workers, cores=None):
    """cores ÷ workers, at least 1: the BLAS threads each local worker may use."""
    cores = cores or os.cpu_count() or 1
    return max(1, cores // max(1, workers))


def _start_worker(threads):
    """Initializer of a local worker: its own process group, and `threads` BLAS threads. Idle, it ignores
    SIGINT; while training, fit's handler turns it into a checkpoint and a stop."""
    os.setpgrp()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for name in BLAS_ENV:
        os.environ[name] = str(threads)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    threadpool_limits(limits=threads)


def local_executor(workers=None):
    """A ProcessPoolExecutor of `workers` processes (default: one per core), BLAS limited as above.

    On Linux the workers are forked (made before the sweep starts any thread): "spawn" would re-run
    the main script in each worker, which a console script without an `if __name__ == "__main__"`
    guard cannot take. Elsewhere they are spawned, Python's default there."""
    workers = workers or os.cpu_count() or 1
    if workers < 1:
        raise ValueError(f"workers must be a positive integer, got {workers}")
    method = "fork" if sys.platform.startswith("linux") else "spawn"
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context(method),
                               initializer=_start_worker, initargs=(blas_threads_per_worker(workers),))


def dask_executor(scheduler):
    """(client, executor) for the Dask scheduler at `scheduler` ("tcp://HOST:8786"): dask.distributed's
    Client.get_executor, each task submitted with retries. Needs the `dask` extra."""
    try:
        from distributed import Client
    except ImportError:
        raise ImportError("--scheduler needs dask.distributed: pip install 'dask[distributed]' "
                          "(or, in the nnscratch checkout, pip install -e '.[dask]')") from None
    try:
        client = Client(scheduler, timeout="10s")
    except OSError as error:
        raise OSError(f"cannot reach the Dask scheduler at {scheduler} ({error}); start one with "
                      f"`dask scheduler` and workers with `dask worker {scheduler}`") from None
    return client, client.get_executor(retries=DASK_RETRIES, pure=False)


def interrupt(executor, futures):
    """Ctrl-C: cancel what has not started; ask each local worker once (SIGINT) to checkpoint and stop."""
    for future in futures:
        future.cancel()
    processes = getattr(executor, "_processes", None) or {}  # ProcessPoolExecutor's workers, by pid
    for pid in list(processes):
        try:
            os.kill(pid, signal.SIGINT)
        except (ProcessLookupError, PermissionError):
            pass
