"""The lab's machinery: an experiment states a claim, measures each part of it, draws it and judges it.

`run(name, quick, seed, out)` calls the experiment's function with a `Context`, writes
OUT/NAME/result.json (claim, parts, measured, verdict, reason, figures, captions) and the figures
as PNG. The verdict comes from the parts' measured outcomes by one rule, `verdict_from_parts`:
a claim the data does not bear out is reported as such, with the reason, never forced.

Training, evaluation, models and preprocessing are the application's own: `train.fit`,
`train.evaluate`, `runs.build_model` and `runs.make_preprocess`; the helpers below only adapt them
to the lab's small experiments.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import data, optim, runs
from ..atomic import write_bytes_atomic
from ..nn import functional as F
from ..tensor import Tensor, no_grad
from ..train import evaluate, fit

EXPERIMENTS = {}
SUPPORTED, MIXED, NOT_SUPPORTED = "supported", "mixed", "not supported"


@dataclass
class Experiment:
    name: str
    claim: str
    measure: callable


@dataclass
class Context:
    """What an experiment gets: quick or full size, the seed, its folder, and the figures it saved."""

    quick: bool
    seed: int
    out_dir: Path
    figures: list = field(default_factory=list)
    captions: dict = field(default_factory=dict)

    def pick(self, quick, full):
        return quick if self.quick else full

    def save(self, fig, name, caption):
        """Write a matplotlib figure as OUT/NAME/<name>.png; `caption`: one sentence saying what to look at."""
        from ..report.plots import png

        path = self.out_dir / f"{name}.png"
        write_bytes_atomic(path, png(fig))
        self.figures.append(path.name)
        self.captions[path.name] = caption

    def save_file(self, filename, content, caption):
        """Write another artefact (an animated GIF, an HTML player) beside the figures."""
        path = self.out_dir / filename
        write_bytes_atomic(path, content)
        self.figures.append(filename)
        self.captions[filename] = caption


@dataclass
class Part:
    """One measured part of a claim: what it says, whether the numbers bear it out, and the numbers.

    `why_not`: one sentence saying why this data does not bear the lecture out (shown when it fails).
    """

    claim: str
    holds: bool
    numbers: str
    why_not: str = ""

    def to_dict(self):
        return {"claim": self.claim, "holds": bool(self.holds), "numbers": self.numbers,
                "why_not": "" if self.holds else self.why_not}


@dataclass
class Verdict:
    """An experiment's outcome: its parts (each measured) and every number it measured."""

    parts: list
    measured: dict
    key_number: str = ""  # the one number the index's table shows

    def __post_init__(self):
        if not self.parts:
            raise ValueError("a Verdict needs at least one Part: a claim is judged by its measured parts")


def verdict_from_parts(parts):
    """THE lab's verdict rule: "supported" when every part holds, "not supported" when none does,
    "mixed" otherwise. `parts`: Part objects or their dicts (as in result.json)."""
    held = [p["holds"] if isinstance(p, dict) else p.holds for p in parts]
    if not held:
        raise ValueError("no parts to judge: an experiment must measure at least one part of its claim")
    if all(held):
        return SUPPORTED
    return NOT_SUPPORTED if not any(held) else MIXED


def reason_from_parts(parts):
    """One line per part: its outcome and the numbers that decided it, and why when it fails."""
    lines = []
    for p in parts:
        p = p if isinstance(p, dict) else p.to_dict()
        line = f"{p['claim']}: {'holds' if p['holds'] else 'does not hold'} ({p['numbers']})"
        if not p["holds"] and p["why_not"]:
            line += f"; why: {p['why_not']}"
        lines.append(line)
    return "; ".join(lines)


def experiment(name, claim):
    def register(fn):
        EXPERIMENTS[name] = Experiment(name, claim, fn)
        return fn

    return register


