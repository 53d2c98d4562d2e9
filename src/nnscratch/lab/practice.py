"""Preprocessing, augmentation, losses, templates, the lecture's own network, and hand-made features."""

from __future__ import annotations

import math

import numpy as np

from .. import runs
from ..data import augment as A
from ..data import preprocess as P
from ..nn import functional as F
from ..tensor import Tensor
from .base import Part, Verdict, accuracy, experiment, fashion, layers_with_weights, line_style, model, plot_curve, pyplot, train


@experiment("preprocessing", "Zero-centred and standardised inputs train faster and better than raw pixels; "
                             "PCA and whitening are the lecture's further steps.")
def preprocessing(ctx):
    X, y, X_test, y_test = fashion(ctx.pick(3000, 20000), ctx.pick(1000, 5000), ctx.seed, flat=False)
    X, X_test = X.reshape(len(X), -1).astype(np.float32), X_test.reshape(len(X_test), -1).astype(np.float32)
    pipelines = {"raw (0-255)": None, "zero-centred": P.ZeroCenter(), "standardised": P.Standardize(per="channel"),
                 "PCA 100 + standardise": P.Pipeline([P.PCA(100), P.Standardize()]),
                 "whitened (ZCA)": P.Pipeline([P.Scale(), P.Whiten("zca", eps=1e-2)])}
    measured = {}
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.5), layout="constrained")
    steps_per_epoch = math.ceil(len(X) / 64)
    for i, (label, pre) in enumerate(pipelines.items()):
        tr, te = (X, X_test) if pre is None else (pre.fit_transform(X), pre.transform(X_test))
        net = model(tr.shape[1], [128], 10, seed=ctx.seed)
        curve = train(net, tr, y, optimizer="sgd", lr=0.01, epochs=ctx.pick(3, 8), batch_size=64, seed=ctx.seed)
        measured[label] = {"first_epoch_loss": None if curve.diverged and curve.diverged_at <= steps_per_epoch
                           else float(np.mean(curve.losses[:steps_per_epoch])),
                           "final_loss": None if curve.diverged else float(np.mean(curve.losses[-20:])),
                           "test_accuracy": accuracy(net, te, y_test), "diverged": curve.diverged,
                           "diverged_at_step": curve.diverged_at}
        plot_curve(ax, curve, label, clip=4.0, **line_style(i))
    ax.set(xlabel="training step (batch of 64)", ylabel="training loss (cross-entropy, 20-step mean)", ylim=(0, 4),
           title="Same network (784-128-10) and learning rate (SGD 0.01), different inputs")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    ctx.save(fig, "loss-by-preprocessing", "Inputs in 0–255 units (raw, or only centred) make gradients so large "
                                           "that SGD 0.01 blows up (✕ where it diverged); standardised, PCA and "
                                           "whitened inputs train smoothly.")

    def judged(label):
        m, raw = measured[label], measured["raw (0-255)"]
        first = lambda v: math.inf if v["first_epoch_loss"] is None else v["first_epoch_loss"]  # noqa: E731
        holds = not m["diverged"] and first(m) < first(raw) and m["test_accuracy"] > raw["test_accuracy"]
        numbers = (f"first-epoch loss {_loss(m['first_epoch_loss'])} vs raw {_loss(raw['first_epoch_loss'])}; test "
                   f"accuracy {m['test_accuracy']:.3f}{_diverged(m)} vs raw {raw['test_accuracy']:.3f}{_diverged(raw)}")
        return holds, numbers

    centred, standardised = judged("zero-centred"), judged("standardised")
    parts = [
        Part("zero-centred inputs train faster and better than raw pixels", *centred,
             "centred pixels are still in 0–255 units, so the first layer's gradients are ~255 times those of "
             "standardised inputs and SGD at 0.01 overshoots: centring needs scaling too"),
        Part("standardised inputs train faster and better than raw pixels", *standardised),
    ]
    return Verdict(parts, measured, key_number=f"test accuracy: standardised "
                                               f"{measured['standardised']['test_accuracy']:.3f}, raw "
                                               f"{measured['raw (0-255)']['test_accuracy']:.3f}")


