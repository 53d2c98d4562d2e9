"""Preprocessing, augmentation, losses, templates, the lecture's own network, and hand-made features."""

from __future__ import annotations

import math

import numpy as np

from .. import nn
from ..data import augment as A
from ..data import preprocess as P
from ..nn import functional as F
from ..tensor import Tensor
from .base import Verdict, accuracy, experiment, fashion, mlp, pyplot, train


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
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for label, pre in pipelines.items():
        tr, te = (X, X_test) if pre is None else (pre.fit_transform(X), pre.transform(X_test))
        net = mlp([tr.shape[1], 128, 10], seed=ctx.seed)
        losses = train(net, tr, y, optimizer="sgd", lr=0.01, epochs=ctx.pick(3, 8), batch_size=64, seed=ctx.seed)
        steps_per_epoch = math.ceil(len(tr) / 64)
        diverged = not np.isfinite(losses[-1])
        measured[label] = {"first_epoch_loss": float(np.mean(losses[:steps_per_epoch])) if not diverged else None,
                           "final_loss": None if diverged else float(np.mean(losses[-20:])),
                           "test_accuracy": accuracy(net, te, y_test), "diverged": diverged}
        shown = np.clip(np.nan_to_num(losses, nan=5.0), 0, 5)
        ax.plot(np.convolve(shown, np.ones(20) / 20, mode="valid"), label=label)
    ax.set(xlabel="step", ylabel="training loss", ylim=(0, 3), title="Same network and learning rate, different inputs")
    ax.legend()
    ctx.save(fig, "loss-by-preprocessing")
    raw, std = measured["raw (0-255)"], measured["standardised"]
    supported = std["test_accuracy"] > raw["test_accuracy"] and (raw["diverged"] or std["final_loss"] < raw["final_loss"])
    return Verdict(supported, "test accuracy: " + ", ".join(f"{k} {v['test_accuracy']:.3f}" + (" (diverged)" if v["diverged"] else "")
                                                           for k, v in measured.items()), measured)


@experiment("augmentation", "On a small training set, flips, crops, scaling and colour jitter shrink the gap "
                            "between training and test accuracy.")