def run(name, *, quick=False, seed=0, out="lab"):
    """Run one experiment; returns the result dict written to OUT/NAME/result.json.

    Raises ValueError for an unknown name, listing the known ones."""
    if name not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {name!r}; `nnscratch lab list` shows: {', '.join(EXPERIMENTS)}")
    exp = EXPERIMENTS[name]
    ctx = Context(quick=quick, seed=seed, out_dir=Path(out) / name)
    ctx.out_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    verdict = exp.measure(ctx)
    parts = [p.to_dict() for p in verdict.parts]
    result = {"name": name, "claim": exp.claim, "parts": parts, "measured": _plain(verdict.measured),
              "verdict": verdict_from_parts(parts), "reason": reason_from_parts(parts),
              "key_number": verdict.key_number, "figures": ctx.figures, "captions": ctx.captions,
              "quick": quick, "seed": seed, "seconds": time.perf_counter() - started}
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


# ----- the application's model factory, fit loop and evaluation, adapted to small experiments ------
def pyplot():
    from ..report.plots import pyplot as agg_pyplot

    return agg_pyplot()


def model(in_features, hidden, n_outputs, *, activation="relu", init="kaiming", seed=0):
    """The model `nnscratch train --model mlp:H1,H2 ...` builds (runs.build_model): Flatten, then
    Linear + activation per hidden width, then a Linear to `n_outputs`. `hidden=[]` is a linear model."""
    spec = "mlp:" + ",".join(str(h) for h in hidden) if hidden else "linear"
    config = runs.RunConfig(model=spec, activation=activation, init=init, seed=seed)
    return runs.build_model(config, in_features, n_outputs)


def layers_with_weights(net):
    """The modules of `net` that hold a weight matrix (Linear, Maxout), in order."""
    return [m for m in net if getattr(m, "weight", None) is not None]


class _LearningRates:
    """A fit callback that records the optimiser's learning rate after every step."""

    def __init__(self, optimizer):
        self.optimizer, self.values = optimizer, []

    def on_step_end(self, info):
        self.values.append(self.optimizer.lr)


class _RecordedLoss:
    """A loss function that remembers the value of every call: fit's per-step training losses."""

    def __init__(self, loss):
        self.loss, self.values = loss, []

    def __call__(self, outputs, targets):
        value = self.loss(outputs, targets)
        self.values.append(float(value.data))
        return value


@dataclass
class Curve:
    """Per-step training losses from `train`; `diverged_at`: the 1-based step whose loss was not finite."""

    losses: list
    lrs: list = field(default_factory=list)  # the learning rate of each step
    diverged_at: int | None = None

    @property
    def diverged(self):
        return self.diverged_at is not None


def train(net, X, y, *, loss=F.cross_entropy, optimizer="adam", lr=0.01, steps=None, epochs=None,
          batch_size=None, seed=0, schedule=None, augment=None):
    """Train `net` with `nnscratch.train.fit` and return its per-step losses as a `Curve`.

    X: (N, D) float32; y: (N,) int classes or (N, K) float targets (give `loss`). `steps` full-batch
    steps, or `epochs` of mini-batches of `batch_size`. A non-finite loss ends training (fit refuses
    to step on it); the curve then says where it diverged.
    """
    recorded = _RecordedLoss(loss)
    kwargs = {"momentum": 0.9} if optimizer == "sgd" else {}
    opt = optim.OPTIMIZERS[optimizer](net.parameters(), lr=lr, **kwargs)
    rates = _LearningRates(opt)
    full_batch = batch_size is None
    try:
        with np.errstate(all="ignore"):
            fit(net, recorded, opt, (X, y), epochs=steps if full_batch else epochs,
                batch_size=len(X) if full_batch else batch_size, schedule=schedule, augment=augment,
                seed=seed, progress=False, callbacks=[rates])
    except FloatingPointError:
        return Curve(recorded.values, rates.values, diverged_at=len(recorded.values))
    return Curve(recorded.values, rates.values)


def accuracy(net, X, y):
    """Accuracy of a classifier on (X, y), by `nnscratch.train.evaluate`."""
    with np.errstate(all="ignore"):
        return evaluate(net, X, y).accuracy


