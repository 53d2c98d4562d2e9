"""How a hidden layer warps space, drawn as Olah's "Neural Networks, Manifolds, and Topology" (2014) draws it.

A tanh layer h = tanh(W·x + b) is three moves of the plane: a linear map (W·x stretches, squishes,
rotates), a translation (+ b) and a squashing of each coordinate into (−1, 1) (tanh). None of them
cuts or glues the plane when W is invertible, so the data and a grid drawn on the input move
together. Two hidden units untangle two nested chevrons this way (the squashing folds the region
above a "V" into a corner of the square, which one line cuts off); no stack of 2-unit layers can
pull the inner ring out of the outer one (a homeomorphism of the plane keeps one inside the
other), three can.
"""

from __future__ import annotations

import importlib.util
import os
import tempfile

import numpy as np

from ..data import toy
from ..tensor import Tensor, no_grad
from .base import Part, Verdict, accuracy, decision_boundary, experiment, layers_with_weights, model, predictor, pyplot, train

GRID_LINES = 13  # per direction
SEPARATED = 1.0  # "separates" a toy set: every point on its own side (a thin misclassified channel still counts)
RING_DEPTHS = (1, 2, 3)
CLASS_COLOURS = np.array(["tab:blue", "tab:red"])


def chevrons(n_samples, gap=0.35, noise=0.05, seed=0):
    """Two nested "V" shapes, x₂ = |x₁| ± gap (+ noise): class 0 the upper V, class 1 the lower.

    No line separates them (the lower V's arms rise above the upper V's tip); two tanh units do,
    with an invertible W (the two arms' normals). X: (N, 2) float32, y: (N,) int."""
    rng = np.random.default_rng(seed)
    x1 = rng.uniform(-1.5, 1.5, n_samples)
    y = np.arange(n_samples) % 2
    x2 = np.abs(x1) + np.where(y == 0, gap, -gap) + rng.standard_normal(n_samples) * noise
    return np.c_[x1, x2].astype(np.float32), y


def best_of_restarts(X, y, hidden, restarts, steps, seed, lr=0.03):
    """Gradient descent can stall in a local minimum on these small nets: keep the best of a few starts."""
    best, best_accuracy = None, -1.0
    for restart in range(restarts):
        net = model(2, hidden, 2, activation="tanh", init="xavier", seed=seed + 10 * restart)
        train(net, X, y, steps=steps, lr=lr)
        score = accuracy(net, X, y)
        if score > best_accuracy:
            best, best_accuracy = net, score
        if score == 1.0:
            break
    return best, best_accuracy


def grid_lines(X, count=GRID_LINES, points=120):
    """Horizontal and vertical lines covering the data's box: (2·count, points, 2)."""
    lo, hi = X.min(axis=0) - 0.3, X.max(axis=0) + 0.3
    t = np.linspace(0, 1, points)
    lines = [np.c_[np.full(points, lo[0] + (hi[0] - lo[0]) * s), lo[1] + (hi[1] - lo[1]) * t] for s in np.linspace(0, 1, count)]
    lines += [np.c_[lo[0] + (hi[0] - lo[0]) * t, np.full(points, lo[1] + (hi[1] - lo[1]) * s)] for s in np.linspace(0, 1, count)]
    return np.stack(lines)


def stages(points, W, b):
    """The input and its image after W·x, after + b, after tanh: four arrays shaped like `points`."""
    linear = points @ W
    shifted = linear + b
    return [points, linear, shifted, np.tanh(shifted)]


STAGE_TITLES = ("input space", "after W·x (linear map)", "after + b (translation)", "after tanh (squashing)")
STAGE_LABELS = (("x₁", "x₂"), ("(W·x)₁", "(W·x)₂"), ("(W·x + b)₁", "(W·x + b)₂"), ("h₁ = tanh(·)₁", "h₂ = tanh(·)₂"))


def draw_stage(ax, data, grid, y, title, labels):
    for line in grid:
        ax.plot(line[:, 0], line[:, 1], color="0.75", lw=0.6, zorder=1)
    ax.scatter(data[:, 0], data[:, 1], c=CLASS_COLOURS[y], s=6, zorder=2)
    ax.set_title(title, fontsize=9)
    ax.set_xlabel(labels[0], fontsize=8)
    ax.set_ylabel(labels[1], fontsize=8)
    ax.tick_params(labelsize=7)