def augmentation(ctx):
    X, y, X_test, y_test = fashion(ctx.pick(1000, 3000), ctx.pick(1000, 5000), ctx.seed, flat=False)
    mean, std = X.mean(), X.std()

    def prep(images):
        return ((images.reshape(len(images), -1) - mean) / std).astype(np.float32)

    augment = A.Compose([A.HorizontalFlip(rng=ctx.seed), A.RandomCrop(28, padding=2, rng=ctx.seed + 1),
                         A.RandomScale((0.9, 1.1), rng=ctx.seed + 2), A.ColorJitter(0.2, 0.2, rng=ctx.seed + 3)])
    measured = {}
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    for label, transform in (("without", None), ("with augmentation", augment)):
        net = mlp([784, 256, 10], seed=ctx.seed)
        train(net, X, y, optimizer="adam", lr=1e-3, epochs=ctx.pick(15, 40), batch_size=64, seed=ctx.seed,
              loss=lambda out, t: F.cross_entropy(out, t),
              augment=(lambda b: prep(transform(b))) if transform else prep)
        tr, te = accuracy(net, prep(X), y), accuracy(net, prep(X_test), y_test)
        measured[label] = {"train_accuracy": tr, "test_accuracy": te, "gap": tr - te}
    ax.bar(list(measured), [m["gap"] for m in measured.values()], color=["tab:red", "tab:green"])
    ax.set(ylabel="train minus test accuracy", title=f"Generalisation gap, {len(X)} training images")
    ctx.save(fig, "generalisation-gap")
    samples = augment(np.repeat(X[:1], 8, axis=0))
    fig, axes = plt.subplots(1, 8, figsize=(10, 1.6))
    for a, image in zip(axes, samples):
        a.imshow(image, cmap="gray")
        a.axis("off")
    ctx.save(fig, "augmented-samples")
    gap_without, gap_with = measured["without"]["gap"], measured["with augmentation"]["gap"]
    return Verdict(gap_with < gap_without, f"gap {gap_without:.3f} without, {gap_with:.3f} with augmentation "
                                           f"(test accuracy {measured['without']['test_accuracy']:.3f} -> "
                                           f"{measured['with augmentation']['test_accuracy']:.3f})", measured)


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
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    axes[0].scatter(x, target, s=5, c="grey")
    grid = np.linspace(-2, 2, 50, dtype=np.float32)[:, None]
    for name, loss in (("MSE", F.mse_loss), ("MAE", F.l1_loss)):
        line = nn.Linear(1, 1, rng=ctx.seed)
        train(line, x, target, loss=loss, steps=ctx.pick(1500, 4000), lr=0.02)
        measured[f"{name}_slope"] = float(line.weight.data[0, 0])
        axes[0].plot(grid, line(Tensor(grid)).data, label=f"{name}: slope {measured[f'{name}_slope']:.2f}")
    axes[0].set(title="Regression with 10% outliers (true slope 2)")
    axes[0].legend()

    X, y, X_test, y_test = fashion(ctx.pick(2000, 10000), ctx.pick(1000, 5000), ctx.seed)
    onehot = np.eye(10, dtype=np.float32)
    for name, loss in (("cross-entropy", F.cross_entropy),
                       ("MSE on softmax", lambda out, t: F.mse_loss(F.softmax(out), onehot[t]))):
        net = mlp([784, 128, 10], seed=ctx.seed)
        train(net, X, y, loss=loss, optimizer="sgd", lr=0.05, epochs=ctx.pick(2, 5), batch_size=64, seed=ctx.seed)
        measured[f"{name}_test_accuracy"] = accuracy(net, X_test, y_test)
    axes[1].bar(["cross-entropy", "MSE on softmax"],
                [measured["cross-entropy_test_accuracy"], measured["MSE on softmax_test_accuracy"]])
    axes[1].set(ylim=(0, 1), ylabel="test accuracy", title="Same training budget, two losses")
    ctx.save(fig, "losses")

    pred, obs = Tensor(rng.standard_normal(100)), rng.standard_normal(100)
    nll = F.gaussian_nll_loss(pred, obs, 1.0, full=True).item()
    half_mse_plus_const = F.mse_loss(pred, obs).item() / 2 + 0.5 * math.log(2 * math.pi)
    measured["gaussian_nll_minus_half_mse_plus_constant"] = abs(nll - half_mse_plus_const)
    supported = (abs(measured["MAE_slope"] - 2) < abs(measured["MSE_slope"] - 2)
                 and measured["cross-entropy_test_accuracy"] > measured["MSE on softmax_test_accuracy"]
                 and measured["gaussian_nll_minus_half_mse_plus_constant"] < 1e-5)
    return Verdict(supported, f"slopes: MAE {measured['MAE_slope']:.2f}, MSE {measured['MSE_slope']:.2f} (true 2); "
                              f"accuracy: cross-entropy {measured['cross-entropy_test_accuracy']:.3f}, MSE "
                              f"{measured['MSE on softmax_test_accuracy']:.3f}; |NLL - (MSE/2 + c)| = "
                              f"{measured['gaussian_nll_minus_half_mse_plus_constant']:.1e}", measured)


@experiment("templates", "A linear classifier learns one template per class (each looks like its class); an "
                         "MLP's first layer learns many templates shared by all classes.")