def _loss(value):
    return "diverged" if value is None else f"{value:.3f}"


def _diverged(m):
    return f" (diverged at step {m['diverged_at_step']})" if m["diverged"] else ""


@experiment("augmentation", "On a small training set, flips, crops, scaling and colour jitter shrink the gap "
                            "between training and test accuracy.")
def augmentation(ctx):
    X, y, X_test, y_test = fashion(ctx.pick(1000, 3000), ctx.pick(1000, 5000), ctx.seed, flat=False)
    pre = runs.make_preprocess("standardize").fit(X)

    def prep(images):
        return np.asarray(pre.transform(images), dtype=np.float32).reshape(len(images), -1)

    augment = A.Compose([A.HorizontalFlip(rng=ctx.seed), A.RandomCrop(28, padding=2, rng=ctx.seed + 1),
                         A.RandomScale((0.9, 1.1), rng=ctx.seed + 2), A.ColorJitter(0.2, 0.2, rng=ctx.seed + 3)])
    measured = {}
    for label, transform in (("without", None), ("with augmentation", augment)):
        net = model(784, [256], 10, seed=ctx.seed)
        train(net, X, y, optimizer="adam", lr=1e-3, epochs=ctx.pick(15, 40), batch_size=64, seed=ctx.seed,
              augment=(lambda b: prep(transform(b))) if transform else prep)
        tr, te = accuracy(net, prep(X), y), accuracy(net, prep(X_test), y_test)
        measured[label] = {"train_accuracy": tr, "test_accuracy": te, "gap": tr - te}
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4), layout="constrained")
    ax.bar(list(measured), [m["gap"] for m in measured.values()], color=["tab:red", "tab:green"])
    ax.set(ylabel="train − test accuracy (share of images)", title=f"Generalisation gap, {len(X)} training images")
    ctx.save(fig, "generalisation-gap", "The shorter bar is the smaller gap between what the net scores on its "
                                        "training images and on unseen ones.")
    samples = augment(np.repeat(X[:1], 8, axis=0))
    fig, axes = plt.subplots(1, 8, figsize=(10, 1.6), layout="constrained")
    for a, image in zip(axes, samples):
        a.imshow(image, cmap="gray")
        a.axis("off")
    ctx.save(fig, "augmented-samples", "One training image, eight random augmentations of it: each epoch the "
                                       "net sees a slightly different picture.")
    gap_without, gap_with = measured["without"]["gap"], measured["with augmentation"]["gap"]
    parts = [Part("flips, crops, scaling and colour jitter shrink the train-test gap", gap_with < gap_without,
                  f"gap {gap_without:.3f} without, {gap_with:.3f} with augmentation (test accuracy "
                  f"{measured['without']['test_accuracy']:.3f} -> {measured['with augmentation']['test_accuracy']:.3f})")]
    return Verdict(parts, measured, key_number=f"gap {gap_without:.3f} -> {gap_with:.3f}")


@experiment("loss-functions", "MAE resists outliers where MSE bends to them; cross-entropy trains a classifier "
                              "faster than MSE; the Gaussian NLL with unit variance is MSE/2 plus a constant.")