def output_line(ax, net):
    """The output layer's decision line in hidden space: where the two class scores are equal."""
    last = layers_with_weights(net)[-1]
    w = last.weight.data[:, 1] - last.weight.data[:, 0]
    c = last.bias.data[1] - last.bias.data[0]
    h1 = np.linspace(-1, 1, 50)
    if abs(w[1]) > 1e-12:
        ax.plot(h1, -(w[0] * h1 + c) / w[1], "k--", lw=1.5, label="output layer's line")
    else:
        ax.axvline(-c / w[0], color="k", ls="--", lw=1.5, label="output layer's line")
    ax.set(xlim=(-1.05, 1.05), ylim=(-1.05, 1.05))
    ax.legend(fontsize=7, loc="lower left")


def warping_figure(plt, X, y, net):
    hidden = layers_with_weights(net)[0]
    W, b = hidden.weight.data.astype(np.float64), hidden.bias.data.astype(np.float64)
    data_stages, grid = stages(X, W, b), grid_lines(X)
    grid_stages = [s.reshape(grid.shape) for s in stages(grid.reshape(-1, 2), W, b)]
    fig, axes = plt.subplots(1, 4, figsize=(17, 4.6), layout="constrained")
    for i, ax in enumerate(axes):
        draw_stage(ax, data_stages[i], grid_stages[i], y, STAGE_TITLES[i], STAGE_LABELS[i])
        ax.set_aspect("equal", adjustable="box")
    both = np.concatenate([data_stages[1], data_stages[2]])
    for ax in axes[1:3]:  # shared limits: the translation is seen as a move, not a relabelling of the ticks
        ax.set(xlim=(both[:, 0].min() - 0.5, both[:, 0].max() + 0.5), ylim=(both[:, 1].min() - 0.5, both[:, 1].max() + 0.5))
    output_line(axes[3], net)
    return fig, data_stages, grid_stages


def animation_gif(plt, data_stages, grid_stages, y, frames_per_move=10):
    """GIF bytes interpolating linearly between the stages (None when pillow is missing: `pip install pillow`)."""
    if importlib.util.find_spec("PIL") is None:
        return None
    from matplotlib.animation import FuncAnimation, PillowWriter

    keys = [(k, t) for k in range(len(data_stages) - 1) for t in np.linspace(0, 1, frames_per_move)]
    keys = [(0, 0.0)] * 4 + keys + [(len(data_stages) - 2, 1.0)] * 6  # rest on the first and last stage
    everything = np.concatenate([s.reshape(-1, 2) for s in data_stages] + [g.reshape(-1, 2) for g in grid_stages])
    lo, hi = np.percentile(everything, 1, axis=0) - 0.3, np.percentile(everything, 99, axis=0) + 0.3
    fig, ax = plt.subplots(figsize=(5, 5), layout="constrained")

    def frame(key):
        k, t = key
        ax.clear()
        mix = lambda stage: (1 - t) * stage[k] + t * stage[k + 1]  # noqa: E731
        names = STAGE_TITLES[k + 1] if t > 0.5 else STAGE_TITLES[k]
        draw_stage(ax, mix(data_stages), mix(grid_stages), y, names, ("coordinate 1", "coordinate 2"))
        ax.set(xlim=(lo[0], hi[0]), ylim=(lo[1], hi[1]))

    animation = FuncAnimation(fig, frame, frames=keys)
    handle, path = tempfile.mkstemp(suffix=".gif")
    os.close(handle)
    try:
        animation.save(path, writer=PillowWriter(fps=8), dpi=70)
        with open(path, "rb") as f:
            return f.read()
    finally:
        os.unlink(path)
        plt.close(fig)


def rings_figure(plt, X, y, narrow, wide):
    """Left: the best width-2 net's regions; middle: width 3's; right: width 3's hidden space in 3-D."""
    fig = plt.figure(figsize=(15, 4.8), layout="constrained")
    ax_narrow, ax_wide = fig.add_subplot(1, 3, 1), fig.add_subplot(1, 3, 2, sharex=None)
    decision_boundary(ax_narrow, predictor(narrow[0]), X, y, f"width 2 (best of depths 1–3): {narrow[1]:.2f}")
    decision_boundary(ax_wide, predictor(wide[0]), X, y, f"width 3, one layer: {wide[1]:.2f}")
    ax3d = fig.add_subplot(1, 3, 3, projection="3d")
    hidden = layers_with_weights(wide[0])[0]
    with no_grad():
        h = np.tanh(X @ hidden.weight.data + hidden.bias.data)
    ax3d.scatter(h[:, 0], h[:, 1], h[:, 2], c=CLASS_COLOURS[y], s=6)
    last = layers_with_weights(wide[0])[-1]
    w, c = last.weight.data[:, 1] - last.weight.data[:, 0], last.bias.data[1] - last.bias.data[0]
    a = np.argmax(np.abs(w))  # solve the plane w·h + c = 0 for its steepest coordinate
    u, v = np.meshgrid(np.linspace(-1, 1, 10), np.linspace(-1, 1, 10))
    others = [i for i in range(3) if i != a]
    plane = np.zeros((3,) + u.shape)
    plane[others[0]], plane[others[1]] = u, v
    plane[a] = np.clip(-(w[others[0]] * u + w[others[1]] * v + c) / w[a], -1.2, 1.2)
    ax3d.plot_surface(*plane, alpha=0.25, color="k")
    ax3d.set(xlabel="h₁", ylabel="h₂", zlabel="h₃", xticks=[-1, 0, 1], yticks=[-1, 0, 1], zticks=[-1, 0, 1])
    ax3d.set_title("width 3: hidden space, split by a plane", fontsize=9)
    return fig


