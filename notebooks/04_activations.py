# %% [markdown]
# # 04 · Activation functions: shapes, gradients, saturation and dying ReLU
#
# This notebook draws sigmoid, tanh, ReLU, leaky ReLU and ELU with their gradients (taken from the
# engine, not written by hand), measures how sigmoid saturates (its gradient vanishes for large
# inputs and never exceeds 1/4), and shows dying ReLU units: units whose input is negative for every
# sample get no gradient and never recover.

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

import nnscratch as ns
from nnscratch import nn

QUICK = os.environ.get("NNSCRATCH_QUICK") == "1"

ACTIVATIONS = {"sigmoid": nn.Sigmoid(), "tanh": nn.Tanh(), "relu": nn.ReLU(),
               "leaky_relu": nn.LeakyReLU(0.1), "elu": nn.ELU(1.0)}

# %%
z = np.linspace(-5, 5, 201)
fig, axes = plt.subplots(1, 2, figsize=(11, 3.5))
grads = {}
for name, act in ACTIVATIONS.items():
    x = ns.Tensor(z, dtype=np.float64, requires_grad=True)
    y = act(x)
    y.sum().backward()
    grads[name] = x.grad
    axes[0].plot(z, y.numpy(), label=name)
    axes[1].plot(z, x.grad, label=name)
axes[0].set_title("activation"); axes[1].set_title("gradient (from the engine)")
axes[0].legend(); plt.show()

# %% [markdown]
# ## Saturation

# %%
print(f"RESULT sigmoid_max_gradient={grads['sigmoid'].max():.4f}")
print(f"RESULT sigmoid_gradient_at_5={grads['sigmoid'][-1]:.5f}")
print(f"RESULT tanh_max_gradient={grads['tanh'].max():.4f}")

# %% [markdown]
# The sigmoid's gradient peaks at 1/4 (at 0) and is tiny at |z| = 5: a deep stack of sigmoids
# multiplies many such factors and the gradient vanishes. tanh peaks at 1, and is zero-centred.
#
# ## Dying ReLU
# A layer whose biases are pushed very negative (as a too-large update can do) outputs zero for
# every sample; its units get zero gradient, so nothing brings them back.

# %%
rng = np.random.default_rng(0)
X = rng.standard_normal((256, 10))
layer = nn.Linear(10, 50, rng=0, dtype=np.float64)
layer.bias.data[:25] -= 10.0  # half the units pushed far into the negative side
h = nn.ReLU()(layer(ns.Tensor(X, dtype=np.float64)))
h.sum().backward()
dead = np.all(h.numpy() == 0, axis=0)
no_grad = np.all(layer.weight.grad == 0, axis=0)
print(f"RESULT dead_units={int(dead.sum())}")
print("dead units are exactly the units with zero weight gradient:", bool(np.array_equal(dead, no_grad)))

# %% [markdown]
# Leaky ReLU keeps a small slope for negative inputs, so the same units still learn:

# %%
layer.zero_grad()
h = nn.LeakyReLU(0.1)(layer(ns.Tensor(X, dtype=np.float64)))
h.sum().backward()
print(f"RESULT leaky_units_without_gradient={int(np.all(layer.weight.grad == 0, axis=0).sum())}")

# %% [markdown]
# ## Exercises
# 1. Stack ten sigmoid layers and print the gradient norm reaching the first layer; repeat with ReLU.
# 2. At what learning rate does plain SGD kill most ReLU units of a small MLP on `data.toy.spirals`?
# 3. Plot ELU's gradient near 0 for `alpha=1` and `alpha=0.5`. Which one is smooth?
