"""How activations, initialisation and the learning rate shape training."""

from __future__ import annotations

import time

import numpy as np

from .. import nn, optim
from ..nn import functional as F
from ..tensor import Tensor
from .base import (Part, Verdict, accuracy, experiment, fashion, layers_with_weights, line_style, model, plot_curve,
                   pyplot, train)

ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky-relu", "elu", "maxout")
LOSS_CLIP = 2.6  # training-loss panels stop here (the first loss is ln 10 = 2.3); a curve above is clipped and marked


def deep_net(activation, width, depth, seed, init="xavier", d_in=784, d_out=10):
    """`depth` Linear layers (depth - 1 hidden layers of `width`) with `activation`, by runs.build_model."""
    return model(d_in, [width] * (depth - 1), d_out, activation=activation, init=init, seed=seed)


def weight_gradient_norms(net, X, y):
    """|dL/dW| of each weight matrix, first layer first, for one batch at the current weights."""
    net.zero_grad()
    F.cross_entropy(net(Tensor(X)), y).backward()
    return [float(np.linalg.norm(m.weight.grad)) for m in layers_with_weights(net)]


def dead_relu_fractions(net, X):
    """Per ReLU layer, the share of units that output 0 for every sample of X (dead on this data)."""
    h, dead = Tensor(X), []
    for layer in net:
        h = layer(h)
        if isinstance(layer, nn.ReLU):
            dead.append(float(np.mean(np.all(h.data <= 0, axis=0))))
    return dead


def zigzag_same_sign_fraction(X, y, seed):
    """Feed all-positive inputs (sigmoid outputs) to a Linear layer: the share of its neurons whose
    weight gradients all have one sign (dL/dw_ij = delta_j * x_i takes delta_j's sign)."""
    net = model(X.shape[1], [32], 10, seed=seed)
    x_pos = F.sigmoid(Tensor(X[:1])).data
    F.cross_entropy(net(Tensor(x_pos)), y[:1]).backward()
    g = layers_with_weights(net)[0].weight.grad
    active = np.any(g != 0, axis=0)
    same_sign = np.all(g[:, active] >= 0, axis=0) | np.all(g[:, active] <= 0, axis=0)
    return float(same_sign.mean()) if active.any() else None


def forward_backward_ms(repeats, seed):
    """Median milliseconds of forward + backward of each activation on a 1024x1024 input."""
    big = Tensor(np.random.default_rng(seed).standard_normal((1024, 1024)).astype(np.float32), requires_grad=True)
    functions = {"sigmoid": F.sigmoid, "tanh": F.tanh, "relu": F.relu, "leaky-relu": F.leaky_relu, "elu": F.elu}
    result = {}
    for name, fn in functions.items():
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            fn(big).sum().backward()
            times.append(time.perf_counter() - started)
        result[name] = 1000 * float(np.median(times))
    return result


@experiment("activations", "Sigmoid's gradient vanishes through depth while ReLU's does not; some ReLUs die; "
                           "with all-positive inputs (sigmoid outputs) a neuron's weight gradients share one sign.")
