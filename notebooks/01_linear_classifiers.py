# %% [markdown]
# # 01 · Linear classifiers: scores, templates and their limits
#
# A linear classifier scores every class with one dot product, `s = x @ W + b`. This notebook
# shows (1) the score function on the lecture's toy example (a 4-pixel image, 3 classes),
# (2) that each column of `W` is a *template* the image is matched against, by training a linear
# model on Fashion-MNIST and drawing its columns, and (3) where one line per class is not enough:
# XOR-like data no linear classifier can separate.
#
# Set `NNSCRATCH_QUICK=1` to shrink data and epochs (that is how CI runs it).

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

import nnscratch as ns
from nnscratch import data, nn, optim
from nnscratch.train import evaluate, fit

QUICK = os.environ.get("NNSCRATCH_QUICK") == "1"

# %% [markdown]
# ## The score function with the lecture's numbers
# Pixels `x = [56, 231, 24, 2]`, three classes (cat, dog, ship). With `W` stored as
# `(in_features, out_features)`, the scores are `x @ W + b`.

# %%
x = ns.Tensor([[56.0, 231.0, 24.0, 2.0]])
W = ns.Tensor([[0.2, 1.5, 0.0], [-0.5, 1.3, 0.25], [0.1, 2.1, 0.2], [2.0, 0.0, -0.3]])
b = ns.Tensor([1.1, 3.2, -1.2])
scores = x @ W + b
for name, s in zip(["cat", "dog", "ship"], scores.numpy()[0]):
    print(f"RESULT score_{name}={s:.2f}")

# %% [markdown]
# (The slide prints 61.95 for "ship"; the arithmetic, as the cell computes it, gives 60.75.)
# The cat image scores highest for "dog": this `W` is a bad classifier. Learning finds a better one.
#
# ## Templates: a linear model on Fashion-MNIST

# %%
X_train, y_train = data.load("fashion-mnist", "train", download=False)
X_test, y_test = data.load("fashion-mnist", "test", download=False)
classes = data.info("fashion-mnist").classes
n_train = 2000 if QUICK else 20000
X = X_train[:n_train].reshape(n_train, -1).astype(np.float32) / 255.0
y = y_train[:n_train]
Xt = X_test[:2000].reshape(2000, -1).astype(np.float32) / 255.0
yt = y_test[:2000]

model = nn.Linear(784, 10, init="zeros")
history = fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1, momentum=0.9),
              train=(X, y), epochs=2 if QUICK else 8, batch_size=64, rng=0, progress=False)
print(f"test accuracy of the linear classifier: {evaluate(model, Xt, yt).accuracy:.3f}")

# %%
fig, axes = plt.subplots(1, 10, figsize=(14, 1.8))
for k, ax in enumerate(axes):
    ax.imshow(model.weight.numpy()[:, k].reshape(28, 28), cmap="coolwarm")
    ax.set_title(classes[k], fontsize=8)
    ax.axis("off")
plt.show()

# %% [markdown]
# Each column is one blurry "average" item of its class: a single template per class cannot
# represent a class that comes in several shapes (a sandal seen from two sides, say).
#
# ## The limits: XOR

# %%
X_xor, y_xor = data.toy.xor(400, noise=0.1, rng=0)
linear = nn.Linear(2, 2, rng=0)
fit(linear, nn.CrossEntropyLoss(), optim.SGD(linear.parameters(), lr=0.5, momentum=0.9),
    train=(X_xor, y_xor), epochs=60, batch_size=40, rng=0, progress=False)
xor_accuracy = evaluate(linear, X_xor, y_xor).accuracy
print(f"RESULT xor_linear_accuracy={xor_accuracy:.3f}")

# %% [markdown]
# A linear classifier on XOR stays near chance (the number above): no single line splits the
# four quadrants. Notebook 03 adds a hidden layer and solves it.
#
# ## Exercises
# 1. Change `W` by hand so the cat image scores highest for "cat".
# 2. Train the Fashion-MNIST model with `init="normal"` and compare the templates.
# 3. Which two classes have the most similar templates? Measure it with the cosine similarity.
