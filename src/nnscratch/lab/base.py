"""The lab's machinery: an experiment states a claim, measures it, draws it and judges it.

`run(name, quick, seed, out)` calls the experiment's function with a `Context`, writes
OUT/NAME/result.json (claim, measured, verdict, reason, figures) and the figures as PNG.
The verdict comes from the measured numbers: a claim the data does not support is reported
as "not supported", never forced.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import data, nn, optim
from ..atomic import write_bytes_atomic
from ..data.loader import DataLoader
from ..nn import functional as F
from ..tensor import Tensor, no_grad

EXPERIMENTS = {}


@dataclass
class Experiment:
    name: str
    claim: str
    measure: callable


@dataclass
class Context:
    quick: bool
    seed: int
    out_dir: Path
    figures: list = field(default_factory=list)

    def pick(self, quick, full):
        return quick if self.quick else full

    def save(self, fig, name):
        """Write a matplotlib figure as OUT/NAME/<name>.png."""
        from ..report.plots import png

        path = self.out_dir / f"{name}.png"
        write_bytes_atomic(path, png(fig))
        self.figures.append(path.name)


@dataclass
class Verdict:
    supported: bool
    reason: str
    measured: dict


def experiment(name, claim):
    def register(fn):
        EXPERIMENTS[name] = Experiment(name, claim, fn)
        return fn

    return register


def run(name, *, quick=False, seed=0, out="lab"):
    """Run one experiment; returns the result dict written to OUT/NAME/result.json."""
    if name not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {name!r}; `nnscratch lab list` shows: {', '.join(EXPERIMENTS)}")
    exp = EXPERIMENTS[name]
    ctx = Context(quick=quick, seed=seed, out_dir=Path(out) / name)
    ctx.out_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    verdict = exp.measure(ctx)
    result = {"name": name, "claim": exp.claim, "measured": _plain(verdict.measured),
              "verdict": "supported" if verdict.supported else "not supported", "reason": verdict.reason,
              "figures": ctx.figures, "quick": quick, "seed": seed, "seconds": time.perf_counter() - started}
    write_bytes_atomic(ctx.out_dir / "result.json", (json.dumps(result, indent=2) + "\n").encode())
    return result


def _plain(value):
    """JSON-able copies of numpy numbers and arrays; non-finite floats become None."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_plain(v) for v in value]
    if isinstance(value, (np.floating, float)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


# ----- helpers the experiments share --------------------------------------------------------------
def pyplot():
    from ..report.plots import pyplot as agg_pyplot

    return agg_pyplot()


def mlp(sizes, activation=nn.ReLU, init="kaiming", seed=0):
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b, init=init, rng=seed + i))
        if i < len(sizes) - 2:
            layers.append(activation())
    return nn.Sequential(*layers)


def train(model, X, y, *, loss=F.cross_entropy, optimizer="adam", lr=0.01, steps=None, epochs=None,
          batch_size=None, seed=0, schedule=None, augment=None):
    """Per-step losses of training `model`; full batch when batch_size is None. Stops at a non-finite loss."""
    opt = optim.OPTIMIZERS[optimizer](model.parameters(), lr=lr, **({"momentum": 0.9} if optimizer == "sgd" else {}))
    if schedule is not None:
        schedule.bind(opt)
    if batch_size is None:
        batches = ((X, y) for _ in range(steps))
    else:
        loader = DataLoader(X, y, batch_size=batch_size, seed=seed, transform=augment)
        batches = (b for _ in range(epochs) for b in loader)
    losses = []
    with np.errstate(all="ignore"):
        for xb, yb in batches:
            value = loss(model(Tensor(xb)), yb)
            losses.append(float(value.data))
            if not math.isfinite(losses[-1]):
                break
            opt.zero_grad()
            value.backward()
            opt.step()
            if schedule is not None:
                schedule.step()
    return losses


def accuracy(model, X, y):
    model.eval()
    with no_grad(), np.errstate(all="ignore"):
        predicted = model(Tensor(X)).data.argmax(axis=1)
    model.train()
    return float(np.mean(predicted == y))


def fashion(n_train, n_test, seed=0, flat=True):
    """A class-balanced Fashion-MNIST subset, scaled to [0, 1] and standardised by training statistics."""
    X, y = data.load("fashion-mnist")
    X_test, y_test = data.load("fashion-mnist", "test")
    rng = np.random.default_rng(seed)
    train_idx = rng.permutation(len(X))[:n_train]
    test_idx = rng.permutation(len(X_test))[:n_test]
    X, y, X_test, y_test = X[train_idx], y[train_idx], X_test[test_idx], y_test[test_idx]
    if not flat:
        return X, y, X_test, y_test
    mean, std = X.mean(), X.std()
    prep = lambda a: ((a.reshape(len(a), -1) - mean) / std).astype(np.float32)  # noqa: E731
    return prep(X), y, prep(X_test), y_test


def decision_boundary(ax, predict, X, y, title):
    """Shade a 2-D classifier's regions and scatter the data."""
    pad = 0.3
    xs = np.linspace(X[:, 0].min() - pad, X[:, 0].max() + pad, 150)
    ys = np.linspace(X[:, 1].min() - pad, X[:, 1].max() + pad, 150)
    gx, gy = np.meshgrid(xs, ys)
    regions = predict(np.c_[gx.ravel(), gy.ravel()].astype(np.float32)).reshape(gx.shape)
    ax.contourf(gx, gy, regions, alpha=0.3, cmap="coolwarm", levels=np.arange(regions.max() + 2) - 0.5)
    ax.scatter(X[:, 0], X[:, 1], c=y, s=6, cmap="coolwarm")
    ax.set_title(title, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])


def predictor(model):
    def predict(points):
        with no_grad():
            return model(Tensor(points)).data.argmax(axis=1)

    return predict
