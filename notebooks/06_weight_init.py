# %% [markdown]
# # 06 · Weight initialisation
#
# How the first weights are drawn decides whether signals survive a deep network. This notebook
# pushes a batch through ten tanh (and ten ReLU) layers and measures the spread of each layer's
# activations for three initialisations: small (std 0.01, the activations collapse to zero),
# Xavier/Glorot (std 1/sqrt(fan_in), right for tanh) and Kaiming/He (std sqrt(2/fan_in), right
# for ReLU). Then it trains the same deep MLP from each and compares.

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

import nnscratch as ns
from nnscratch import data, nn, optim
from nnscratch.train import evaluate, fit

QUICK = os.environ.get("NNSCRATCH_QUICK") == "1"
INITS = ("small", "xavier", "kaiming")
DEPTH, WIDTH = 10, 256

# %%
def activation_stds(init, activation):
    x = ns.Tensor(np.random.default_rng(0).standard_normal((500, WIDTH)).astype(np.float32))
    stds = []
    with ns.no_grad():
        for layer in range(DEPTH):
            x = activation(nn.Linear(WIDTH, WIDTH, init=init, rng=layer)(x))
            stds.append(float(x.numpy().std()))
    return stds

fig, axes = plt.subplots(1, 2, figsize=(11, 3.5))
for ax, (act_name, act) in zip(axes, (("tanh", nn.Tanh()), ("relu", nn.ReLU()))):
    for init in INITS:
        stds = activation_stds(init, act)
        ax.plot(range(1, DEPTH + 1), stds, marker="o", label=init)
        print(f"RESULT last_layer_std_{act_name}_{init}={stds[-1]:.2g}")
    ax.set_yscale("log"); ax.set_title(f"{act_name}: std of each layer's output"); ax.set_xlabel("layer")
    ax.legend()
plt.show()

# %% [markdown]
# With std 0.01 the activations shrink by a constant factor per layer and are near zero by layer 10;
# Xavier keeps tanh's outputs in range, Kaiming keeps ReLU's (the numbers above).
#
# ## Training from each initialisation

# %%
X, y = data.toy.spirals(600, n_classes=3, noise=0.2, rng=0)
epochs = 15 if QUICK else 60
for init in INITS:
    layers = [nn.Linear(2, 64, init=init, rng=0), nn.ReLU()]
    for i in range(4):
        layers += [nn.Linear(64, 64, init=init, rng=i + 1), nn.ReLU()]
    model = nn.Sequential(*layers, nn.Linear(64, 3, init=init, rng=9))
    fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.05, momentum=0.9),
        train=(X, y), epochs=epochs, batch_size=32, rng=0, progress=False)
    print(f"{init:>8}: training accuracy {evaluate(model, X, y).accuracy:.3f} after {epochs} epochs")

# %% [markdown]
# ## Exercises
# 1. Repeat the first experiment with `nn.Sigmoid()`. Which initialisation keeps it alive?
# 2. Use `init="large"` (std 1). What happens to tanh's outputs, and to its gradients?
# 3. Derive Kaiming's factor 2 from the variance of a ReLU's output.
