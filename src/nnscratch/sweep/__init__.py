"""`nnscratch.sweep`: grids and random searches of training runs, on any concurrent.futures.Executor.

    nnscratch sweep examples/init-x-activation.toml --workers 4
    nnscratch sweep SPEC --scheduler tcp://HOST:8786          # on a Dask cluster
    nnscratch.sweep.run("spec.toml", executor=None)           # the same from Python

Each trial is a normal run folder (OUT/trials/ID, as `nnscratch train` writes); a re-run skips
finished trials and continues interrupted ones from their checkpoints; a failed trial is recorded
with its error and the others go on. Results: OUT/sweep.csv, sweep.json and sweep.html.
"""

from __future__ import annotations

import concurrent.futures
from pathlib import Path

from .executors import blas_threads_per_worker, dask_executor, interrupt, local_executor
from .results import row, write_results
from .spec import Spec, Trial, load_spec, points, trials
from .trial import is_finished, run_trial

__all__ = ["Spec", "Trial", "add_sweep_arguments", "command", "dask_executor", "load_spec", "local_executor",
           "points", "run", "run_trial", "trials"]

TRIALS_DIR = "trials"


def run(spec, executor=None, *, out=None, workers=None, progress=None, echo=print):
    """Run every trial of `spec` (a path to a .toml/.json spec, a dict, or a Spec) not yet finished.

    executor: any concurrent.futures.Executor (e.g. a Dask client's `get_executor()`); None makes a
    local process pool of `workers` processes (default one per core) and shuts it down afterwards.
    out: the sweep folder (default: the spec's `out`, else runs/NAME). Returns the list of result
    rows (one per trial, in the spec's order) also written to OUT/sweep.csv/.json/.html.
    Ctrl-C: stops every trial at a step boundary (each keeps a checkpoint), writes the results so
    far, and raises KeyboardInterrupt; running the sweep again continues where it stopped.
    """
    spec = load_spec(spec)
    planned = trials(spec)
    out = Path(out or spec.out or Path("runs") / spec.name)
    out.mkdir(parents=True, exist_ok=True)
    folders = {t.id: out / TRIALS_DIR / t.id for t in planned}
    results = {t.id: {"status": "finished-before", "summary": _read_summary(folders[t.id])}
               for t in planned if is_finished(folders[t.id])}
    pending = [t for t in planned if t.id not in results]
    if results:
        echo(f"{len(results)} of {len(planned)} trials finished before; running the other {len(pending)}")
    own = executor is None and bool(pending)
    if own:
        workers = workers or _default_workers(len(pending))
        executor = local_executor(workers)
    # a local pool gets one trial per worker at a time, so Ctrl-C finds no trial queued behind the running ones
    window = workers if own else (getattr(executor, "_max_workers", None) or len(pending))
    blas = blas_threads_per_worker(workers) if own else None
    queue, running = iter(pending), {}

    def submit_next():
        trial = next(queue, None)
        if trial is not None:
            running[executor.submit(run_trial, str(folders[trial.id]), trial.config, spec.offline, blas)] = trial

    try:
        with _bar(len(planned), len(results), progress) as bar:
            for _ in range(max(1, window)):
                submit_next()
            while running:
                done, _ = concurrent.futures.wait(running, return_when=concurrent.futures.FIRST_COMPLETED)
                for future in done:
                    trial = running.pop(future)
                    results[trial.id] = _outcome(future)
                    bar.update(1)
                    if results[trial.id]["status"] == "failed":
                        echo(f"trial {trial.id} failed: {results[trial.id]['error']}")
                    submit_next()
                write_results(out, spec, _rows(planned, results, folders))
    except KeyboardInterrupt:
        interrupt(executor, running)
        if own:
            executor.shutdown(wait=True, cancel_futures=True)
            own = False
        write_results(out, spec, _rows(planned, results, folders))
        finished = sum(r["status"] in ("done", "finished-before") for r in results.values())
        raise KeyboardInterrupt(f"sweep interrupted: {finished} of {len(planned)} trials finished; run the same "
                                f"command again to continue (finished trials are skipped, interrupted ones "
                                f"resume from their checkpoints)") from None
    finally:
        if own:
            executor.shutdown(wait=True)
    rows = _rows(planned, results, folders)
    write_results(out, spec, rows)
    return rows


def _default_workers(n_pending):
    import os

    return max(1, min(os.cpu_count() or 1, n_pending))


def _outcome(future):
    """A trial's result; an exception from the executor itself (a lost worker, a cancelled task)
    counts as a failure of that trial."""
    try:
        return future.result()
    except concurrent.futures.CancelledError:
        return {"status": "cancelled", "error": "cancelled before it ran"}
    except KeyboardInterrupt as stopped:  # the trial was asked to stop; its checkpoint is kept
        return {"status": "interrupted", "error": str(stopped)}
    except Exception as error:  # noqa: BLE001
        return {"status": "failed", "error": f"{type(error).__name__}: {error}"}


def _rows(planned, results, folders):
    return [row(t, results.get(t.id, {"status": "pending"}), folders[t.id]) for t in planned]


def _read_summary(folder):
    import json

    return json.loads((folder / "summary.json").read_text())


def _bar(total, done, progress):
    from ..progress import tqdm_class

    tqdm = tqdm_class()  # text without ipywidgets: no TqdmWarning in a notebook

    return tqdm(total=total, initial=done, desc="trials", unit="trial",
                disable=None if progress is None else not progress)


def add_sweep_arguments(parser):
    """The options of `nnscratch sweep` on its argparse subparser."""
    parser.add_argument("spec", metavar="SPEC", help="the sweep's spec, a .toml or .json file")
    parser.add_argument("--workers", type=int, default=None,
                        help="local worker processes (default: one per core, at most one per trial)")
    parser.add_argument("--scheduler", default=None, metavar="tcp://HOST:8786",
                        help="run the trials on this Dask scheduler's workers instead (the dask extra)")
    parser.add_argument("--out", default=None, help="the sweep folder (default: the spec's out, else runs/NAME)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def command(args, echo=print):
    """`nnscratch sweep`: run the spec; prints the counts and where the results are."""
    if args.workers is not None and args.workers < 1:
        raise ValueError(f"--workers must be a positive integer, got {args.workers}")
    if args.workers is not None and args.scheduler:
        raise ValueError("--workers and --scheduler do not combine: a Dask cluster has its own workers")
    spec = load_spec(args.spec)
    client = executor = None
    if args.scheduler:
        client, executor = dask_executor(args.scheduler)
    try:
        rows = run(spec, executor, out=args.out, workers=args.workers, progress=False if args.quiet else None,
                   echo=echo)
    finally:
        if client is not None:
            client.close()
    out = Path(args.out or spec.out or Path("runs") / spec.name)
    counts = {s: sum(r["status"] == s for r in rows) for s in dict.fromkeys(r["status"] for r in rows)}
    print(f"{len(rows)} trials: " + ", ".join(f"{n} {s}" for s, n in counts.items()))
    print(f"results: {out / 'sweep.html'}")
    return 1 if counts.get("failed") else 0
