"""What a linear classifier cannot do, and how hidden layers bend space to do it."""

from __future__ import annotations

import numpy as np

from .. import nn
from ..data import toy
from ..nn import functional as F
from ..tensor import Tensor, no_grad
from .base import Verdict, accuracy, decision_boundary, experiment, mlp, predictor, pyplot, train


@experiment("linear-limits", "A linear classifier cannot separate rings, spirals or XOR, while an MLP can; "
                             "rings become linearly separable in polar coordinates.")
def linear_limits(ctx):
    n, steps = ctx.pick(300, 1000), ctx.pick(300, 1500)
    sets = {"rings": toy.rings(n, seed=ctx.seed), "spirals": toy.spirals(n, seed=ctx.seed),
            "xor": toy.xor(n, seed=ctx.seed)}
    plt = pyplot()
    fig, axes = plt.subplots(2, 4, figsize=(12, 6))
    measured = {}
    for col, (name, (X, y)) in enumerate(sets.items()):
        classes = int(y.max()) + 1
        linear = nn.Linear(2, classes, rng=ctx.seed)
        net = mlp([2, 64, 64, classes], seed=ctx.seed)
        train(linear, X, y, steps=steps, lr=0.05)
        train(net, X, y, steps=steps, lr=0.01)
        measured[name] = {"linear": accuracy(linear, X, y), "mlp": accuracy(net, X, y)}
        decision_boundary(axes[0, col], predictor(linear), X, y, f"{name}: linear {measured[name]['linear']:.2f}")
        decision_boundary(axes[1, col], predictor(net), X, y, f"{name}: MLP {measured[name]['mlp']:.2f}")
    X, y = sets["rings"]
    polar = np.c_[np.hypot(X[:, 0], X[:, 1]), np.arctan2(X[:, 1], X[:, 0])].astype(np.float32)
    on_polar = nn.Linear(2, 2, rng=ctx.seed)
    train(on_polar, polar, y, steps=steps, lr=0.05)
    measured["rings_polar_linear"] = accuracy(on_polar, polar, y)
    decision_boundary(axes[0, 3], predictor(on_polar), polar, y, f"rings as (r, θ): linear {measured['rings_polar_linear']:.2f}")
    axes[1, 3].axis("off")
    fig.suptitle("Linear classifier vs MLP")
    ctx.save(fig, "decision-boundaries")
    gaps = {k: v["mlp"] - v["linear"] for k, v in measured.items() if isinstance(v, dict)}
    supported = all(g > 0.2 for g in gaps.values()) and measured["rings_polar_linear"] > 0.95
    return Verdict(supported, f"MLP minus linear accuracy: {', '.join(f'{k} {g:+.2f}' for k, g in gaps.items())}; "
                              f"linear on polar rings {measured['rings_polar_linear']:.2f}", measured)


@experiment("space-warping", "A hidden layer warps the input space: with two hidden units, classes that no "
                             "straight line separates in the input (XOR) become separable by a line in hidden space.")
def space_warping(ctx):
    X, y = toy.xor(ctx.pick(300, 600), noise=0.2, seed=ctx.seed)
    # two tanh units can solve XOR, but gradient descent can stall in a local minimum: keep the best of
    # a few random starts, as one would by hand
    best, best_accuracy, restarts = None, -1.0, ctx.pick(5, 10)
    for restart in range(restarts):
        net = mlp([2, 2, 2], activation=nn.Tanh, init="xavier", seed=ctx.seed + 10 * restart)
        train(net, X, y, steps=ctx.pick(1500, 3000), lr=0.03)
        if accuracy(net, X, y) > best_accuracy:
            best, best_accuracy = net, accuracy(net, X, y)
    with no_grad():
        hidden = F.tanh(best[0](Tensor(X))).data
    input_linear = nn.Linear(2, 2, rng=ctx.seed)
    train(input_linear, X, y, steps=ctx.pick(400, 1000), lr=0.05)
    measured = {"restarts": restarts, "input_space_linear_accuracy": accuracy(input_linear, X, y),
                "hidden_space_linear_accuracy": best_accuracy}
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(9, 4))
    decision_boundary(axes[0], predictor(input_linear), X, y,
                      f"input space: best line {measured['input_space_linear_accuracy']:.2f}")
    decision_boundary(axes[1], predictor(best[1]), hidden, y,
                      f"hidden space (2 tanh units): line {measured['hidden_space_linear_accuracy']:.2f}")
    ctx.save(fig, "input-vs-hidden-space")
    gain = measured["hidden_space_linear_accuracy"] - measured["input_space_linear_accuracy"]
    supported = measured["hidden_space_linear_accuracy"] >= 0.95 and gain > 0.05
    return Verdict(supported, f"a line separates {measured['hidden_space_linear_accuracy']:.2f} of the points in "
                              f"hidden space vs {measured['input_space_linear_accuracy']:.2f} in input space", measured)


TARGETS = {"sin": np.sin, "abs": np.abs, "step": lambda x: (x > 0).astype(np.float32)}


