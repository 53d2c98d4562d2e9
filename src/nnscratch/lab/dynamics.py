"""How activations, initialisation and the learning rate shape training."""

from __future__ import annotations

import time

import numpy as np

from .. import nn, optim
from ..nn import functional as F
from ..tensor import Tensor
from .base import Verdict, accuracy, experiment, fashion, mlp, pyplot, train

ACTIVATIONS = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU, "leaky-relu": nn.LeakyReLU, "elu": nn.ELU}


def deep_net(activation, width, depth, seed, init="xavier", d_in=784, d_out=10):
    if activation == "maxout":
        layers = [nn.Maxout(d_in if i == 0 else width, width, rng=seed + i, init=init) for i in range(depth - 1)]
        return nn.Sequential(*layers, nn.Linear(width, d_out, rng=seed + 99, init=init))
    return mlp([d_in] + [width] * (depth - 1) + [d_out], activation=ACTIVATIONS[activation], init=init, seed=seed)


def weight_gradient_norms(model, X, y):
    model.zero_grad()
    F.cross_entropy(model(Tensor(X)), y).backward()
    return [float(np.linalg.norm(m.weight.grad)) for m in model if hasattr(m, "weight")]


@experiment("activations", "Sigmoid's gradient vanishes through depth while ReLU's does not; some ReLUs die; "
                           "with all-positive inputs (sigmoid outputs) a neuron's weight gradients share one sign.")
def activations(ctx):
    X, y, X_test, y_test = fashion(ctx.pick(2000, 10000), ctx.pick(1000, 5000), ctx.seed)
    width, depth = ctx.pick(64, 256), 10
    names = list(ACTIVATIONS) + ["maxout"]
    measured = {"gradient_norm_per_layer": {}, "final_loss": {}, "test_accuracy": {}, "ms_forward_backward": {}}
    plt = pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    for name in names:
        net = deep_net(name, width, depth, ctx.seed)
        norms = weight_gradient_norms(net, X[:256], y[:256])
        measured["gradient_norm_per_layer"][name] = norms
        axes[0].semilogy(range(1, len(norms) + 1), norms, marker="o", label=name)
        losses = train(net, X, y, optimizer="sgd", lr=0.05, epochs=ctx.pick(2, 5), batch_size=64, seed=ctx.seed)
        measured["final_loss"][name] = float(np.mean(losses[-20:]))
        measured["test_accuracy"][name] = accuracy(net, X_test, y_test)
        shown = np.clip(np.nan_to_num(losses, nan=5.0), 0, 5)  # a diverging run must not hide the others
        axes[1].plot(np.convolve(shown, np.ones(10) / 10, mode="valid"), label=name)
    axes[0].set(xlabel="layer", ylabel="|dL/dW| at initialisation", title="Gradient norm per layer (10 layers)")
    axes[1].set(xlabel="step", ylabel="training loss (clipped at 5)", ylim=(0, 3), title="Training (SGD, momentum 0.9)")
    for ax in axes[:2]:
        ax.legend(fontsize=7)
    big = Tensor(np.random.default_rng(ctx.seed).standard_normal((1024, 1024)).astype(np.float32), requires_grad=True)
    functions = {"sigmoid": F.sigmoid, "tanh": F.tanh, "relu": F.relu, "leaky-relu": F.leaky_relu, "elu": F.elu}
    for name, fn in functions.items():
        times = []
        for _ in range(ctx.pick(5, 20)):
            started = time.perf_counter()
            fn(big).sum().backward()
            times.append(time.perf_counter() - started)
        measured["ms_forward_backward"][name] = 1000 * float(np.median(times))
    axes[2].bar(list(functions), [measured["ms_forward_backward"][n] for n in functions])
    axes[2].set(ylabel="ms for 1024x1024, forward + backward", title="Cost of each function")
    ctx.save(fig, "activations")

    relu_net = deep_net("relu", width, depth, ctx.seed, init="kaiming")
    train(relu_net, X, y, optimizer="sgd", lr=0.05, epochs=ctx.pick(2, 5), batch_size=64, seed=ctx.seed)
    h, dead = Tensor(X[:1000]), []
    for layer in relu_net:
        h = layer(h)
        if isinstance(layer, nn.ReLU):
            dead.append(float(np.mean(np.all(h.data <= 0, axis=0))))
    measured["dead_relu_fraction_per_layer"] = dead

    # zig-zag: inputs from a sigmoid layer are all positive, so dL/dw_ij = delta_j * x_i has delta_j's sign
    x_pos = F.sigmoid(Tensor(X[:1])).data
    layer = nn.Linear(784, 32, rng=ctx.seed)
    F.cross_entropy(nn.Sequential(layer, nn.ReLU(), nn.Linear(32, 10, rng=1))(Tensor(x_pos)), y[:1]).backward()
    g = layer.weight.grad
    active = np.any(g != 0, axis=0)
    same_sign = np.all(g[:, active] >= 0, axis=0) | np.all(g[:, active] <= 0, axis=0)
    measured["zigzag_same_sign_fraction"] = float(same_sign.mean()) if active.any() else None

    ratio = measured["gradient_norm_per_layer"]["relu"][0] / max(measured["gradient_norm_per_layer"]["sigmoid"][0], 1e-30)
    measured["relu_over_sigmoid_first_layer_gradient"] = ratio
    supported = ratio >= 10 and measured["zigzag_same_sign_fraction"] == 1.0
    return Verdict(supported, f"first-layer gradient norm: ReLU {ratio:.3g}x sigmoid's; "
                              f"{measured['zigzag_same_sign_fraction']:.0%} of neurons fed positive inputs have "
                              f"single-signed weight gradients; dead ReLUs after training: "
                              f"{max(dead):.1%} in the worst layer", measured)