@experiment("space-warping", "A hidden layer warps the input space: with two tanh units, classes that no straight "
                             "line separates in the input (two nested chevrons) become separable by a line in "
                             "hidden space; rings need a third unit: width 2 cannot separate them at any depth, "
                             "width 3 can.")
def space_warping(ctx):
    X, y = chevrons(ctx.pick(300, 600), seed=ctx.seed)
    # few steps: enough to separate, before growing weights push every point into tanh's flat ends
    restarts, steps = ctx.pick(3, 5), ctx.pick(200, 300)
    net, hidden_accuracy = best_of_restarts(X, y, [2], restarts, steps, ctx.seed)
    input_linear = model(2, [], 2, seed=ctx.seed)
    train(input_linear, X, y, steps=ctx.pick(400, 1000), lr=0.05)
    measured = {"restarts": restarts, "input_space_linear_accuracy": accuracy(input_linear, X, y),
                "hidden_space_linear_accuracy": hidden_accuracy}
    plt = pyplot()
    fig, data_stages, grid_stages = warping_figure(plt, X, y, net)
    ctx.save(fig, "chevrons-warped-step-by-step", "Follow the grid: W·x rotates and stretches it, + b slides it, "
                                                  "tanh squashes it into the square, folding the region above the "
                                                  "V into a corner that one straight line (dashed) cuts off.")
    gif = animation_gif(plt, data_stages, grid_stages, y)
    if gif is not None:
        ctx.save_file("chevrons-warped.gif", gif, "The same four stages, moved between smoothly: the plane is "
                                             "stretched and squished, never cut.")

    R, r = toy.rings(ctx.pick(300, 600), noise=0.05, seed=ctx.seed)
    R = R.astype(np.float32)
    ring_steps, ring_restarts = ctx.pick(800, 1500), ctx.pick(2, 3)  # ring nets need longer than the chevrons
    narrow_by_depth = {d: best_of_restarts(R, r, [2] * d, ring_restarts, ring_steps, ctx.seed, lr=0.05)
                       for d in RING_DEPTHS}
    wide = best_of_restarts(R, r, [3], ring_restarts, ring_steps, ctx.seed, lr=0.05)
    measured["rings_width_2_accuracy_by_depth"] = {str(d): acc for d, (_, acc) in narrow_by_depth.items()}
    measured["rings_width_3_accuracy"] = wide[1]
    narrow = max(narrow_by_depth.values(), key=lambda pair: pair[1])
    ctx.save(rings_figure(plt, R, r, narrow, wide), "rings-width-2-vs-3",
             "Width 2 must leave a channel of the outer ring misclassified at any depth; width 3 lifts the inner "
             "ring above a plane (right, in 3-D).")

    gain = hidden_accuracy - measured["input_space_linear_accuracy"]
    by_depth = ", ".join(f"depth {d} {acc:.2f}" for d, acc in measured["rings_width_2_accuracy_by_depth"].items())
    parts = [
        Part("with two tanh units the chevrons become separable by a line in hidden space",
             hidden_accuracy >= 0.95 and gain > 0.05,
             f"a line separates {hidden_accuracy:.2f} of the points in hidden space vs "
             f"{measured['input_space_linear_accuracy']:.2f} in input space"),
        Part("width 2 cannot separate the rings at any depth", narrow[1] < SEPARATED,
             f"width 2: {by_depth} (separated: every point right, {SEPARATED:.2f})"),
        Part("width 3 can", wide[1] >= SEPARATED, f"width 3: {wide[1]:.2f}",
             "gradient descent from these starts did not find the separating lift"),
    ]
    return Verdict(parts, measured, key_number=f"chevrons in hidden space {hidden_accuracy:.2f}; rings: width 2 "
                                               f"{narrow[1]:.2f}, width 3 {wide[1]:.2f}")