@experiment("universal-approximation", "One hidden ReLU layer approximates any continuous function better and "
                                       "better as it widens; the fit is a sum of ReLU bumps.")
def universal_approximation(ctx):
    widths = ctx.pick([1, 4, 16, 64], [1, 2, 4, 8, 16, 32, 64, 128, 256])
    x = np.linspace(-3, 3, 200, dtype=np.float32)[:, None]
    measured = {}
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for name, f in TARGETS.items():
        target = f(x).astype(np.float32)
        errors = []
        for width in widths:
            net = mlp([1, width, 1], seed=ctx.seed)
            losses = train(net, x, target, loss=F.mse_loss, steps=ctx.pick(600, 3000), lr=0.01)
            errors.append(losses[-1])
        measured[name] = dict(zip(map(str, widths), errors))
        axes[0].loglog(widths, errors, marker="o", label=name)
    axes[0].set(xlabel="hidden width", ylabel="mean squared error", title="Error against width")
    axes[0].legend()
    net = mlp([1, 8, 1], seed=ctx.seed)
    train(net, x, np.sin(x), loss=F.mse_loss, steps=ctx.pick(600, 3000), lr=0.01)
    w1, b1, w2, b2 = (p.data for p in net.parameters())
    bumps = np.maximum(x @ w1 + b1, 0) * w2[:, 0]
    axes[1].plot(x, np.sin(x), "k--", label="sin")
    axes[1].plot(x, bumps.sum(axis=1) + b2, "k", lw=2, label="fit = sum of bumps")
    axes[1].plot(x, bumps, alpha=0.6)
    axes[1].set(title="Width 8: the fit as a sum of ReLU pieces")
    axes[1].legend()
    ctx.save(fig, "universal-approximation")
    ratios = {name: errs[str(widths[-1])] / errs[str(widths[0])] for name, errs in measured.items()}
    supported = all(r < 0.1 for r in ratios.values())
    return Verdict(supported, "error at width %d over width 1: %s" % (
        widths[-1], ", ".join(f"{k} {r:.3g}" for k, r in ratios.items())), measured)


@experiment("depth-without-nonlinearity", "Stacked Linear layers without activations collapse to one matrix: "
                                          "depth adds nothing without a non-linearity.")
def depth_without_nonlinearity(ctx):
    depth = ctx.pick(5, 10)
    deep = nn.Sequential(*(nn.Linear(2 if i == 0 else 16, 16 if i < depth - 1 else 3, rng=ctx.seed + i,
                                     dtype=np.float64) for i in range(depth)))
    for layer in deep:
        layer.bias.data[...] = np.random.default_rng(ctx.seed).standard_normal(layer.bias.shape)
    W, b = np.eye(2), np.zeros(2)
    for layer in deep:
        W, b = W @ layer.weight.data, b @ layer.weight.data + layer.bias.data
    X, y = toy.spirals(ctx.pick(300, 900), seed=ctx.seed)
    X64 = X.astype(np.float64)
    with no_grad():
        difference = np.abs(deep(Tensor(X64)).data - (X64 @ W + b)).max()
    deep32 = nn.Sequential(*(nn.Linear(2 if i == 0 else 16, 16 if i < depth - 1 else 3, rng=ctx.seed + i)
                             for i in range(depth)))
    single = nn.Linear(2, 3, rng=ctx.seed)
    train(deep32, X, y, steps=ctx.pick(400, 1500), lr=0.01)
    train(single, X, y, steps=ctx.pick(400, 1500), lr=0.05)
    nonlinear = mlp([2] + [16] * (depth - 1) + [3], seed=ctx.seed)
    train(nonlinear, X, y, steps=ctx.pick(400, 1500), lr=0.01)
    measured = {"depth": depth, "max_difference_deep_vs_collapsed": difference, "rank_of_product": int(np.linalg.matrix_rank(W)),
                "accuracy_deep_linear": accuracy(deep32, X, y), "accuracy_single_linear": accuracy(single, X, y),
                "accuracy_same_depth_with_relu": accuracy(nonlinear, X, y)}
    plt = pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(12, 4))
    for ax, (model, title) in zip(axes, [(single, "one Linear"), (deep32, f"{depth} Linear, no activation"),
                                         (nonlinear, f"{depth} Linear with ReLU")]):
        decision_boundary(ax, predictor(model), X, y, f"{title}: {accuracy(model, X, y):.2f}")
    ctx.save(fig, "deep-linear-vs-one-linear")
    gap = abs(measured["accuracy_deep_linear"] - measured["accuracy_single_linear"])
    supported = difference < 1e-9 and gap < 0.1
    return Verdict(supported, f"the {depth}-layer linear stack equals one matrix to {difference:.1e}; accuracy "
                              f"{measured['accuracy_deep_linear']:.2f} deep vs {measured['accuracy_single_linear']:.2f} "
                              f"single (with ReLU: {measured['accuracy_same_depth_with_relu']:.2f})", measured)