def templates(ctx):
    X, y, X_test, y_test = fashion(ctx.pick(3000, 20000), ctx.pick(1000, 5000), ctx.seed)
    linear = nn.Linear(784, 10, rng=ctx.seed)
    train(linear, X, y, optimizer="sgd", lr=0.01, epochs=ctx.pick(3, 10), batch_size=64, seed=ctx.seed)
    net = mlp([784, 64, 10], seed=ctx.seed)
    train(net, X, y, optimizer="sgd", lr=0.05, epochs=ctx.pick(3, 10), batch_size=64, seed=ctx.seed)
    W = linear.weight.data
    class_means = np.stack([X[y == c].mean(axis=0) for c in range(10)])
    correlation = np.corrcoef(np.concatenate([W.T, class_means]))[:10, 10:]
    own_best = float(np.mean(correlation.argmax(axis=1) == np.arange(10)))
    measured = {"linear_test_accuracy": accuracy(linear, X_test, y_test), "mlp_test_accuracy": accuracy(net, X_test, y_test),
                "templates_most_like_their_own_class": own_best}
    from ..data import info

    classes = info("fashion-mnist").classes
    plt = pyplot()
    fig, axes = plt.subplots(2, 10, figsize=(14, 3.4))
    for c in range(10):
        axes[0, c].imshow(W[:, c].reshape(28, 28), cmap="RdBu_r")
        axes[0, c].set_title(classes[c], fontsize=7)
        axes[1, c].imshow(net[0].weight.data[:, c].reshape(28, 28), cmap="RdBu_r")
        axes[1, c].set_title(f"MLP unit {c}", fontsize=7)
    for a in axes.flat:
        a.axis("off")
    fig.suptitle("Top: the linear classifier's ten templates. Bottom: ten of the MLP's 64 first-layer templates")
    ctx.save(fig, "templates")
    return Verdict(own_best >= 0.7, f"{own_best:.0%} of the linear templates correlate best with their own class's "
                                    f"mean image; linear {measured['linear_test_accuracy']:.3f} vs MLP "
                                    f"{measured['mlp_test_accuracy']:.3f} test accuracy", measured)


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
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(by_hand, lw=4, alpha=0.4, label="NumPy, backprop by hand")
    ax.plot(autograd, "k--", label="nnscratch autograd")
    ax.set(xlabel="step", ylabel="sum of squares", yscale="log", title="The lecture's network, two ways")
    ax.legend()
    ctx.save(fig, "loss-curves")
    measured = {"steps": steps, "max_relative_difference": difference, "first_loss": by_hand[0], "last_loss": by_hand[-1]}
    return Verdict(difference < 1e-9, f"the two loss curves differ by at most {difference:.1e} (relative) over "
                                      f"{steps} steps", measured)


@experiment("features-vs-end-to-end", "Hand-made features let a linear classifier do much better than on raw "
                                      "pixels; an MLP learns its own features and does better still.")
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
    runs = [("linear", "pixels"), ("linear", "HoG"), ("linear", "BoW"), ("linear", "HoG + BoW"), ("MLP", "pixels"),
            ("MLP", "HoG")]
    measured = {}
    for model_kind, name in runs:
        tr, te = feats[name]
        model = nn.Linear(tr.shape[1], 10, rng=ctx.seed) if model_kind == "linear" else mlp([tr.shape[1], 256, 10], seed=ctx.seed)
        train(model, tr, y, optimizer="sgd", lr=0.01 if model_kind == "linear" else 0.05, epochs=ctx.pick(5, 10),
              batch_size=128, seed=ctx.seed)
        measured[f"{model_kind} on {name}"] = accuracy(model, te, y_test)
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.barh(list(measured), list(measured.values()), color=["tab:blue"] * 4 + ["tab:orange"] * 2)
    ax.set(xlim=(0.5, 1), xlabel="test accuracy", title=f"Features vs end-to-end ({len(X)} training images)")
    ax.invert_yaxis()
    ctx.save(fig, "features-vs-end-to-end")
    gain = measured["linear on HoG"] - measured["linear on pixels"]
    return Verdict(gain > 0.01, f"linear on HoG {measured['linear on HoG']:.3f} vs on pixels "
                                f"{measured['linear on pixels']:.3f} ({gain:+.3f}); MLP on pixels "
                                f"{measured['MLP on pixels']:.3f}, on HoG {measured['MLP on HoG']:.3f}", measured)
