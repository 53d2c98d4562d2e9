"""nnscratch against PyTorch eager, scikit-learn and a hand-written NumPy MLP, on this machine.

    python benchmarks/run.py [--quick] [--json OUT]

Every measurement runs in a fresh process, interleaved round by round (A B C D, A B C D, ...),
so a slow minute on a shared machine hits every contender alike; the table reports medians,
ranges, and nnscratch's ratio to each peer taken pair by pair within a round.

What is measured (MLP 784-512-256-10, ReLU, softmax cross-entropy, SGD momentum 0.9,
batch 128, float32, on Fashion-MNIST, or same-shape random data when the files are absent):
training throughput; the time of the step's matrix products alone (the limit); inference
throughput at batch 10,000; epoch time as the width and the batch size grow; peak memory of a
full `nnscratch train`; and accuracy after the same number of epochs, so that speed is never
bought with worse learning. PyTorch and scikit-learn come from the `bench` extra
(pip install -e ".[bench]"); a contender that is not installed is reported as skipped.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

SIZES = (784, 512, 256, 10)
BATCH = 128
LR, MOMENTUM = 0.05, 0.9
CORES = os.cpu_count() or 1
TARGETS = {  # nnscratch / peer, higher is better (the step/matmul ratio: lower is better)
    "torch": 1.35,
    "sklearn": 1.5,
    "numpy": 0.97,
    "matmul_limit": 1.12,
    "inference_torch": 1.2,
    "rss_multiple": 2.5,
}


# ----- data -----------------------------------------------------------------------------------------
def dataset(n_train):
    """(X, y, X_test, y_test, source): standardised float32 Fashion-MNIST, or random data of its shape."""
    try:
        from nnscratch import data

        X, y = data.load("fashion-mnist")
        X_test, y_test = data.load("fashion-mnist", "test")
        source = "Fashion-MNIST"
    except (FileNotFoundError, OSError, ValueError):
        rng = np.random.default_rng(0)
        X, y = rng.integers(0, 256, (60000, 28, 28), dtype=np.uint8), rng.integers(0, 10, 60000)
        X_test, y_test = rng.integers(0, 256, (10000, 28, 28), dtype=np.uint8), rng.integers(0, 10, 10000)
        source = "random data of Fashion-MNIST's shape (files not found)"
    mean, std = X.mean(), X.std()
    prep = lambda a: ((a.reshape(len(a), -1) - mean) / std).astype(np.float32)  # noqa: E731
    return prep(X[:n_train]), y[:n_train].astype(np.int64), prep(X_test), y_test.astype(np.int64), source


def init_weights(sizes, seed=0):
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal((a, b)).astype(np.float32) * np.float32(np.sqrt(2 / a)), np.zeros(b, np.float32))
            for a, b in zip(sizes[:-1], sizes[1:])]


def batches(n, batch, epoch):
    order = np.random.default_rng(epoch).permutation(n)
    return [order[i:i + batch] for i in range(0, n - batch + 1, batch)]


# ----- contenders: each trains for `epochs` and returns (seconds training, test accuracy) ---------------
def nnscratch_mlp(params):
    """The MLP through nnscratch's public API, starting from the given weights."""
    from nnscratch import nn

    layers = []
    for i, (w, b) in enumerate(params):
        linear = nn.Linear(w.shape[0], w.shape[1], rng=i)
        linear.weight.data[...], linear.bias.data[...] = w, b
        layers += [linear, nn.ReLU()]
    return nn.Sequential(*layers[:-1])


def torch_mlp(params):
    import torch

    layers = []
    for w, b in params:
        linear = torch.nn.Linear(w.shape[0], w.shape[1])
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(w.T.copy()))
            linear.bias.copy_(torch.from_numpy(b))
        layers += [linear, torch.nn.ReLU()]
    return torch.nn.Sequential(*layers[:-1])