def loss_functions(ctx):
    rng = np.random.default_rng(ctx.seed)
    n = ctx.pick(200, 1000)
    x = rng.uniform(-2, 2, (n, 1)).astype(np.float32)
    target = (2 * x + 1 + 0.1 * rng.standard_normal((n, 1))).astype(np.float32)
    outliers = rng.permutation(n)[: n // 10]
    target[outliers] += 15 * (x[outliers] > 0)  # one-sided outliers pull a least-squares line up at the right
    measured = {}
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), layout="constrained")
    axes[0].scatter(x, target, s=5, c="grey", label="data (10% outliers)")
    grid = np.linspace(-2, 2, 50, dtype=np.float32)[:, None]
    for i, (name, loss) in enumerate((("MSE", F.mse_loss), ("MAE", F.l1_loss))):
        line = model(1, [], 1, seed=ctx.seed)
        train(line, x, target, loss=loss, steps=ctx.pick(1500, 4000), lr=0.02)
        measured[f"{name}_slope"] = float(layers_with_weights(line)[0].weight.data[0, 0])
        axes[0].plot(grid, line(Tensor(grid)).data, label=f"fitted by {name}: slope {measured[f'{name}_slope']:.2f}",
                     lw=2, **line_style(i))
    axes[0].set(xlabel="x", ylabel="y", title="Regression with 10% outliers (true line y = 2x + 1)")
    axes[0].legend(fontsize=8)

    X, y, X_test, y_test = fashion(ctx.pick(2000, 10000), ctx.pick(1000, 5000), ctx.seed)
    onehot = np.eye(10, dtype=np.float32)
    for name, loss in (("cross-entropy", F.cross_entropy),
                       ("MSE on softmax", lambda out, t: F.mse_loss(F.softmax(out), onehot[t]))):
        net = model(784, [128], 10, seed=ctx.seed)
        train(net, X, y, loss=loss, optimizer="sgd", lr=0.05, epochs=ctx.pick(2, 5), batch_size=64, seed=ctx.seed)
        measured[f"{name}_test_accuracy"] = accuracy(net, X_test, y_test)
    axes[1].bar(["cross-entropy", "MSE on softmax"],
                [measured["cross-entropy_test_accuracy"], measured["MSE on softmax_test_accuracy"]],
                color=["tab:blue", "tab:orange"])
    axes[1].set(ylim=(0, 1), xlabel="training loss", ylabel="test accuracy (share of images)",
                title="Same net, same training budget, two losses")
    ctx.save(fig, "losses", "Left: the MSE line is pulled up towards the outliers, the MAE line stays on the bulk "
                            "of the data; right: cross-entropy reaches the higher accuracy in the same budget.")

    pred, obs = Tensor(rng.standard_normal(100)), rng.standard_normal(100)
    nll = F.gaussian_nll_loss(pred, obs, 1.0, full=True).item()
    half_mse_plus_const = F.mse_loss(pred, obs).item() / 2 + 0.5 * math.log(2 * math.pi)
    identity = measured["gaussian_nll_minus_half_mse_plus_constant"] = abs(nll - half_mse_plus_const)
    ce, mse = measured["cross-entropy_test_accuracy"], measured["MSE on softmax_test_accuracy"]
    parts = [
        Part("MAE resists outliers where MSE bends to them",
             abs(measured["MAE_slope"] - 2) < abs(measured["MSE_slope"] - 2),
             f"slopes: MAE {measured['MAE_slope']:.2f}, MSE {measured['MSE_slope']:.2f} (true 2)"),
        Part("cross-entropy trains a classifier faster than MSE", ce > mse,
             f"test accuracy after the same steps: cross-entropy {ce:.3f}, MSE {mse:.3f}"),
        Part("the Gaussian NLL with unit variance is MSE/2 plus a constant", identity < 1e-5,
             f"|NLL − (MSE/2 + ½·log 2π)| = {identity:.1e}"),
    ]
    return Verdict(parts, measured, key_number=f"slopes MAE {measured['MAE_slope']:.2f} / MSE {measured['MSE_slope']:.2f}")


def classes_served(W2, share=0.5):
    """For each hidden unit (row of W2: (H, C)), how many classes it feeds with at least `share` of its
    largest outgoing weight: 1 means a template for one class, more means shared."""
    size = np.abs(W2)
    return (size >= share * size.max(axis=1, keepdims=True)).sum(axis=1)


@experiment("templates", "A linear classifier learns one template per class (each looks like its class); an "
                         "MLP's first layer learns many templates shared by all classes.")
