# %% [markdown]
# # 02 · Image features and a linear model on them
#
# Before deep learning, images were turned into *features* and a linear classifier was trained on
# those. This notebook computes the three the lecture names: a colour histogram (the hue
# distribution), histograms of oriented gradients (HoG, local edge directions) and a bag of visual
# words (k-means code words over patches), then trains the same linear model on pixels and on
# HoG features to compare them.

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

from nnscratch import data, features, nn, optim
from nnscratch.train import evaluate, fit

QUICK = os.environ.get("NNSCRATCH_QUICK") == "1"

# %% [markdown]
# ## Colour histogram
# Two tiny synthetic colour images: one pure red, one pure blue. Their hue histograms put all
# the mass in different bins.

# %%
red = np.zeros((1, 8, 8, 3), np.float32); red[..., 0] = 1.0
blue = np.zeros((1, 8, 8, 3), np.float32); blue[..., 2] = 1.0
hist = features.ColorHistogram(bins=6).fit(np.concatenate([red, blue]))
H = hist.transform(np.concatenate([red, blue]))
print("feature length:", H.shape[1])
print(f"RESULT red_blue_histograms_differ={not np.allclose(H[0], H[1])}")

# %% [markdown]
# ## HoG on Fashion-MNIST

# %%
X_train, y_train = data.load("fashion-mnist", "train", download=False)
X_test, y_test = data.load("fashion-mnist", "test", download=False)
n_train, n_test = (1000, 500) if QUICK else (20000, 5000)
X, y = X_train[:n_train].astype(np.float32) / 255.0, y_train[:n_train]
Xt, yt = X_test[:n_test].astype(np.float32) / 255.0, y_test[:n_test]

hog = features.HOG(orientations=9, cell=(7, 7), block=(2, 2))
F_train = hog.fit_transform(X)
F_test = hog.transform(Xt)
print("HoG features per image:", F_train.shape[1])

# %%
def linear_accuracy(F, y, Ft, yt, epochs):
    model = nn.Linear(F.shape[1], 10, init="zeros")
    fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1, momentum=0.9),
        train=(F, y), epochs=epochs, batch_size=64, rng=0, progress=False)
    return evaluate(model, Ft, yt).accuracy

epochs = 2 if QUICK else 10
pixels_acc = linear_accuracy(X.reshape(len(X), -1), y, Xt.reshape(len(Xt), -1), yt, epochs)
hog_acc = linear_accuracy(F_train, y, F_test, yt, epochs)
print(f"linear on pixels: {pixels_acc:.3f}   linear on HoG: {hog_acc:.3f}")

# %% [markdown]
# ## Bag of visual words
# Code words are k-means centres of 8x8 patches; an image becomes the share of its patches
# nearest each word.

# %%
bow = features.BagOfVisualWords(n_words=16, patch=8, stride=4, rng=0, max_patches=2000)
B = bow.fit_transform(X[:200])
print("bag-of-words vector of the first image (sums to 1):", np.round(B[0], 2))
print(f"RESULT bow_row_sum={B[0].sum():.4f}")

# %%
fig, axes = plt.subplots(2, 8, figsize=(10, 2.6))
for word, ax in zip(bow.codebook_, axes.ravel()):
    ax.imshow(np.asarray(word).reshape(8, 8), cmap="gray")
    ax.axis("off")
plt.suptitle("the 16 code words")
plt.show()

# %% [markdown]
# ## Exercises
# 1. Concatenate HoG and bag-of-words features (`features.concat`) and train the linear model again.
# 2. Vary the HoG cell size: 4x4, 7x7, 14x14. How does the accuracy move?
# 3. Why is a colour histogram useless on Fashion-MNIST?