def fashion(n_train, n_test, seed=0, flat=True):
    """A class-balanced Fashion-MNIST subset; flat=True: (N, 784) float32 standardised as
    `nnscratch train --preprocess standardize` does (fitted on the training subset only)."""
    X, y = data.load("fashion-mnist")
    X_test, y_test = data.load("fashion-mnist", "test")
    rng = np.random.default_rng(seed)
    train_idx = rng.permutation(len(X))[:n_train]
    test_idx = rng.permutation(len(X_test))[:n_test]
    X, y, X_test, y_test = X[train_idx], y[train_idx], X_test[test_idx], y_test[test_idx]
    if not flat:
        return X, y, X_test, y_test
    pre = runs.make_preprocess("standardize").fit(X)
    flatten = lambda a: np.asarray(pre.transform(a), dtype=np.float32).reshape(len(a), -1)  # noqa: E731
    return flatten(X), y, flatten(X_test), y_test


def decision_boundary(ax, predict, X, y, title, xlabel="x₁", ylabel="x₂"):
    """Shade a 2-D classifier's regions and scatter the data; axes labelled (unitless coordinates)."""
    pad = 0.3
    xs = np.linspace(X[:, 0].min() - pad, X[:, 0].max() + pad, 150)
    ys = np.linspace(X[:, 1].min() - pad, X[:, 1].max() + pad, 150)
    gx, gy = np.meshgrid(xs, ys)
    regions = predict(np.c_[gx.ravel(), gy.ravel()].astype(np.float32)).reshape(gx.shape)
    ax.contourf(gx, gy, regions, alpha=0.3, cmap="coolwarm", levels=np.arange(regions.max() + 2) - 0.5)
    ax.scatter(X[:, 0], X[:, 1], c=y, s=6, cmap="coolwarm")
    ax.set_title(title, fontsize=9)
    ax.set_xlabel(xlabel, fontsize=8)
    ax.set_ylabel(ylabel, fontsize=8)
    ax.tick_params(labelsize=7)


def predictor(net):
    def predict(points):
        with no_grad():
            return net(Tensor(points)).data.argmax(axis=1)

    return predict


def smooth(values, window):
    """Running mean over `window` steps (shorter at the start), same length as `values`."""
    values = np.asarray(values, dtype=np.float64)
    if len(values) == 0:
        return values
    cumulative = np.cumsum(np.insert(values, 0, 0.0))
    ends = np.arange(1, len(values) + 1)
    starts = np.maximum(ends - window, 0)
    return (cumulative[ends] - cumulative[starts]) / (ends - starts)


def plot_curve(ax, curve, label, *, clip, window=20, **style):
    """Draw a training curve smoothed over `window` steps and clipped at `clip`. A run that leaves the
    chart is marked ▲ where it first does ("off the chart from step N, max M" in its legend label); a
    diverged run ends with ✕ at its last step ("diverged at step N")."""
    finite = np.asarray(curve.losses[:curve.diverged_at - 1] if curve.diverged else curve.losses, dtype=np.float64)
    smoothed = smooth(finite, window)
    steps = np.arange(1, len(smoothed) + 1)
    above = np.flatnonzero(smoothed > clip)
    if curve.diverged:
        label = f"{label}: diverged at step {curve.diverged_at}"
    elif len(above):
        label = f"{label}: off the chart from step {above[0] + 1} (max {smoothed.max():.3g})"
    line, = ax.plot(steps, np.minimum(smoothed, clip), label=label, **style)
    if len(above):
        ax.plot([above[0] + 1], [clip], marker="^", markersize=9, color=line.get_color(), clip_on=False)
    if curve.diverged:
        ax.plot([curve.diverged_at], [clip], marker="X", markersize=10, color=line.get_color(), clip_on=False)
    return line


# Colour AND line style AND marker differ from line to line, so lines stay apart in grey print too.
LINE_STYLES = [("tab:blue", "-", "o"), ("tab:orange", "--", "s"), ("tab:green", "-.", "^"), ("tab:red", ":", "D"),
               ("tab:purple", (0, (5, 1)), "v"), ("tab:brown", (0, (3, 1, 1, 1)), "P"), ("tab:gray", "-", "x")]


def line_style(i, *, marker=False):
    """matplotlib keyword arguments for the i-th of several compared lines."""
    colour, ls, mark = LINE_STYLES[i % len(LINE_STYLES)]
    return {"color": colour, "ls": ls, **({"marker": mark, "ms": 4} if marker else {})}