INITS = {"small 0.01": "small", "large 1.0": "large", "xavier": "xavier", "kaiming": "kaiming"}


@experiment("initialization", "Too-small weights make activations collapse to zero layer by layer, too-large "
                              "weights saturate tanh, Xavier (tanh) and Kaiming (ReLU) keep them stable.")
def initialization(ctx):
    width, depth = ctx.pick(256, 512), 10
    x = np.random.default_rng(ctx.seed).standard_normal((ctx.pick(256, 1000), width)).astype(np.float32)
    measured = {}
    plt = pyplot()
    fig, axes = plt.subplots(len(INITS), 2, figsize=(10, 2.2 * len(INITS)), squeeze=False)
    hist_figs = {name: plt.subplots(len(INITS), depth, figsize=(16, 1.5 * len(INITS)), squeeze=False)
                 for name in ("tanh", "relu")}
    for row, (label, init) in enumerate(INITS.items()):
        for col, (act_name, act) in enumerate((("tanh", np.tanh), ("relu", lambda a: np.maximum(a, 0)))):
            h, stds, means = x, [], []
            rng = np.random.default_rng(ctx.seed)
            for layer in range(depth):
                W = nn.init.get(init)((width, width), rng=rng)
                h = act(h @ W)
                stds.append(float(h.std()))
                means.append(float(h.mean()))
                hist_ax = hist_figs[act_name][1][row, layer]
                hist_ax.hist(h.ravel(), bins=40, color="tab:blue")
                hist_ax.set_yticks([])
                hist_ax.set_title(f"{label}, layer {layer + 1}" if layer == 0 else f"layer {layer + 1}", fontsize=7)
                hist_ax.tick_params(labelsize=6)
            measured[f"{act_name}/{label}"] = {"std_per_layer": stds, "mean_per_layer": means,
                                               "saturated_fraction_last": float(np.mean(np.abs(h) > 0.99))
                                               if act_name == "tanh" else None}
            axes[row, col].plot(range(1, depth + 1), stds, marker="o")
            axes[row, col].set_yscale("log")
            axes[row, col].set_title(f"{act_name}, {label}: std per layer", fontsize=9)
    fig.tight_layout()
    ctx.save(fig, "activation-std-per-layer")
    for name, (hist_fig, _) in hist_figs.items():
        hist_fig.suptitle(f"Activation histograms per layer, 10-layer {name} net (rows: initialisation)")
        hist_fig.tight_layout()
        ctx.save(hist_fig, f"{name}-activation-histograms")

    X, y, X_test, y_test = fashion(ctx.pick(2000, 10000), ctx.pick(1000, 5000), ctx.seed)
    fig, ax = plt.subplots(figsize=(6, 4))
    measured["training_final_loss"] = {}
    for label, init in INITS.items():
        net = mlp([784] + [128] * 5 + [10], activation=nn.Tanh, init=init, seed=ctx.seed)
        losses = train(net, X, y, optimizer="sgd", lr=0.01, epochs=ctx.pick(1, 4), batch_size=64, seed=ctx.seed)
        measured["training_final_loss"][label] = float(np.mean(losses[-20:]))
        ax.plot(np.convolve(losses, np.ones(10) / 10, mode="valid"), label=label)
    ax.set(xlabel="step", ylabel="training loss", title="6-layer tanh net: training by initialisation")
    ax.legend()
    ctx.save(fig, "training-by-init")

    small_last = measured["tanh/small 0.01"]["std_per_layer"][-1]
    kaiming = measured["relu/kaiming"]["std_per_layer"]
    kaiming_ratio = kaiming[-1] / kaiming[0]
    saturated = measured["tanh/large 1.0"]["saturated_fraction_last"]
    supported = small_last < 1e-3 and 0.5 <= kaiming_ratio <= 2 and saturated > 0.5
    return Verdict(supported, f"small init: last tanh layer std {small_last:.2e}; large init: {saturated:.0%} of "
                              f"tanh units saturated; Kaiming ReLU: last/first std {kaiming_ratio:.2f}", measured)


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
        "step decay": (0.02, optim.schedule.StepDecay(max(1, total // 3), 0.1)),
        "warm-up + step": (0.02, optim.schedule.get("warmup-step", total)),
    }
    measured = {}
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for label, (lr, schedule) in settings.items():
        net = mlp([784, 128, 10], seed=ctx.seed)
        losses = train(net, X, y, optimizer="sgd", lr=lr, epochs=epochs, batch_size=batch, seed=ctx.seed,
                       schedule=schedule)
        diverged = not np.isfinite(losses[-1])
        measured[label] = {"final_loss": None if diverged else float(np.mean(losses[-50:])), "diverged": diverged}
        shown = np.clip(np.nan_to_num(losses, nan=10.0), 0, 10)
        ax.plot(np.convolve(shown, np.ones(20) / 20, mode="valid"), label=label + (" (diverged)" if diverged else ""))
    ax.set(xlabel="step", ylabel="training loss (20-step mean)", ylim=(0, 3), title="Learning rates")
    ax.legend()
    ctx.save(fig, "loss-by-learning-rate")
    final = {k: (np.inf if v["final_loss"] is None else v["final_loss"]) for k, v in measured.items()}
    good = min(final["good (0.02)"], final["step decay"], final["warm-up + step"])
    supported = final["too large (1.0)"] > good and final["too small (1e-4)"] > good
    return Verdict(supported, "final loss: " + ", ".join(
        f"{k} {'diverged' if not np.isfinite(v) else f'{v:.3f}'}" for k, v in final.items()), measured)
