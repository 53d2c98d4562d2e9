# %% [markdown]
# # 07 · Learning rates and schedules
#
# The learning rate is the first setting to tune. This notebook trains the same model with a rate
# that is too low, a good one and one that is far too high (when it diverges, `fit` stops and says
# where and what to do), then draws the schedules `nnscratch.optim.schedule` offers: step decay, cosine and linear
# warm-up.

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

from nnscratch import data, nn, optim
from nnscratch.optim import schedule
from nnscratch.train import fit

QUICK = os.environ.get("NNSCRATCH_QUICK") == "1"

# %% [markdown]
# ## Too low, about right, too high

# %%
X, y = data.toy.spirals(600, n_classes=3, noise=0.2, rng=0)
epochs = 10 if QUICK else 40

def make_model():
    return nn.Sequential(nn.Linear(2, 64, rng=0), nn.ReLU(), nn.Linear(64, 3, rng=1))

for lr in (0.001, 0.1, 1000.0):
    model = make_model()
    try:
        history = fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=lr, momentum=0.9),
                      train=(X, y), epochs=epochs, batch_size=32, rng=0, progress=False)
        plt.plot(history.epoch, history.train_loss, marker=".", label=f"lr={lr}")
        print(f"lr={lr}: final training loss {history.train_loss[-1]:.4f}")
    except FloatingPointError as error:
        print(f"lr={lr}: diverged. {error}")
plt.yscale("log"); plt.xlabel("epoch"); plt.ylabel("training loss"); plt.legend(); plt.show()

# %% [markdown]
# ## Schedules
# A schedule multiplies the base rate by a factor at each optimiser step.

# %%
steps = np.arange(1000)
presets = {"step (every 300, x0.1)": schedule.StepDecay(300, 0.1), "cosine": schedule.Cosine(1000),
           "warm-up 100 then cosine": schedule.LinearWarmup(100, after=schedule.Cosine(1000))}
for label, s in presets.items():
    plt.plot(steps, [s.factor(int(k)) for k in steps], label=label)
plt.xlabel("step"); plt.ylabel("factor of the base rate"); plt.legend(); plt.show()
print(f"RESULT step_factor_at_650={presets['step (every 300, x0.1)'].factor(650):.4f}")
print(f"RESULT cosine_factor_at_500={presets['cosine'].factor(500):.4f}")

# %% [markdown]
# ## Exercises
# 1. Find, by halving, the largest rate at which this model still trains (no divergence).
# 2. Train with `schedule="cosine"` in `fit` and compare the final loss with a constant rate.
# 3. Replace SGD by `optim.Adam`. Does it care as much about the rate?
