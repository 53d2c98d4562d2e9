"""A sweep's speed-up from local worker processes: the same 8 equal trials on 1, then 2 workers.

    PYTHONPATH=src python benchmarks/sweep.py [--trials 8] [--workers 1 2] [--dataset fashion-mnist]
                                              [--model mlp:256] [--epochs 1] [--json OUT]

The trials differ only in their seed, so each is the same work. Each run of the sweep starts in an
empty folder (nothing is skipped) and is timed from submission to the last result, worker start-up
included; BLAS gets cores ÷ workers threads per worker, as `nnscratch sweep` gives it. The target
is a speed-up of at least 1.7x from 1 to 2 workers, on a machine with at least 2 free cores: on a
machine shared with other jobs the figure says as much about the neighbours as about the sweep.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from nnscratch import data, sweep  # noqa: E402

TARGET = 1.7


def spec(args):
    return {"name": "bench", "seeds": list(range(args.trials)),
            "base": {"dataset": args.dataset, "model": args.model, "epochs": args.epochs, "batch_size": 128,
                     "lr": 0.05, "schedule": "constant", "val_fraction": 0.1}}


def timed_sweep(args, workers):
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        rows = sweep.run(spec(args), out=Path(folder) / "bench", workers=workers, progress=False,
                         echo=lambda m: None)
        seconds = time.perf_counter() - started
    failed = [r for r in rows if r["status"] != "done"]
    if failed:
        raise SystemExit(f"{len(failed)} trial(s) failed: {failed[0]['error']}")
    return seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--dataset", default="fashion-mnist")
    parser.add_argument("--model", default="mlp:256")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--json", help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    data.load(args.dataset, "train")  # found, verified and parsed once, before any clock starts
    data.load(args.dataset, "test")
    seconds = {w: timed_sweep(args, w) for w in args.workers}
    base = seconds[args.workers[0]]
    print(f"{args.trials} trials of {args.model}, {args.epochs} epoch(s) on {args.dataset}; "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end")
    for w, s in seconds.items():
        print(f"  {w} worker(s): {s:7.1f} s   speed-up {base / s:4.2f}x")
    speedup = base / seconds[args.workers[-1]]
    verdict = "meets" if speedup >= TARGET else "misses"
    print(f"speed-up {speedup:.2f}x {verdict} the {TARGET}x target")
    if args.json:
        Path(args.json).write_text(json.dumps({"seconds": seconds, "speedup": speedup, "target": TARGET,
                                               "cores": os.cpu_count(), "load": os.getloadavg()}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
