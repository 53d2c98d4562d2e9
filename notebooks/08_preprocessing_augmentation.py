# %% [markdown]
# # 08 · Preprocessing and augmentation
#
# Preprocessing is fitted on the training split only and applied to every split; augmentation
# changes training images only, a new random change every epoch. This notebook (1) zero-centres and
# standardises correlated 2-D data, then decorrelates it with PCA and whitens it, checking the
# covariance each step leaves, (2) shows flips and random crops of Fashion-MNIST images, and
# (3) trains a small model with and without augmentation.

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

from nnscratch import data, nn, optim
from nnscratch.data import augment, preprocess
from nnscratch.train import evaluate, fit

QUICK = os.environ.get("NNSCRATCH_QUICK") == "1"

# %% [markdown]
# ## Centre, standardise, decorrelate, whiten

# %%
rng = np.random.default_rng(0)
X = rng.standard_normal((1000, 2)) @ np.array([[3.0, 0.0], [2.0, 0.5]]) + np.array([5.0, -2.0])
steps = {"original": X,
         "zero-centred": preprocess.ZeroCenter().fit_transform(X),
         "standardised": preprocess.Standardize().fit_transform(X),
         "PCA (decorrelated)": preprocess.PCA().fit_transform(X),
         "whitened": preprocess.Whiten(method="pca").fit_transform(X)}
fig, axes = plt.subplots(1, len(steps), figsize=(15, 3))
for ax, (name, Z) in zip(axes, steps.items()):
    ax.scatter(Z[:, 0], Z[:, 1], s=2); ax.set_title(name); ax.axis("equal")
plt.show()
for name, Z in steps.items():
    C = np.cov(np.asarray(Z, dtype=np.float64), rowvar=False, bias=True)
    print(f"{name:>20}: mean {np.round(Z.mean(axis=0), 3)}, covariance {np.round(C, 3).tolist()}")
W = np.asarray(steps["whitened"], dtype=np.float64)
print(f"RESULT whitened_covariance_is_identity={np.allclose(np.cov(W, rowvar=False, bias=True), np.eye(2), atol=1e-2)}")

# %% [markdown]
# ## Augmentation on Fashion-MNIST images

# %%
X_train, y_train = data.load("fashion-mnist", "train", download=False)
X_test, y_test = data.load("fashion-mnist", "test", download=False)
images = X_train[:8].astype(np.float32) / 255.0
flip = augment.HorizontalFlip(p=1.0, rng=0)
crop = augment.RandomCrop(28, padding=4, rng=0)
fig, axes = plt.subplots(3, 8, figsize=(12, 4.5))
for row, (name, batch) in zip(axes, (("original", images), ("flipped", flip(images)), ("cropped", crop(images)))):
    for ax, image in zip(row, batch):
        ax.imshow(image, cmap="gray"); ax.axis("off")
    row[0].set_title(name, loc="left")
plt.show()
print(f"RESULT flip_is_mirror={np.array_equal(flip(images), images[:, :, ::-1])}")

# %% [markdown]
# ## With and without augmentation

# %%
n_train, n_test, epochs = (500, 500, 2) if QUICK else (10000, 5000, 15)
X, y = X_train[:n_train].astype(np.float32) / 255.0, y_train[:n_train]
Xt, yt = X_test[:n_test].astype(np.float32) / 255.0, y_test[:n_test]

def flat(images):
    return images.reshape(len(images), -1)

for name, transform in (("no augmentation", None),
                        ("flip + crop", augment.Compose([augment.HorizontalFlip(rng=0), augment.RandomCrop(28, padding=2, rng=1)]))):
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 128, rng=0), nn.ReLU(), nn.Linear(128, 10, rng=1))
    fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.05, momentum=0.9), train=(X, y),
        epochs=epochs, batch_size=64, augment=transform, rng=0, progress=False)
    train_acc, test_acc = evaluate(model, X, y).accuracy, evaluate(model, Xt, yt).accuracy
    print(f"{name:>16}: train {train_acc:.3f}, test {test_acc:.3f}, gap {train_acc - test_acc:.3f}")

# %% [markdown]
# Augmentation is a regulariser: its job is to narrow the gap between training and test accuracy
# (compare the gaps printed above). With few epochs it also slows training down, so judge it on the
# full run (`NNSCRATCH_QUICK` unset).
#
# ## Exercises
# 1. Fit `Standardize` on the test set instead of the training set. Why is that a leak?
# 2. Add `augment.RandomScale()` and measure again.
# 3. Keep only the first 50 PCA components of the images (`preprocess.PCA(50)`) and train on them.