def activations(ctx):
    X, y, X_test, y_test = fashion(ctx.pick(2000, 10000), ctx.pick(1000, 5000), ctx.seed)
    width, depth = ctx.pick(64, 256), 10
    measured = {"gradient_norm_per_layer": {}, "final_loss": {}, "test_accuracy": {}}
    plt = pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.5), layout="constrained")
    for i, name in enumerate(ACTIVATIONS):
        net = deep_net(name, width, depth, ctx.seed)
        norms = weight_gradient_norms(net, X[:256], y[:256])
        measured["gradient_norm_per_layer"][name] = norms
        axes[0].semilogy(range(1, len(norms) + 1), norms, label=name, **line_style(i, marker=True))
        curve = train(net, X, y, optimizer="sgd", lr=0.05, epochs=ctx.pick(2, 5), batch_size=64, seed=ctx.seed)
        measured["final_loss"][name] = None if curve.diverged else float(np.mean(curve.losses[-20:]))
        measured["test_accuracy"][name] = accuracy(net, X_test, y_test)
        plot_curve(axes[1], curve, name, clip=LOSS_CLIP, **line_style(i))
    axes[0].set(xlabel="layer (1 = nearest the input)", ylabel="‖dL/dW‖ at initialisation (log scale)",
                title=f"Gradient norm per layer, {depth}-layer nets")
    axes[1].set(xlabel="training step (batch of 64)", ylabel="training loss (cross-entropy, 20-step mean)",
                ylim=(0, LOSS_CLIP), title="Training, SGD with momentum 0.9")
    for ax in axes[:2]:
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    measured["ms_forward_backward"] = forward_backward_ms(ctx.pick(5, 20), ctx.seed)
    costs = measured["ms_forward_backward"]
    axes[2].bar(list(costs), list(costs.values()), color="tab:blue")
    axes[2].set(xlabel="activation", ylabel="milliseconds (forward + backward, 1024×1024)",
                title="Cost of each function")
    ctx.save(fig, "activations", "Left: sigmoid's gradient norm falls by orders of magnitude towards the input "
                                 "while ReLU's stays level; middle: the nets whose gradients reach the first layers "
                                 "train fastest; right: what each function costs.")

    relu_net = deep_net("relu", width, depth, ctx.seed, init="kaiming")
    train(relu_net, X, y, optimizer="sgd", lr=0.05, epochs=ctx.pick(2, 5), batch_size=64, seed=ctx.seed)
    dead = measured["dead_relu_fraction_per_layer"] = dead_relu_fractions(relu_net, X[:1000])
    zigzag = measured["zigzag_same_sign_fraction"] = zigzag_same_sign_fraction(X, y, ctx.seed)
    norms = measured["gradient_norm_per_layer"]
    ratio = norms["relu"][0] / max(norms["sigmoid"][0], 1e-30)
    measured["relu_over_sigmoid_first_layer_gradient"] = ratio
    parts = [
        Part("sigmoid's gradient vanishes through depth while ReLU's does not", ratio >= 10,
             f"first-layer gradient norm: ReLU {ratio:.3g}× sigmoid's (threshold 10×)"),
        Part("some ReLUs die", max(dead) > 0,
             f"dead ReLUs after training: {max(dead):.1%} in the worst layer",
             "with Kaiming initialisation and this learning rate no unit was pushed into the always-off region"),
        Part("with all-positive inputs a neuron's weight gradients share one sign", zigzag == 1.0,
             f"{zigzag:.0%} of neurons fed positive inputs have single-signed weight gradients"),
    ]
    return Verdict(parts, measured, key_number=f"ReLU/sigmoid first-layer gradient {ratio:.3g}×")


INITS = {"small 0.01": "small", "large 1.0": "large", "xavier": "xavier", "kaiming": "kaiming"}
STABLE_FACTOR = 5.0  # "stable": the last layer's std within this factor of the first layer's
RELU_SHOWN = 3.0  # ReLU histograms share the x axis [0, RELU_SHOWN]; larger values are counted in the last bin


def activation_stats(x, init, act_name, depth, width, seed):
    """Push x through `depth` random layers W (width×width, `init`) + activation; the activations per layer."""
    act = np.tanh if act_name == "tanh" else (lambda a: np.maximum(a, 0))
    rng, h, layers = np.random.default_rng(seed), x, []
    for _ in range(depth):
        h = act(h @ nn.init.get(init)((width, width), rng=rng))
        layers.append(h)
    return layers


def histogram_figure(plt, act_name, activations_by_init, depth):
    """Rows: initialisations; columns: layers; every panel on one shared x and y axis."""
    limits = (-1.0, 1.0) if act_name == "tanh" else (0.0, RELU_SHOWN)
    bins = np.linspace(*limits, 22)  # 21 bins: one centred on 0
    fig, axes = plt.subplots(len(activations_by_init), depth, figsize=(1.45 * depth, 1.45 * len(activations_by_init)),
                             sharex=True, sharey=True, squeeze=False, layout="constrained")
    for row, (label, layers) in enumerate(activations_by_init.items()):
        for col, h in enumerate(layers):
            values = np.clip(h.ravel(), *limits)
            axes[row, col].hist(values, bins=bins, weights=np.full(values.size, 1 / values.size), color="tab:blue")
            axes[row, col].tick_params(labelsize=7)
            if row == 0:
                axes[row, col].set_title(f"layer {col + 1}", fontsize=8)
        axes[row, 0].set_ylabel(f"{label}\nshare of units", fontsize=8)
    axes[0, 0].set_ylim(0, 1)
    beyond = f" (values above {RELU_SHOWN:g} counted at {RELU_SHOWN:g})" if act_name == "relu" else ""
    fig.supxlabel(f"activation value{beyond}", fontsize=9)
    fig.suptitle(f"{act_name} activations per layer, {depth}-layer net, one row per initialisation", fontsize=10)
    return fig


