"""What a linear classifier cannot do, what one hidden layer can approximate, and why depth needs a non-linearity.

(How a hidden layer bends space, Olah-style, is in `warping.py`.)
"""

from __future__ import annotations

import numpy as np

from .. import nn
from ..data import toy
from ..nn import functional as F
from ..tensor import Tensor, no_grad
from .base import (Part, Verdict, accuracy, decision_boundary, experiment, layers_with_weights, line_style, model,
                   predictor, pyplot, train)

SEPARATES = 0.9  # a classifier "separates" a toy set when it gets at least this share of it right


@experiment("linear-limits", "A linear classifier cannot separate rings, spirals or XOR, while an MLP can; "
                             "rings become linearly separable in polar coordinates.")
def linear_limits(ctx):
    n, steps = ctx.pick(300, 1000), ctx.pick(300, 1500)
    sets = {"rings": toy.rings(n, seed=ctx.seed), "spirals": toy.spirals(n, seed=ctx.seed),
            "xor": toy.xor(n, seed=ctx.seed)}
    plt = pyplot()
    fig, axes = plt.subplots(2, 4, figsize=(14, 7), layout="constrained")
    measured = {}
    for col, (name, (X, y)) in enumerate(sets.items()):
        X = X.astype(np.float32)
        classes = int(y.max()) + 1
        linear = model(2, [], classes, seed=ctx.seed)
        net = model(2, [64, 64], classes, seed=ctx.seed)
        train(linear, X, y, steps=steps, lr=0.05)
        train(net, X, y, steps=steps, lr=0.01)
        measured[name] = {"linear": accuracy(linear, X, y), "mlp": accuracy(net, X, y)}
        decision_boundary(axes[0, col], predictor(linear), X, y, f"{name}: linear, accuracy {measured[name]['linear']:.2f}")
        decision_boundary(axes[1, col], predictor(net), X, y, f"{name}: MLP, accuracy {measured[name]['mlp']:.2f}")
    X, y = sets["rings"]
    polar = np.c_[np.hypot(X[:, 0], X[:, 1]), np.arctan2(X[:, 1], X[:, 0])].astype(np.float32)
    on_polar = model(2, [], 2, seed=ctx.seed)
    train(on_polar, polar, y, steps=steps, lr=0.05)
    measured["rings_polar_linear"] = accuracy(on_polar, polar, y)
    decision_boundary(axes[0, 3], predictor(on_polar), polar, y,
                      f"rings as (r, θ): linear, accuracy {measured['rings_polar_linear']:.2f}",
                      xlabel="r (radius)", ylabel="θ (radians)")
    axes[1, 3].axis("off")
    ctx.save(fig, "decision-boundaries", "Top row: the best straight boundary leaves whole regions wrong on rings, "
                                         "spirals and XOR; bottom row: an MLP bends its boundary around them; top "
                                         "right: in polar coordinates one straight line splits the rings.")
    linear_best = max(v["linear"] for v in measured.values() if isinstance(v, dict))
    mlp_worst = min(v["mlp"] for v in measured.values() if isinstance(v, dict))
    per_set = ", ".join(f"{k} {v['linear']:.2f}/{v['mlp']:.2f}" for k, v in measured.items() if isinstance(v, dict))
    parts = [
        Part("a linear classifier cannot separate rings, spirals or XOR", linear_best < SEPARATES,
             f"linear/MLP accuracy: {per_set}; the best linear one {linear_best:.2f} (separates: ≥ {SEPARATES})"),
        Part("an MLP can", mlp_worst >= SEPARATES, f"the worst MLP {mlp_worst:.2f}",
             f"{steps} full-batch steps are too few for the MLP to wind round the spirals"),
        Part("rings become linearly separable in polar coordinates", measured["rings_polar_linear"] >= SEPARATES,
             f"linear on (r, θ): {measured['rings_polar_linear']:.2f}"),
    ]
    return Verdict(parts, measured, key_number=f"best linear {linear_best:.2f}, worst MLP {mlp_worst:.2f}")


TARGETS = {"sin": np.sin, "abs": np.abs, "step": lambda x: (x > 0).astype(np.float32)}
CONTINUOUS = ("sin", "abs")


@experiment("universal-approximation", "One hidden ReLU layer approximates any continuous function better and "
                                       "better as it widens; the fit is a sum of ReLU bumps.")
