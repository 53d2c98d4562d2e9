# %% [markdown]
# # 03 · From the perceptron to the multi-layer perceptron
#
# A perceptron is a linear score followed by a step; stacking layers with a non-linearity in
# between gives a multi-layer perceptron (MLP) that can bend its decision boundary. This notebook
# (1) runs the lecture's 3-layer network forward by hand in NumPy with its numbers, (2) computes the
# same network with the engine's `Tensor` and checks the two agree, and (3) shows an MLP solving the
# XOR data that defeated the linear classifier in notebook 01.

# %%
import os

import numpy as np

import nnscratch as ns
from nnscratch import data, nn, optim
from nnscratch import functional as F
from nnscratch.train import evaluate, fit

QUICK = os.environ.get("NNSCRATCH_QUICK") == "1"

# %% [markdown]
# ## The 3-layer network, by hand
# The lecture's forward pass: `f = lambda x: 1 / (1 + exp(-x))`, `h1 = f(W1 x + b1)`,
# `h2 = f(W2 h1 + b2)`, `out = W3 h2 + b3`, here with 3 inputs, two hidden layers of 4 and one output,
# weights drawn from a seeded generator (batch-first, so `x @ W`).

# %%
rng = np.random.default_rng(0)
x = np.array([[1.0, -2.0, 0.5]])
W1, b1 = rng.standard_normal((3, 4)), np.zeros(4)
W2, b2 = rng.standard_normal((4, 4)), np.zeros(4)
W3, b3 = rng.standard_normal((4, 1)), np.zeros(1)
f = lambda z: 1.0 / (1.0 + np.exp(-z))
h1 = f(x @ W1 + b1)
h2 = f(h1 @ W2 + b2)
out_numpy = h2 @ W3 + b3
print(f"RESULT three_layer_numpy={out_numpy.item():.6f}")

# %% [markdown]
# ## The same network with the engine

# %%
t = lambda a: ns.Tensor(a, dtype=np.float64, requires_grad=True)
tw1, tw2, tw3 = t(W1), t(W2), t(W3)
out = F.sigmoid(F.sigmoid(ns.Tensor(x, dtype=np.float64) @ tw1) @ tw2) @ tw3
out.sum().backward()
print(f"RESULT three_layer_engine={out.item():.6f}")
print("engine and NumPy agree:", np.allclose(out.numpy(), out_numpy))
print("gradient of the output with respect to W3:", np.round(tw3.grad.ravel(), 4))
print("it equals h2, the last hidden layer:", np.allclose(tw3.grad.ravel(), h2.ravel()))

# %% [markdown]
# A tensor in a cell shows its shape, dtype, values and gradient:

# %%
tw3

# %% [markdown]
# The gradient with respect to `W3` equals `h2`, the last hidden layer: a mul gate hands each input
# the other one.
#
# ## An MLP solves XOR

# %%
X_xor, y_xor = data.toy.xor(400, noise=0.1, rng=0)
mlp = nn.Sequential(nn.Linear(2, 16, rng=0), nn.ReLU(), nn.Linear(16, 2, rng=1))
mlp

# %%
history = fit(mlp, nn.CrossEntropyLoss(), optim.SGD(mlp.parameters(), lr=0.2, momentum=0.9),
              train=(X_xor, y_xor), epochs=60, batch_size=40, rng=0, progress=False)
print(f"RESULT xor_mlp_accuracy={evaluate(mlp, X_xor, y_xor).accuracy:.3f}")

# %%
history.plot();

# %% [markdown]
# ## Exercises
# 1. Replace the sigmoid in the by-hand network with `np.tanh` and the engine's `F.tanh`; check they agree.
# 2. How few hidden units solve XOR? Try 2, 3 and 4 (and several seeds).
# 3. Remove the ReLU from the MLP. Why does it fall back to the linear classifier's accuracy?
