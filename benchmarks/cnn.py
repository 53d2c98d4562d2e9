"""The CNN workload (issue 18, item 5): nnscratch's `cnn:32,64` against the same layers in PyTorch
CPU eager, training steps interleaved round by round in one process, plus the step's GEMMs alone.

    [NNSCRATCH_BLAS_THREADS=1] python benchmarks/cnn.py [--rounds 5] [--steps 10] [--json OUT]

The model (28x28 grey images, batch 128, float32, SGD momentum 0.9): Conv2d(1, 32, 3, padding=1,
no bias) -> BatchNorm2d -> ReLU -> MaxPool2d(2) -> Conv2d(32, 64, 3, padding=1, no bias) ->
BatchNorm2d -> ReLU -> MaxPool2d(2) -> Flatten -> Linear(3136, 10), softmax cross-entropy.
Each round times `--steps` steps of nnscratch, then of PyTorch (torch.set_num_threads set to
nnscratch's thread count at the start, ns.blas.get_num_threads(): OpenBLAS's, which nnscratch's own
two-thread split of the CNN layers follows too), then the GEMMs alone (the same matrix products, shapes and dtype,
as NumPy calls: the floor any im2col implementation sits on). Reported: medians and ranges of
images per second, nnscratch ÷ PyTorch per round, and the step's time ÷ its GEMMs' time; each on
wall-clock time and, beside it, on this process's CPU time (`time.process_time`), which other jobs
on a shared machine disturb less (at one thread the two agree on an idle machine).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

BATCH, SHAPE, CLASSES, LR, MOMENTUM = 128, (28, 28), 10, 0.05, 0.9
from nnscratch import blas  # noqa: E402  (after the path above)

THREADS = blas.get_num_threads() or 1


def batch(seed):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((BATCH,) + SHAPE).astype(np.float32), rng.integers(0, CLASSES, BATCH)


def nnscratch_step():
    """A function running one training step of nnscratch's cnn:32,64."""
    from nnscratch import nn, optim
    from nnscratch.nn.zoo import cnn_layers
    from nnscratch.runs import RunConfig

    model = cnn_layers("cnn:32,64", SHAPE, CLASSES, RunConfig(model="cnn:32,64"))
    optimizer = optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    loss = nn.CrossEntropyLoss()
    x, y = batch(0)

    def step():
        optimizer.zero_grad()
        loss(model(x), y).backward()
        optimizer.step()
    return step


def torch_step():
    """A function running one training step of the same layers in PyTorch eager, or None without torch."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(THREADS)
    t = torch.nn
    model = t.Sequential(t.Unflatten(1, (1, SHAPE[0])), t.Conv2d(1, 32, 3, padding=1, bias=False), t.BatchNorm2d(32),
                         t.ReLU(), t.MaxPool2d(2), t.Conv2d(32, 64, 3, padding=1, bias=False), t.BatchNorm2d(64),
                         t.ReLU(), t.MaxPool2d(2), t.Flatten(), t.Linear(64 * 7 * 7, CLASSES))
    optimizer = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    loss = t.CrossEntropyLoss()
    x, y = (torch.from_numpy(a) for a in batch(0))

    def step():
        optimizer.zero_grad()
        loss(model(x), y).backward()
        optimizer.step()
    return step


def gemm_step():
    """A function running only the matrix products of one nnscratch step (same shapes, float32)."""
    rng = np.random.default_rng(1)
    a = lambda *s: rng.standard_normal(s).astype(np.float32)  # noqa: E731
    products = []
    for c_in, c_out, side, needs_dx in ((1, 32, 28, False), (32, 64, 14, True)):
        cols, w, g = a(c_in * 9, BATCH * side * side), a(c_out, c_in * 9), a(c_out, BATCH * side * side)
        products += [(w, cols), (g, cols.T)] + ([(w.T, g)] if needs_dx else [])
    x, w, g = a(BATCH, 3136), a(3136, CLASSES), a(BATCH, CLASSES)
    products += [(x, w), (g, w.T), (x.T, g)]

    def step():
        for left, right in products:
            left @ right
    return step


def seconds(step, n):
    """(wall-clock, CPU) seconds per call of step, averaged over n calls."""
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(n):
        step()
    return (time.perf_counter() - start) / n, (time.process_time() - cpu) / n


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)
    contenders = {"nnscratch": nnscratch_step(), "torch": torch_step(), "gemm": gemm_step()}
    contenders = {name: step for name, step in contenders.items() if step is not None}
    for step in contenders.values():
        step()  # warm-up: buffers allocated, libraries loaded
    times = {name: [] for name in contenders}
    cpu_times = {name: [] for name in contenders}
    for _ in range(args.rounds):
        for name, step in contenders.items():
            wall, cpu = seconds(step, args.steps)
            times[name].append(wall)
            cpu_times[name].append(cpu)
    result = {"threads": THREADS, "batch": BATCH, "rounds": args.rounds, "steps": args.steps,
              "load_average": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None}
    for name, ts in times.items():
        result[f"{name}_images_per_s"] = BATCH / statistics.median(ts)
        result[f"{name}_range"] = [BATCH / max(ts), BATCH / min(ts)]
        result[f"{name}_cpu_images_per_s"] = BATCH / statistics.median(cpu_times[name])
    for clock, ts in (("", times), ("_cpu", cpu_times)):
        if "torch" in ts:
            result[f"nnscratch_over_torch{clock}"] = statistics.median(t / n for n, t in zip(ts["nnscratch"], ts["torch"]))
        result[f"step_over_gemms{clock}"] = statistics.median(n / g for n, g in zip(ts["nnscratch"], ts["gemm"]))
    for key, value in result.items():
        print(f"{key:28s} {value if not isinstance(value, float) else round(value, 3)}")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()