def std_figure(plt, stds, depth):
    """Std of the activations per layer, every initialisation on one log axis, tanh and ReLU side by side."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True, layout="constrained")
    for ax, act_name in zip(axes, ("tanh", "relu")):
        for i, label in enumerate(INITS):
            ax.semilogy(range(1, depth + 1), stds[f"{act_name}/{label}"], label=label, **line_style(i, marker=True))
        ax.set(xlabel="layer", title=f"{act_name} net")
        ax.grid(alpha=0.3, which="both")
    axes[0].set_ylabel("std of the layer's activations (log scale)")
    axes[1].legend(title="initialisation", fontsize=8)
    return fig


@experiment("initialization", "Too-small weights make activations collapse to zero layer by layer, too-large "
                              "weights saturate tanh, Xavier (tanh) and Kaiming (ReLU) keep them stable.")
def initialization(ctx):
    width, depth = ctx.pick(256, 512), 10
    x = np.random.default_rng(ctx.seed).standard_normal((ctx.pick(256, 1000), width)).astype(np.float32)
    measured, stds = {}, {}
    plt = pyplot()
    for act_name in ("tanh", "relu"):
        by_init = {label: activation_stats(x, init, act_name, depth, width, ctx.seed) for label, init in INITS.items()}
        for label, layers in by_init.items():
            stds[f"{act_name}/{label}"] = [float(h.std()) for h in layers]
            measured[f"{act_name}/{label}"] = {
                "std_per_layer": stds[f"{act_name}/{label}"], "mean_per_layer": [float(h.mean()) for h in layers],
                "saturated_fraction_last": float(np.mean(np.abs(layers[-1]) > 0.99)) if act_name == "tanh" else None}
        caption = ("tanh: with small weights the activations pile up at 0 deeper in the net, with large ones at ±1 "
                   "(saturated), with Xavier they keep their spread." if act_name == "tanh" else
                   "ReLU: small weights collapse to 0, large ones run off the chart, Kaiming keeps the same spread "
                   "in every layer.")
        ctx.save(histogram_figure(plt, act_name, by_init, depth), f"{act_name}-activation-histograms", caption)
    ctx.save(std_figure(plt, stds, depth), "activation-std-per-layer",
             "On one log axis: small init falls by orders of magnitude, large init explodes (ReLU) or sits at "
             "tanh's ceiling, Xavier/Kaiming stay nearly flat.")

    X, y, _, _ = fashion(ctx.pick(2000, 10000), ctx.pick(1000, 5000), ctx.seed)
    fig, ax = plt.subplots(figsize=(7, 4.2), layout="constrained")
    measured["training_final_loss"] = {}
    for i, (label, init) in enumerate(INITS.items()):
        net = model(784, [128] * 5, 10, activation="tanh", init=init, seed=ctx.seed)
        curve = train(net, X, y, optimizer="sgd", lr=0.01, epochs=ctx.pick(1, 4), batch_size=64, seed=ctx.seed)
        measured["training_final_loss"][label] = None if curve.diverged else float(np.mean(curve.losses[-20:]))
        plot_curve(ax, curve, label, clip=3 * LOSS_CLIP, **line_style(i))
    ax.set(xlabel="training step (batch of 64)", ylabel="training loss (cross-entropy, 20-step mean)",
           ylim=(0, 3 * LOSS_CLIP), title="6-layer tanh net, SGD 0.01: training by initialisation")
    ax.legend(title="initialisation")
    ax.grid(alpha=0.3)
    ctx.save(fig, "training-by-init", "Same net and learning rate: the initialisation alone decides whether and how "
                                      "fast the loss falls.")

    small = stds["tanh/small 0.01"]
    saturated = measured["tanh/large 1.0"]["saturated_fraction_last"]
    ratios = {name: stds[name][-1] / stds[name][0] for name in ("tanh/xavier", "relu/kaiming")}
    stable = all(1 / STABLE_FACTOR <= r <= STABLE_FACTOR for r in ratios.values())
    parts = [
        Part("too-small weights make activations collapse to zero layer by layer",
             small[-1] < 1e-3 and all(b < a for a, b in zip(small, small[1:])),
             f"small init, tanh: std {small[0]:.2e} at layer 1, {small[-1]:.2e} at layer {depth}"),
        Part("too-large weights saturate tanh", saturated > 0.5,
             f"large init: {saturated:.0%} of the last tanh layer's units beyond ±0.99"),
        Part("Xavier (tanh) and Kaiming (ReLU) keep them stable", stable,
             "last/first layer std: " + ", ".join(f"{k} {r:.2f}" for k, r in ratios.items())
             + f" (stable: within {STABLE_FACTOR:g}×)"),
    ]
    return Verdict(parts, measured, key_number=f"small init: last-layer std {small[-1]:.1e}")


@experiment("learning-rate", "Too large a learning rate diverges or stalls, too small crawls; a good rate, and "
                             "decaying it (step decay, warm-up then x0.1 at 50% and 75%), reach the lowest loss.")
def learning_rate(ctx):
    X, y, _, _ = fashion(ctx.pick(3000, 20000), 10, ctx.seed)
    epochs, batch = ctx.pick(3, 8), 64
    total = epochs * (len(X) // batch + (len(X) % batch > 0))
    settings = {
        "too large (1.0)": (1.0, None),
        "too small (1e-4)": (1e-4, None),
        "good (0.02)": (0.02, None),
        "step decay (0.02, ×0.1 every third)": (0.02, optim.schedule.StepDecay(max(1, total // 3), 0.1)),
        "warm-up + step (0.02)": (0.02, optim.schedule.get("warmup-step", total)),
    }
    measured, curves = {}, {}
    for label, (lr, schedule) in settings.items():
        net = model(784, [128], 10, seed=ctx.seed)
        curve = curves[label] = train(net, X, y, optimizer="sgd", lr=lr, epochs=epochs, batch_size=batch,
                                      seed=ctx.seed, schedule=schedule)
        measured[label] = {"final_loss": None if curve.diverged else float(np.mean(curve.losses[-50:])),
                           "diverged": curve.diverged, "diverged_at_step": curve.diverged_at,
                           "max_loss": float(np.nanmax(np.where(np.isfinite(curve.losses), curve.losses, np.nan)))}
    plt = pyplot()
    fig, (ax, ax_lr) = plt.subplots(1, 2, figsize=(13, 4.5), layout="constrained", width_ratios=(3, 2))
    clip = 10.0
    for i, (label, curve) in enumerate(curves.items()):
        plot_curve(ax, curve, label, clip=clip, **line_style(i))
        ax_lr.plot(np.arange(1, len(curve.lrs) + 1), curve.lrs, label=label, **line_style(i))
    ax.set(xlabel="training step (batch of 64)", ylabel="training loss (cross-entropy, 20-step mean, log scale)",
           yscale="log", ylim=(None, clip * 1.5), title=f"Loss by learning rate (curves above {clip:g} clipped: ▲/✕)")
    ax_lr.set(xlabel="training step", ylabel="learning rate (log scale)", yscale="log", title="The schedules")
    for a in (ax, ax_lr):
        a.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    ctx.save(fig, "loss-by-learning-rate", "On a log scale the rates separate: 1.0 blows up (marked where it "
                                           "diverged or left the chart), 1e-4 barely moves, and the decayed "
                                           "schedules drop below the constant good rate after each decay.")
    final = {k: (np.inf if v["final_loss"] is None else v["final_loss"]) for k, v in measured.items()}
    shown = ", ".join(f"{k} {'diverged' if not np.isfinite(v) else f'{v:.3f}'}" for k, v in final.items())
    decayed = min(final["step decay (0.02, ×0.1 every third)"], final["warm-up + step (0.02)"])
    best = min(final["good (0.02)"], decayed)
    parts = [
        Part("too large a learning rate diverges or stalls", final["too large (1.0)"] > best, shown),
        Part("too small crawls", final["too small (1e-4)"] > best,
             f"1e-4 ends at {final['too small (1e-4)']:.3f} against the best {best:.3f}"),
        Part("decaying a good rate reaches a lower loss than keeping it", decayed < final["good (0.02)"],
             f"decayed {decayed:.3f} vs constant {final['good (0.02)']:.3f} (mean of the last 50 steps)",
             f"in {epochs} epochs the constant rate has not yet reached the noisy plateau that decay removes"),
    ]
    return Verdict(parts, measured, key_number=f"final loss: decayed {decayed:.3f}, constant {final['good (0.02)']:.3f}")
