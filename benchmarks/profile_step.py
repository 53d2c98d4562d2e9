"""Where one training step's time goes: each operation's forward and backward, the optimiser,
the engine's bookkeeping and the matrix products, for the benchmark's MLP (784-512-256-10, ReLU,
softmax cross-entropy, SGD momentum 0.9, batch 128, float32), in one process.

    OPENBLAS_NUM_THREADS=1 python benchmarks/profile_step.py [--steps 300] [--rounds 5]

Each Function's forward and backward (and SGD's step, zero_grad, the batch's Tensor) is wrapped in
a timer here, in the script, not in the library; "engine" is the rest of the step (apply, the
topological order, gradient bookkeeping). `matmul` is the step's matrix products alone, the same
shapes (the limit). With OPENBLAS_NUM_THREADS=1 the figures are CPU time on one core, which other
load on a shared machine disturbs least; process time is printed beside wall time.
"""

from __future__ import annotations

import argparse
import collections
import statistics
import time

import numpy as np

from contenders import BATCH, LR, MOMENTUM, SIZES, init_weights, matmul_step, nnscratch_mlp

from nnscratch import Tensor, optim
from nnscratch.function import Function
from nnscratch.nn import functional as F

TIMES = collections.defaultdict(float)


def timed(label, fn):
    def wrapper(*args, **kwargs):
        started = time.process_time()
        try:
            return fn(*args, **kwargs)
        finally:
            TIMES[label] += time.process_time() - started
    return wrapper


def instrument(optimizer):
    """Wrap every Function subclass's forward/backward and the optimiser's step/zero_grad in timers."""
    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)
    for cls in set(subclasses(Function)):
        for method in ("forward", "backward"):
            if method in vars(cls):
                setattr(cls, method, timed(f"{cls.name} {method}", vars(cls)[method]))
    optimizer.step = timed("sgd step", optimizer.step)
    optimizer.zero_grad = timed("zero_grad", optimizer.zero_grad)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    batches = 50
    X = rng.standard_normal((BATCH * batches, SIZES[0])).astype(np.float32)
    Y = rng.integers(0, SIZES[-1], BATCH * batches)
    params = init_weights(SIZES)
    model = nnscratch_mlp(params)
    optimizer = optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    acts = [rng.standard_normal((BATCH, n)).astype(np.float32) for n in SIZES]
    weights = [(w.copy(), b.copy()) for w, b in params]

    def step(i):
        start = (i % batches) * BATCH
        x = timed("Tensor(batch)", Tensor)(X[start:start + BATCH])
        loss = F.cross_entropy(model(x), Y[start:start + BATCH])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    instrument(optimizer)
    per_round, totals, gemms = [], [], []
    for i in range(30):
        step(i)
    for _ in range(args.rounds):
        TIMES.clear()
        wall, cpu = time.perf_counter(), time.process_time()
        for i in range(args.steps):
            step(i)
        totals.append(((time.process_time() - cpu) / args.steps, (time.perf_counter() - wall) / args.steps))
        per_round.append({k: v / args.steps for k, v in TIMES.items()})
        cpu = time.process_time()
        for i in range(args.steps):
            matmul_step(weights, acts, X[(i % batches) * BATCH:][:BATCH])
        gemms.append((time.process_time() - cpu) / args.steps)
    step_cpu = statistics.median(t[0] for t in totals)
    labels = sorted(per_round[0], key=lambda k: -statistics.median(r.get(k, 0) for r in per_round))
    print(f"step: {step_cpu * 1e6:8.0f} us CPU ({statistics.median(t[1] for t in totals) * 1e6:.0f} us wall), "
          f"median of {args.rounds} rounds of {args.steps} steps")
    accounted = 0.0
    for label in labels:
        value = statistics.median(r.get(label, 0) for r in per_round)
        accounted += value
        print(f"  {label:<24} {value * 1e6:8.1f} us  {value / step_cpu:6.1%}")
    print(f"  {'engine (the rest)':<24} {(step_cpu - accounted) * 1e6:8.1f} us  {(step_cpu - accounted) / step_cpu:6.1%}")
    gemm = statistics.median(gemms)
    print(f"matrix products alone: {gemm * 1e6:.0f} us CPU; step / products "
          f"{statistics.median(t[0] / g for t, g in zip(totals, gemms)):.3f}")


if __name__ == "__main__":
    main()