def universal_approximation(ctx):
    widths = ctx.pick([1, 4, 16, 64], [1, 2, 4, 8, 16, 32, 64, 128, 256])
    x = np.linspace(-3, 3, 200, dtype=np.float32)[:, None]
    steps = ctx.pick(600, 3000)
    measured = {}
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), layout="constrained")
    for i, (name, f) in enumerate(TARGETS.items()):
        target = f(x).astype(np.float32)
        errors = []
        for width in widths:
            net = model(1, [width], 1, seed=ctx.seed)
            train(net, x, target, loss=F.mse_loss, steps=steps, lr=0.01)
            with no_grad():
                errors.append(float(F.mse_loss(net(Tensor(x)), target).item()))
        measured[name] = dict(zip(map(str, widths), errors))
        label = name if name in CONTINUOUS else f"{name} (not continuous)"
        axes[0].loglog(widths, errors, label=label, **line_style(i, marker=True))
    axes[0].set(xlabel="hidden width (units)", ylabel="mean squared error on [−3, 3] (log scale)",
                title="Error against width")
    axes[0].legend()
    axes[0].grid(alpha=0.3, which="both")
    net = model(1, [8], 1, seed=ctx.seed)
    train(net, x, np.sin(x), loss=F.mse_loss, steps=steps, lr=0.01)
    first, last = layers_with_weights(net)
    bumps = np.maximum(x @ first.weight.data + first.bias.data, 0) * last.weight.data[:, 0]
    with no_grad():
        output = net(Tensor(x)).data
    measured["sum_of_bumps_minus_output"] = float(np.max(np.abs(bumps.sum(axis=1, keepdims=True) + last.bias.data - output)))
    axes[1].plot(x, np.sin(x), "k--", label="sin x")
    axes[1].plot(x, output, "k", lw=2, label="the net's fit = sum of the pieces")
    axes[1].plot(x, bumps, alpha=0.6, lw=1)
    axes[1].set(xlabel="x", ylabel="y", title="Width 8: the fit and its 8 ReLU pieces (thin lines)")
    axes[1].legend(fontsize=8)
    ctx.save(fig, "universal-approximation", "Left: the error falls steadily as the layer widens (the step, not "
                                             "continuous, falls slowest); right: the fit is literally the sum of "
                                             "the thin ReLU pieces.")
    ratios = {name: errs[str(widths[-1])] / errs[str(widths[0])] for name, errs in measured.items()
              if isinstance(errs, dict)}
    parts = [
        Part("one hidden ReLU layer approximates continuous functions better and better as it widens",
             all(ratios[n] < 0.1 for n in CONTINUOUS),
             f"error at width {widths[-1]} over width 1: " + ", ".join(f"{k} {r:.3g}" for k, r in ratios.items())
             + " (better: < 0.1)"),
        Part("the fit is a sum of ReLU bumps", measured["sum_of_bumps_minus_output"] < 1e-4,
             f"|sum of the pieces − the net's output| ≤ {measured['sum_of_bumps_minus_output']:.1e}"),
    ]
    return Verdict(parts, measured, key_number=f"sin: width {widths[-1]} error {ratios['sin']:.2g}× width 1's")


def linear_stack(depth, seed, dtype=np.float32):
    """`depth` Linear layers 2 -> 16 -> ... -> 3 with no activation between them: the experiment's subject."""
    return nn.Sequential(*(nn.Linear(2 if i == 0 else 16, 16 if i < depth - 1 else 3, rng=seed + i, dtype=dtype)
                           for i in range(depth)))


@experiment("depth-without-nonlinearity", "Stacked Linear layers without activations collapse to one matrix: "
                                          "depth adds nothing without a non-linearity.")
def depth_without_nonlinearity(ctx):
    depth = ctx.pick(5, 10)
    deep = linear_stack(depth, ctx.seed, np.float64)
    for layer in deep:
        layer.bias.data[...] = np.random.default_rng(ctx.seed).standard_normal(layer.bias.shape)
    W, b = np.eye(2), np.zeros(2)
    for layer in deep:
        W, b = W @ layer.weight.data, b @ layer.weight.data + layer.bias.data
    X, y = toy.spirals(ctx.pick(300, 900), seed=ctx.seed)
    X = X.astype(np.float32)
    X64 = X.astype(np.float64)
    with no_grad():
        difference = float(np.abs(deep(Tensor(X64)).data - (X64 @ W + b)).max())
    deep32, single = linear_stack(depth, ctx.seed), model(2, [], 3, seed=ctx.seed)
    nonlinear = model(2, [16] * (depth - 1), 3, seed=ctx.seed)
    steps = ctx.pick(400, 1500)
    train(deep32, X, y, steps=steps, lr=0.01)
    train(single, X, y, steps=steps, lr=0.05)
    train(nonlinear, X, y, steps=steps, lr=0.01)
    measured = {"depth": depth, "max_difference_deep_vs_collapsed": difference,
                "rank_of_product": int(np.linalg.matrix_rank(W)), "accuracy_deep_linear": accuracy(deep32, X, y),
                "accuracy_single_linear": accuracy(single, X, y), "accuracy_same_depth_with_relu": accuracy(nonlinear, X, y)}
    plt = pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.5), sharex=True, sharey=True, layout="constrained")
    for ax, (net, title) in zip(axes, [(single, "one Linear"), (deep32, f"{depth} Linear, no activation"),
                                       (nonlinear, f"{depth} Linear with ReLU")]):
        decision_boundary(ax, predictor(net), X, y, f"{title}: accuracy {accuracy(net, X, y):.2f}")
    ctx.save(fig, "deep-linear-vs-one-linear", "The deep linear stack draws the same straight boundaries as one "
                                               "Linear layer; only with ReLU between the layers do they bend.")
    gap = abs(measured["accuracy_deep_linear"] - measured["accuracy_single_linear"])
    gain = measured["accuracy_same_depth_with_relu"] - measured["accuracy_deep_linear"]
    parts = [
        Part("stacked Linear layers collapse to one matrix", difference < 1e-9,
             f"the {depth}-layer stack equals one matrix to {difference:.1e}"),
        Part("depth adds nothing without a non-linearity", gap < 0.1,
             f"accuracy {measured['accuracy_deep_linear']:.2f} deep vs {measured['accuracy_single_linear']:.2f} single"),
        Part("with a non-linearity the same depth does add", gain > 0.2,
             f"with ReLU: {measured['accuracy_same_depth_with_relu']:.2f} ({gain:+.2f})"),
    ]
    return Verdict(parts, measured, key_number=f"deep vs one Linear: {gap:.2f} apart")
