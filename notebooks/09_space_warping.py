# %% [markdown]
# # 09 · Space warping and universal approximation
#
# A hidden layer warps the input space so that a straight line in the warped space separates the
# classes (Olah, "Neural Networks, Manifolds, and Topology"). This notebook trains a small network on
# two rings, draws a grid of the input plane as the hidden layer sees it, and then shows universal
# approximation: one hidden layer of ReLU units fits a wiggly 1-D function, with an error that depends
# on how many units it has (the cell prints it for 2, 8 and 64).

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

import nnscratch as ns
from nnscratch import data, nn, optim
from nnscratch.train import evaluate, fit

QUICK = os.environ.get("NNSCRATCH_QUICK") == "1"

# %% [markdown]
# ## Warping the plane

# %%
X, y = data.toy.rings(400, noise=0.05, rng=0)
model = nn.Sequential(nn.Linear(2, 3, rng=0), nn.Tanh(), nn.Linear(3, 2, rng=1))
fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1, momentum=0.9), train=(X, y),
    epochs=60, batch_size=40, rng=0, progress=False)
print(f"RESULT rings_accuracy={evaluate(model, X, y).accuracy:.3f}")

# %%
lines = np.linspace(-1.5, 1.5, 13)
grid = [np.stack([np.full(100, c), np.linspace(-1.5, 1.5, 100)], 1) for c in lines]
grid += [g[:, ::-1] for g in grid]
hidden = nn.Sequential(model[0], model[1])
fig = plt.figure(figsize=(11, 4.5))
ax0 = fig.add_subplot(1, 2, 1); ax1 = fig.add_subplot(1, 2, 2, projection="3d")
with ns.no_grad():
    for g in grid:
        ax0.plot(g[:, 0], g[:, 1], color="grey", lw=0.5)
        h = hidden(g.astype(np.float32)).numpy()
        ax1.plot(h[:, 0], h[:, 1], h[:, 2], color="grey", lw=0.5)
    H = hidden(X).numpy()
ax0.scatter(X[:, 0], X[:, 1], c=y, cmap="coolwarm", s=6); ax0.set_title("input space")
ax1.scatter(H[:, 0], H[:, 1], H[:, 2], c=y, cmap="coolwarm", s=6); ax1.set_title("hidden space (3 tanh units)")
plt.show()

# %% [markdown]
# In the hidden space the inner ring has been pulled away from the outer one, and a plane separates them.
#
# ## Universal approximation in one dimension

# %%
x = np.linspace(-3, 3, 200, dtype=np.float32).reshape(-1, 1)
target = np.sin(2 * x) + 0.3 * x
steps = 400 if QUICK else 3000
errors = {}
plt.plot(x, target, color="black", lw=3, label="target")
for units in (2, 8, 64):
    net = nn.Sequential(nn.Linear(1, units, rng=0), nn.ReLU(), nn.Linear(units, 1, rng=1))
    opt, mse = optim.Adam(net.parameters(), lr=0.02), nn.MSELoss()
    for _ in range(steps):
        loss = mse(net(x), ns.Tensor(target))
        opt.zero_grad(); loss.backward(); opt.step()
    errors[units] = float(loss.item())
    plt.plot(x, net(x).numpy(), label=f"{units} ReLU units (mse {errors[units]:.3f})")
plt.legend(); plt.show()
print("mean squared error by hidden units:", {k: round(v, 4) for k, v in errors.items()})

# %% [markdown]
# ## Exercises
# 1. Train the rings network with 2 hidden units instead of 3. Can a 2-D warp separate two nested rings?
# 2. Fit `np.abs(x)` with exactly 2 ReLU units by hand: which weights give it exactly?
# 3. Replace ReLU with Tanh in the approximation. Which fits the sine better with 8 units?