def templates(ctx):
    X, y, X_test, y_test = fashion(ctx.pick(3000, 20000), ctx.pick(1000, 5000), ctx.seed)
    linear = model(784, [], 10, seed=ctx.seed)
    train(linear, X, y, optimizer="sgd", lr=0.01, epochs=ctx.pick(3, 10), batch_size=64, seed=ctx.seed)
    net = model(784, [64], 10, seed=ctx.seed)
    train(net, X, y, optimizer="sgd", lr=0.05, epochs=ctx.pick(3, 10), batch_size=64, seed=ctx.seed)
    W = layers_with_weights(linear)[0].weight.data
    first, second = layers_with_weights(net)
    class_means = np.stack([X[y == c].mean(axis=0) for c in range(10)])
    correlation = np.corrcoef(np.concatenate([W.T, class_means]))[:10, 10:]
    own_best = float(np.mean(correlation.argmax(axis=1) == np.arange(10)))
    served = classes_served(second.weight.data)
    measured = {"linear_test_accuracy": accuracy(linear, X_test, y_test), "mlp_test_accuracy": accuracy(net, X_test, y_test),
                "templates_most_like_their_own_class": own_best, "mlp_units_classes_served": served.tolist(),
                "mlp_units_serving_several_classes": float(np.mean(served >= 2))}
    from ..data import info

    classes = info("fashion-mnist").classes
    plt = pyplot()
    fig, axes = plt.subplots(2, 10, figsize=(15, 4), layout="constrained")
    for row, (weights, titles) in enumerate(((W, classes), (first.weight.data[:, :10], [f"MLP unit {c}" for c in range(10)]))):
        limit = float(np.abs(weights).max())
        for c in range(10):
            shown = axes[row, c].imshow(weights[:, c].reshape(28, 28), cmap="RdBu_r", vmin=-limit, vmax=limit)
            axes[row, c].set_title(titles[c], fontsize=7)
            axes[row, c].axis("off")
        fig.colorbar(shown, ax=axes[row, :], shrink=0.8, label="weight (red +, blue −)")
    fig.suptitle("Top: the linear classifier's ten templates. Bottom: ten of the MLP's 64 first-layer templates", fontsize=10)
    ctx.save(fig, "templates", "Top: each linear template is a blurred picture of its class (red where ink votes for "
                               "it); bottom: the MLP's units are parts and strokes that no single class owns.")
    several = measured["mlp_units_serving_several_classes"]
    parts = [
        Part("a linear classifier learns one template per class that looks like its class", own_best >= 0.7,
             f"{own_best:.0%} of the linear templates correlate best with their own class's mean image (threshold 70%)"),
        Part("an MLP's first layer learns templates shared by the classes", several >= 0.5,
             f"{several:.0%} of the MLP's 64 units feed two or more classes with at least half their largest weight"),
    ]
    return Verdict(parts, measured, key_number=f"{own_best:.0%} of linear templates match their class")


@experiment("lecture-network", "The lecture's two-layer NumPy network with hand-written backprop and the same "
                               "network on nnscratch's autograd follow the same loss curve.")
def lecture_network(ctx):
    N, D_in, H, D_out = 64, 1000, 100, 10
    rng = np.random.default_rng(ctx.seed)
    x, y = rng.standard_normal((N, D_in)), rng.standard_normal((N, D_out))
    w1_init, w2_init = rng.standard_normal((D_in, H)), rng.standard_normal((H, D_out))
    lr, steps = 1e-4, ctx.pick(200, 2000)
    w1, w2, by_hand = w1_init.copy(), w2_init.copy(), []
    for _ in range(steps):
        h = 1 / (1 + np.exp(-x.dot(w1)))
        y_pred = h.dot(w2)
        by_hand.append(np.square(y_pred - y).sum())
        grad_y_pred = 2 * (y_pred - y)
        grad_w2 = h.T.dot(grad_y_pred)
        grad_h = grad_y_pred.dot(w2.T)
        grad_w1 = x.T.dot(grad_h * h * (1 - h))
        w1 -= lr * grad_w1
        w2 -= lr * grad_w2
    W1, W2, autograd = Tensor(w1_init.copy(), requires_grad=True), Tensor(w2_init.copy(), requires_grad=True), []
    for _ in range(steps):
        loss = ((F.sigmoid(Tensor(x) @ W1) @ W2 - y) ** 2).sum()
        autograd.append(loss.item())
        W1.grad = W2.grad = None
        loss.backward()
        W1.data -= lr * W1.grad
        W2.data -= lr * W2.grad
    difference = float(np.max(np.abs(np.array(by_hand) - autograd) / np.abs(by_hand)))
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4), layout="constrained")
    ax.plot(by_hand, lw=4, alpha=0.4, color="tab:blue", label="NumPy, backprop by hand")
    ax.plot(autograd, "k--", label="nnscratch autograd")
    ax.set(xlabel="gradient-descent step", ylabel="loss (sum of squares, log scale)", yscale="log",
           title="The lecture's network, two ways")
    ax.legend()
    ctx.save(fig, "loss-curves", "The dashed autograd curve lies exactly on the thick hand-written one: the same "
                                 "gradients, step for step.")
    measured = {"steps": steps, "max_relative_difference": difference, "first_loss": by_hand[0], "last_loss": by_hand[-1]}
    parts = [Part("hand-written backprop and autograd follow the same loss curve", difference < 1e-9,
                  f"the two loss curves differ by at most {difference:.1e} (relative) over {steps} steps")]
    return Verdict(parts, measured, key_number=f"max relative difference {difference:.1e}")