def cross_entropy_grad_in_place(z, yb):
    """The mean softmax cross-entropy's gradient (softmax(z) - onehot(yb)) / N, written over the logits z."""
    z -= z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    z[np.arange(len(yb)), yb] -= 1
    z *= np.float32(1 / len(yb))
    return z


def numpy_step(params, velocity, xb, yb):
    """One SGD-momentum step of the lecture's network written by hand: fused, in place, float32."""
    acts, masks = [xb], []
    for w, b in params[:-1]:
        h = acts[-1] @ w
        h += b
        mask = h > 0
        h *= mask
        acts.append(h)
        masks.append(mask)
    z = acts[-1] @ params[-1][0]
    z += params[-1][1]
    grad = cross_entropy_grad_in_place(z, yb)
    for layer in range(len(params) - 1, -1, -1):
        w, b = params[layer]
        dw, db = acts[layer].T @ grad, grad.sum(axis=0)
        if layer:
            grad = grad @ w.T
            grad *= masks[layer - 1]
        vw, vb = velocity[layer]
        vw *= MOMENTUM
        vw += dw
        vb *= MOMENTUM
        vb += db
        w -= LR * vw
        b -= LR * vb


def run_nnscratch(X, y, Xt, yt, epochs, sizes, batch):
    from nnscratch import Tensor, no_grad, optim
    from nnscratch.nn import functional as F

    model = nnscratch_mlp(init_weights(sizes))
    optimizer = optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    seconds = 0.0
    for epoch in range(epochs):
        shuffled = batches(len(X), batch, epoch)
        Xs, ys = X[np.concatenate(shuffled)], y[np.concatenate(shuffled)]  # one gather an epoch
        started = time.perf_counter()
        for i in range(len(shuffled)):
            loss = F.cross_entropy(model(Tensor(Xs[i * batch:(i + 1) * batch])), ys[i * batch:(i + 1) * batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        seconds += time.perf_counter() - started
    with no_grad():
        accuracy = float(np.mean(model(Tensor(Xt)).data.argmax(axis=1) == yt))
    return seconds, accuracy


def run_numpy(X, y, Xt, yt, epochs, sizes, batch):
    """The lecture's network written as fast as NumPy allows: fused, in place, float32 throughout."""
    params = init_weights(sizes)
    velocity = [(np.zeros_like(w), np.zeros_like(b)) for w, b in params]
    seconds = 0.0
    for epoch in range(epochs):
        shuffled = batches(len(X), batch, epoch)
        Xs, ys = X[np.concatenate(shuffled)], y[np.concatenate(shuffled)]
        started = time.perf_counter()
        for i in range(len(shuffled)):
            numpy_step(params, velocity, Xs[i * batch:(i + 1) * batch], ys[i * batch:(i + 1) * batch])
        seconds += time.perf_counter() - started
    h = Xt
    for w, b in params[:-1]:
        h = np.maximum(h @ w + b, 0)
    accuracy = float(np.mean((h @ params[-1][0] + params[-1][1]).argmax(axis=1) == yt))
    return seconds, accuracy


def run_torch(X, y, Xt, yt, epochs, sizes, batch):
    import torch

    torch.set_num_threads(CORES)
    model = torch_mlp(init_weights(sizes))
    optimizer = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    loss_fn = torch.nn.CrossEntropyLoss()
    seconds = 0.0
    for epoch in range(epochs):
        shuffled = batches(len(X), batch, epoch)
        Xs = torch.from_numpy(X[np.concatenate(shuffled)])
        ys = torch.from_numpy(y[np.concatenate(shuffled)])
        started = time.perf_counter()
        for i in range(len(shuffled)):
            loss = loss_fn(model(Xs[i * batch:(i + 1) * batch]), ys[i * batch:(i + 1) * batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        seconds += time.perf_counter() - started
    with torch.no_grad():
        accuracy = float((model(torch.from_numpy(Xt)).argmax(dim=1).numpy() == yt).mean())
    return seconds, accuracy


def run_sklearn(X, y, Xt, yt, epochs, sizes, batch):
    import warnings

    from sklearn.neural_network import MLPClassifier

    clf = MLPClassifier(hidden_layer_sizes=sizes[1:-1], solver="sgd", learning_rate_init=LR, momentum=MOMENTUM,
                        nesterovs_momentum=False, batch_size=batch, max_iter=epochs, alpha=0.0, shuffle=True,
                        random_state=0, tol=0.0, n_iter_no_change=epochs + 1)
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(X, y)  # float32 in: scikit-learn keeps float32
    return time.perf_counter() - started, float(clf.score(Xt, yt))


def matmul_step(params, acts, xb):
    """Only a step's matrix products, same shapes: forward, then the backward ones a step needs
    (every weight gradient, and the input gradient of every layer but the first)."""
    h = xb
    for w, _ in params:
        h = h @ w
    for layer in range(len(params) - 1, -1, -1):
        _ = (xb if layer == 0 else acts[layer]).T @ acts[layer + 1]
        if layer:
            _ = acts[layer + 1] @ params[layer][0].T


def run_matmul(X, y, Xt, yt, epochs, sizes, batch):
    params = init_weights(sizes)
    acts = [np.random.default_rng(1).standard_normal((batch, n)).astype(np.float32) for n in sizes]
    steps = epochs * (len(X) // batch)
    started = time.perf_counter()
    for i in range(steps):
        matmul_step(params, acts, X[(i % (len(X) // batch)) * batch:][:batch])
    return time.perf_counter() - started, None


def run_inference(contender, X_test, sizes, repeats):
    """Samples per second of a forward pass at batch 10,000 (nnscratch or torch)."""
    Xb = np.ascontiguousarray(np.resize(X_test, (10_000, X_test.shape[1])))
    params = init_weights(sizes)
    if contender == "nnscratch":
        from nnscratch import Tensor, no_grad

        model = nnscratch_mlp(params).eval()

        def forward():
            with no_grad():
                return model(Tensor(Xb))
    else:
        import torch

        torch.set_num_threads(CORES)
        model = torch_mlp(params).eval()
        xt = torch.from_numpy(Xb)

        def forward():
            with torch.no_grad():
                return model(xt)
    forward()
    started = time.perf_counter()
    for _ in range(repeats):
        forward()
    return repeats * len(Xb) / (time.perf_counter() - started)


CONTENDERS = {"nnscratch": run_nnscratch, "numpy": run_numpy, "torch": run_torch, "sklearn": run_sklearn,
              "matmul": run_matmul}


# ----- the worker: one measurement in a fresh process -----------------------------------------------
def worker(args):
    X, y, Xt, yt, source = dataset(args.n_train)
    sizes = tuple(int(s) for s in args.sizes.split(","))
    if args.what == "inference":
        result = {"samples_per_s": run_inference(args.contender, Xt, sizes, args.repeats)}
    else:
        seconds, accuracy = CONTENDERS[args.contender](X, y, Xt, yt, args.epochs, sizes, args.batch)
        steps = args.epochs * (len(X) // args.batch)
        result = {"seconds": seconds, "samples_per_s": steps * args.batch / seconds, "accuracy": accuracy}
    result["source"] = source
    print(json.dumps(result))


def measure(contender, what="train", epochs=1, n_train=60000, sizes=SIZES, batch=BATCH, repeats=5):
    command = [sys.executable, __file__, "--worker", contender, "--what", what, "--epochs", str(epochs),
               "--n-train", str(n_train), "--sizes", ",".join(map(str, sizes)), "--batch", str(batch),
               "--repeats", str(repeats)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        last = (done.stderr.strip().splitlines() or ["failed"])[-1]
        return {"skipped": last}
    return json.loads(done.stdout.strip().splitlines()[-1])


def available(module):
    try:
        __import__(module)
        return True
    except ImportError:
        return False


# ----- the orchestra ----------------------------------------------------------------------------------
def interleaved(contenders, rounds, **kwargs):
    """{contender: [result per round]}, the contenders taking turns within each round."""
    results = {c: [] for c in contenders}
    for _ in range(rounds):
        for contender in contenders:
            results[contender].append(measure(contender, **kwargs))
    return results


def summary(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


RSS_PROBE = """
import resource, subprocess, sys
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
print(done.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
print((done.stderr.strip().splitlines() or [''])[-1])
"""


def peak_rss_of_train(epochs):
    """Peak resident memory (bytes) of `nnscratch train` on Fashion-MNIST, and the dataset's float32 size.

    A fresh probe process runs the command as its only child, so its children's peak is the command's."""
    out = f"/tmp/nnscratch-bench-{os.getpid()}"
    command = [sys.executable, "-m", "nnscratch", "train", "--epochs", str(epochs), "--quiet", "--out", out,
               "--offline"]
    probe = subprocess.run([sys.executable, "-c", RSS_PROBE, *command], capture_output=True, text=True)
    first, last = probe.stdout.splitlines()[:2]
    code, kilobytes = map(int, first.split())
    if code:
        return None, None, last or "nnscratch train failed"
    return kilobytes * 1024, 70_000 * 784 * 4, None


def orchestrate(args):
    quick = args.quick
    rounds = 3 if quick else 7
    epochs = 1 if quick else 3
    contenders = ["nnscratch", "numpy", "matmul"] + [c for c, m in (("torch", "torch"), ("sklearn", "sklearn"))
                                                     if available(m)]
    report = {"machine": machine(), "quick": quick, "rounds": rounds, "epochs": epochs}
    print(f"machine: {report['machine']}")
    print(f"training: MLP {'-'.join(map(str, SIZES))}, batch {BATCH}, SGD momentum {MOMENTUM}, float32, "
          f"{epochs} epoch(s), {rounds} interleaved rounds, fresh process each")
    train = interleaved(contenders, rounds, epochs=epochs)
    report["source"] = train["nnscratch"][0].get("source")
    print(f"data: {report['source']}\n")
    rows = {}
    print(f"{'contender':<12}{'samples/s (median)':>20}{'range':>24}{'accuracy':>10}{'nnscratch x':>14}")
    for contender, results in train.items():
        if "skipped" in results[0]:
            print(f"{contender:<12} skipped: {results[0]['skipped']}")
            continue
        speed = summary([r["samples_per_s"] for r in results])
        ratios = [a["samples_per_s"] / b["samples_per_s"] for a, b in zip(train["nnscratch"], results)]
        accuracy = results[0]["accuracy"]
        rows[contender] = {"samples_per_s": speed, "nnscratch_ratio": summary(ratios), "accuracy": accuracy,
                           "rounds": [r["samples_per_s"] for r in results]}
        acc = "" if accuracy is None else f"{accuracy:.4f}"
        print(f"{contender:<12}{speed['median']:>20,.0f}{speed['min']:>12,.0f} - {speed['max']:<9,.0f}{acc:>10}"
              f"{statistics.median(ratios):>13.2f}x")
    report["training"] = rows

    verdicts = []
    for peer in ("torch", "sklearn", "numpy"):
        if peer in rows:
            ratio = rows[peer]["nnscratch_ratio"]["median"]
            verdicts.append((f"training throughput >= {TARGETS[peer]}x {peer}", ratio, ratio >= TARGETS[peer]))
    if "matmul" in rows:
        step_multiple = statistics.median(
            [m["samples_per_s"] / n["samples_per_s"] for n, m in zip(train["nnscratch"], train["matmul"])])
        report["step_over_matmul"] = step_multiple
        print(f"\nthe limit: nnscratch's step takes {step_multiple:.2f}x the time of its matrix products alone")
        verdicts.append((f"step <= {TARGETS['matmul_limit']}x its matrix products", step_multiple,
                         step_multiple <= TARGETS["matmul_limit"]))

    if available("torch"):
        inference = interleaved(["nnscratch", "torch"], rounds, what="inference", repeats=3 if quick else 10)
        ratios = [a["samples_per_s"] / b["samples_per_s"] for a, b in zip(inference["nnscratch"], inference["torch"])]
        report["inference"] = {c: summary([r["samples_per_s"] for r in v]) for c, v in inference.items()}
        report["inference"]["nnscratch_ratio"] = summary(ratios)
        print(f"inference at batch 10,000: nnscratch {report['inference']['nnscratch']['median']:,.0f} samples/s, "
              f"torch {report['inference']['torch']['median']:,.0f}; ratio {statistics.median(ratios):.2f}x")
        verdicts.append((f"inference >= {TARGETS['inference_torch']}x torch", statistics.median(ratios),
                         statistics.median(ratios) >= TARGETS["inference_torch"]))

    widths = (256, 512) if quick else (256, 512, 1024, 2048)
    batch_sizes = (32, 256) if quick else (32, 64, 128, 256, 512, 1024)
    report["epoch_seconds_by_width"] = {}
    print("\nseconds per epoch (nnscratch" + (", torch" if available("torch") else "") + "):")
    for width in widths:
        sizes = (784, width, width // 2, 10)
        row = {c: measure(c, sizes=sizes, n_train=20000 if quick else 60000).get("seconds")
               for c in ["nnscratch"] + (["torch"] if available("torch") else [])}
        report["epoch_seconds_by_width"][width] = row
        print(f"  width {width:>5}: " + ", ".join(f"{c} {s:.2f} s" for c, s in row.items() if s))
    report["epoch_seconds_by_batch"] = {}
    for size in batch_sizes:
        row = {c: measure(c, batch=size, n_train=20000 if quick else 60000).get("seconds")
               for c in ["nnscratch"] + (["torch"] if available("torch") else [])}
        report["epoch_seconds_by_batch"][size] = row
        print(f"  batch {size:>5}: " + ", ".join(f"{c} {s:.2f} s" for c, s in row.items() if s))

    peak, dataset_bytes, problem = peak_rss_of_train(1)
    if peak:
        multiple = peak / dataset_bytes
        report["train_peak_rss"] = {"bytes": peak, "dataset_float32_bytes": dataset_bytes, "multiple": multiple}
        print(f"\npeak RSS of `nnscratch train --epochs 1`: {peak / 2**20:.0f} MiB = {multiple:.2f}x the float32 "
              f"dataset ({dataset_bytes / 2**20:.0f} MiB)")
        verdicts.append((f"peak RSS <= {TARGETS['rss_multiple']}x the float32 dataset", multiple,
                         multiple <= TARGETS["rss_multiple"]))
    else:
        print(f"\npeak RSS not measured: {problem}")

    print("\ntargets:")
    for name, value, met in verdicts:
        print(f"  {'met    ' if met else 'NOT met'}  {name}: {value:.2f}")
    report["targets"] = [{"target": n, "value": v, "met": m} for n, v, m in verdicts]
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)
        print(f"\nwritten: {args.json}")


def machine():
    import platform

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    from nnscratch import blas

    return (f"{cpu}, {CORES} cores, Python {platform.python_version()}, NumPy {np.__version__}; "
            f"nnscratch's sums: {blas.BACKEND}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds and sizes: under 3 minutes")
    parser.add_argument("--json", metavar="OUT", help="also write the results as JSON")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--what", default="train", help=argparse.SUPPRESS)
    parser.add_argument("--epochs", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--n-train", type=int, default=60000, help=argparse.SUPPRESS)
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help=argparse.SUPPRESS)
    parser.add_argument("--batch", type=int, default=BATCH, help=argparse.SUPPRESS)
    parser.add_argument("--repeats", type=int, default=5, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        args.contender = args.worker
        worker(args)
    else:
        orchestrate(args)


if __name__ == "__main__":
    main()
