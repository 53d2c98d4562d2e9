"""One training step, in one process: nnscratch, the hand-written NumPy reference, and the
step's matrix products alone, alternating in rounds; prints medians and the ratios.

    python benchmarks/step.py [--rounds 15] [--steps 40]

A finer view than run.py (which times whole epochs in fresh processes): useful to see what a
change to the engine costs or saves.
"""

import argparse
import statistics
import time

import numpy as np

from run import BATCH, LR, MOMENTUM, SIZES, init_weights, matmul_step, nnscratch_mlp, numpy_step

from nnscratch import Tensor, optim
from nnscratch.nn import functional as F


def contenders(batches=50):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((BATCH * batches, SIZES[0])).astype(np.float32)
    Y = rng.integers(0, SIZES[-1], BATCH * batches)
    params = init_weights(SIZES)

    model = nnscratch_mlp(params)
    optimizer = optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)

    def batch(i):
        start = (i % batches) * BATCH
        return X[start:start + BATCH], Y[start:start + BATCH]

    def nnscratch_step(i):
        xb, yb = batch(i)
        loss = F.cross_entropy(model(Tensor(xb)), yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    weights = [(w.copy(), b.copy()) for w, b in params]
    velocity = [(np.zeros_like(w), np.zeros_like(b)) for w, b in weights]

    def numpy_step_of(i):
        numpy_step(weights, velocity, *batch(i))

    activations = [rng.standard_normal((BATCH, n)).astype(np.float32) for n in SIZES]

    def matmul_step_of(i):
        matmul_step(weights, activations, batch(i)[0])

    return {"nnscratch": nnscratch_step, "numpy": numpy_step_of, "matmul": matmul_step_of}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--steps", type=int, default=40)
    args = parser.parse_args()
    steps = contenders()
    for step in steps.values():
        for i in range(20):
            step(i)
    times = {name: [] for name in steps}
    for _ in range(args.rounds):
        for name, step in steps.items():
            started = time.perf_counter()
            for i in range(args.steps):
                step(i)
            times[name].append((time.perf_counter() - started) / args.steps * 1e3)
    for name, values in times.items():
        print(f"{name:<10} {statistics.median(values):.3f} ms a step (range {min(values):.3f}-{max(values):.3f})")
    ratio = lambda a, b: statistics.median(x / y for x, y in zip(times[a], times[b]))  # noqa: E731
    print(f"nnscratch / numpy {ratio('nnscratch', 'numpy'):.2f}; nnscratch / matmul {ratio('nnscratch', 'matmul'):.2f}; "
          f"numpy / matmul {ratio('numpy', 'matmul'):.2f}")


if __name__ == "__main__":
    main()