# The end-to-end row (issue 18 item 6): the CNN `nnscratch train --model cnn:...` builds, on the same
# images. Quick: narrow and 2 epochs, so the lab's CI run stays cheap; full: the default CNN for 5 epochs.
CNN_ROW = {"quick": ("cnn:8,16", 2), "full": ("cnn:32,64", 5)}


@experiment("features-vs-end-to-end", "Hand-made features let a linear classifier do much better than on raw "
                                      "pixels; an MLP learns its own features and does better still; a "
                                      "convolutional network, learning local features end to end, does best.")
def features_vs_end_to_end(ctx):
    from ..features import HOG, BagOfVisualWords

    X, y, X_test, y_test = fashion(ctx.pick(3000, 60000), ctx.pick(1000, 10000), ctx.seed, flat=False)
    extractors = {"pixels": None, "HoG": HOG(cell=(4, 4)), "BoW": BagOfVisualWords(ctx.pick(64, 256), seed=ctx.seed)}
    feats = {}
    for name, extractor in extractors.items():
        if extractor is None:
            tr, te = X.reshape(len(X), -1) / 255.0, X_test.reshape(len(X_test), -1) / 255.0
        else:
            extractor.fit(X)
            tr, te = extractor.transform(X), extractor.transform(X_test)
        scaler = P.Standardize().fit(tr)
        feats[name] = (scaler.transform(tr).astype(np.float32), scaler.transform(te).astype(np.float32))
    feats["HoG + BoW"] = tuple(np.concatenate([feats["HoG"][i], feats["BoW"][i]], axis=1) for i in range(2))
    runs_ = [("linear", "pixels"), ("linear", "HoG"), ("linear", "BoW"), ("linear", "HoG + BoW"), ("MLP", "pixels"),
             ("MLP", "HoG")]
    epochs, accuracies = ctx.pick(5, 10), {}
    for model_kind, name in runs_:
        tr, te = feats[name]
        net = model(tr.shape[1], [] if model_kind == "linear" else [256], 10, seed=ctx.seed)
        train(net, tr, y, optimizer="sgd", lr=0.01 if model_kind == "linear" else 0.05, epochs=epochs,
              batch_size=128, seed=ctx.seed)
        accuracies[f"{model_kind} on {name}"] = accuracy(net, te, y_test)
    cnn_spec, cnn_epochs = CNN_ROW["quick" if ctx.quick else "full"]
    accuracies["CNN on pixels"] = _cnn_accuracy(cnn_spec, cnn_epochs, X, y, X_test, y_test, ctx.seed)
    measured = {**accuracies, "cnn_model": cnn_spec, "cnn_epochs": cnn_epochs, "epochs": epochs,
                "training_images": len(X), "test_images": len(X_test)}
    _draw_features_vs_end_to_end(ctx, accuracies, f"CNN {cnn_spec} on pixels, {cnn_epochs} epochs",
                                 f"{len(X)} training images, {epochs} epochs unless said")
    return Verdict(_features_vs_end_to_end_parts(accuracies, len(X), epochs, cnn_spec, cnn_epochs, ctx.quick),
                   measured, key_number=_features_key_number(accuracies))


