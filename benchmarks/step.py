"""One training step, in one process: nnscratch, the hand-written NumPy reference, the same
step hand-written with nnscratch's BLAS calls (the floor for NumPy element-wise work), and the
step's matrix products alone, alternating in rounds; prints medians and the ratios.

    python benchmarks/step.py [--rounds 15] [--steps 40]

A finer view than run.py (which times whole epochs in fresh processes): useful to see what a
change to the engine costs or saves.
"""

import argparse
import statistics
import time

import numpy as np

from contenders import (BATCH, LR, MOMENTUM, SIZES, cross_entropy_grad_in_place, init_weights, matmul_step,
                         nnscratch_mlp, numpy_step)

from nnscratch import Tensor, blas, optim
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

    fused_weights = [(w.copy(), b.copy()) for w, b in params]
    fused_velocity = [(np.zeros_like(w), np.zeros_like(b)) for w, b in fused_weights]

    def fused_step_of(i):
        fused_step(fused_weights, fused_velocity, *batch(i))

    activations = [rng.standard_normal((BATCH, n)).astype(np.float32) for n in SIZES]

    def matmul_step_of(i):
        matmul_step(weights, activations, batch(i)[0])

    return {"nnscratch": nnscratch_step, "numpy": numpy_step_of, "fused": fused_step_of, "matmul": matmul_step_of}


def fused_step(params, velocity, xb, yb):
    """numpy_step with every trick nnscratch uses, and nothing else: the bias inside the GEMM, ReLU
    against a row of zeros and in place, x.T @ g folded into the velocity, w -= lr * v as one axpy."""
    acts = [xb]
    for layer, (w, b) in enumerate(params):
        h = np.empty((len(xb), w.shape[1]), w.dtype)
        h[...] = b
        blas.gemm_nn(1.0, acts[-1], w, 1.0, h)
        if layer < len(params) - 1:
            np.maximum(h, np.zeros(h.shape[1], h.dtype), out=h)
        acts.append(h)
    grad = cross_entropy_grad_in_place(acts[-1], yb)
    for layer in range(len(params) - 1, -1, -1):
        (w, b), (vw, vb) = params[layer], velocity[layer]
        blas.gemm_tn(1.0, acts[layer], grad, MOMENTUM, vw)
        blas.axpby(1.0, grad.sum(axis=0), MOMENTUM, vb)
        if layer:
            grad = grad @ w.T
            grad *= acts[layer] > 0
        blas.axpy(-LR, vw, w)
        blas.axpy(-LR, vb, b)


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
          f"fused / matmul {ratio('fused', 'matmul'):.2f}; numpy / matmul {ratio('numpy', 'matmul'):.2f}")


if __name__ == "__main__":
    main()