def _cnn_accuracy(spec, epochs, X, y, X_test, y_test, seed):
    """Test accuracy of the CNN `spec` (runs.build_model) trained by `train` on images X: (N, 28, 28),
    standardised per channel as `nnscratch train --preprocess standardize` does (fitted on X only)."""
    scaler = runs.make_preprocess("standardize").fit(X)
    tr, te = (np.asarray(scaler.transform(a), dtype=np.float32) for a in (X, X_test))
    net = runs.build_model(runs.RunConfig(model=spec, seed=seed), tr.shape[1:], 10)
    train(net, tr, y, optimizer="adam", lr=0.005, epochs=epochs, batch_size=64, seed=seed)
    return accuracy(net, te, y_test)


def _draw_features_vs_end_to_end(ctx, accuracies, cnn_label, setting):
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.4), layout="constrained")
    colours = ["tab:orange" if k.startswith("MLP") else "tab:green" if k.startswith("CNN") else "tab:blue"
               for k in accuracies]
    labels = [cnn_label if k == "CNN on pixels" else k for k in accuracies]
    ax.barh(labels, list(accuracies.values()), color=colours)
    for i, value in enumerate(accuracies.values()):
        ax.text(value + 0.005, i, f"{value:.3f}", va="center", fontsize=8)
    ax.set(xlim=(0.5, 1), xlabel="test accuracy (share of images)", title=f"Features vs end to end ({setting})")
    ax.invert_yaxis()
    ctx.save(fig, "features-vs-end-to-end", "Blue: one linear layer on each input; orange: an MLP; green: a CNN "
                                            "on the pixels. Compare the linear bars with the top one, the orange "
                                            "MLP on pixels with the best blue bar, then the green CNN with all.")


def _features_margins(measured):
    """(HoG's gain over pixels, the best linear-on-features row, the MLP's margin over it, the best
    row other than the CNN, the CNN's margin over it): what the parts and the key number compare."""
    gain = measured["linear on HoG"] - measured["linear on pixels"]
    best_feature = max((k for k in measured if k.startswith("linear") and k != "linear on pixels"), key=measured.get)
    best_other = max((k for k in measured if k != "CNN on pixels"), key=measured.get)
    return (gain, best_feature, measured["MLP on pixels"] - measured[best_feature], best_other,
            measured["CNN on pixels"] - measured[best_other])


def _features_vs_end_to_end_parts(measured, n_train, epochs, cnn_spec, cnn_epochs, quick):
    gain, best_feature, mlp_margin, best_other, cnn_margin = _features_margins(measured)
    full_run = "; the full run trains {} for {} epochs on 60,000 images".format(*CNN_ROW["full"]) if quick else ""
    return [
        Part("hand-made features let a linear classifier do much better than on raw pixels", gain >= 0.02,
             f"linear on HoG {measured['linear on HoG']:.3f} vs on pixels {measured['linear on pixels']:.3f} "
             f"({gain:+.3f}; much better: ≥ +0.02)",
             f"on {n_train} training images and {epochs} epochs HoG's gain over pixels stays under what \"much "
             f"better\" asks; the full run trains on 60,000 images"),
        Part("an MLP learns its own features and does better still", mlp_margin > 0,
             f"MLP on pixels {measured['MLP on pixels']:.3f} vs the best linear on features ({best_feature}) "
             f"{measured[best_feature]:.3f} ({mlp_margin:+.3f})",
             f"a one-hidden-layer MLP trained {epochs} epochs on {n_train} images has not learned features as good "
             f"as HoG; the lecture's end-to-end wins come from convolutional nets (the CNN row)"),
        Part("a convolutional network, learning local features end to end, does best", cnn_margin > 0,
             f"CNN ({cnn_spec}, {cnn_epochs} epochs) on pixels {measured['CNN on pixels']:.3f} vs the best other "
             f"row ({best_other}) {measured[best_other]:.3f} ({cnn_margin:+.3f})",
             f"a {cnn_spec} trained {cnn_epochs} epochs on {n_train} images has not yet learned better features "
             f"than {best_other}{full_run}"),
    ]


def _features_key_number(measured):
    gain, _, mlp_margin, _, cnn_margin = _features_margins(measured)
    return (f"linear on HoG {gain:+.3f}; MLP on pixels {mlp_margin:+.3f} vs best features; "
            f"CNN {cnn_margin:+.3f} vs best other")
