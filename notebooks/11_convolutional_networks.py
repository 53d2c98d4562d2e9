# %% [markdown]
# # 11 · Convolutional networks: a filter slid over the image, as one matrix product
#
# The lecture ends where hand-made features give way to learned ones; the convolutional network is
# where they are learned best. This notebook computes a convolution by hand on a tiny image and
# checks `nn.Conv2d` gives the same numbers, rewrites it as im2col plus ONE matrix product (how
# nnscratch computes it), shows what max and average pooling do forward and backward, trains a
# `cnn:...` model against an MLP with about as many weights on a Fashion-MNIST subset, and draws
# the first layer's learned filters and the feature maps they make of one image.
#
# In quick mode (`NNSCRATCH_QUICK=1`) the models train on 2,000 images for 3 epochs; unset it for
# 20,000 images and 5 epochs.

# %%
import os

import numpy as np
from IPython.display import Image, display

from nnscratch import Tensor, data, nn, no_grad, optim, runs
from nnscratch.report import plots
from nnscratch.train import evaluate, fit

QUICK = os.environ.get("NNSCRATCH_QUICK") == "1"

# %% [markdown]
# ## A convolution by hand
# A 3x3 filter slides over a 5x5 image; at each position the output is the sum of the filter's
# weights times the pixels under it (a cross-correlation: what every deep-learning library calls
# "convolution"). With no padding and stride 1 the output is (5 − 3) + 1 = 3 pixels a side.
# The filter below responds to a vertical edge: bright on the left, dark on the right.

# %%
image = np.array([[9, 9, 0, 0, 0],
                  [9, 9, 0, 0, 0],
                  [9, 9, 0, 0, 0],
                  [9, 9, 9, 0, 0],
                  [9, 9, 9, 0, 0]], dtype=np.float32)
edge = np.array([[1, 0, -1],
                 [1, 0, -1],
                 [1, 0, -1]], dtype=np.float32)

by_hand = np.zeros((3, 3), np.float32)
for p in range(3):
    for q in range(3):
        by_hand[p, q] = (image[p:p + 3, q:q + 3] * edge).sum()
print(by_hand)

# %% [markdown]
# The same filter in `nn.Conv2d(1, 1, 3, bias=False)`: its weight has PyTorch's layout
# (out_channels, in_channels, kh, kw), and the input is (N, C, H, W).

# %%
conv = nn.Conv2d(1, 1, 3, bias=False)
conv.weight.data[...] = edge
with no_grad():
    by_layer = conv(Tensor(image[None, None])).numpy()[0, 0]
print(by_layer)
print(f"RESULT conv_by_hand_matches_conv2d={np.array_equal(by_hand, by_layer)}")
print(f"RESULT conv_by_hand_corner={by_hand[0, 0]:.0f}")

# %% [markdown]
# ## im2col: every receptive field a column, the convolution one matrix product
# Looping over positions is slow in Python. Instead, copy each receptive field (C·kh·kw numbers)
# into a column of `cols: (C·kh·kw, N·Ho·Wo)`; then every filter meets every window in one GEMM,
# `W.reshape(O, C·kh·kw) @ cols`. Below: 2 images of 3 channels, 4 filters of 3x3, padding 1.
# The backward of a GEMM is two GEMMs, and col2im adds the gradient of each column back onto the
# pixels it was copied from (a copy's gradient is a sum).

# %%
rng = np.random.default_rng(0)
x = rng.standard_normal((2, 3, 6, 6)).astype(np.float32)
layer = nn.Conv2d(3, 4, 3, padding=1, bias=False, rng=0)
N, C, H, W = x.shape
O, _, kh, kw = layer.weight.shape
padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
Ho, Wo = H + 2 - kh + 1, W + 2 - kw + 1
cols = np.empty((C * kh * kw, N * Ho * Wo), np.float32)
for n in range(N):
    for p in range(Ho):
        for q in range(Wo):
            cols[:, (n * Ho + p) * Wo + q] = padded[n, :, p:p + kh, q:q + kw].ravel()
gemm = layer.weight.data.reshape(O, -1) @ cols              # (O, N·Ho·Wo): one matrix product
out = gemm.reshape(O, N, Ho, Wo).transpose(1, 0, 2, 3)      # back to (N, O, Ho, Wo)
with no_grad():
    reference = layer(Tensor(x)).numpy()
print("cols:", cols.shape, " weights:", (O, C * kh * kw), " output:", out.shape)
print(f"RESULT im2col_gemm_matches_conv2d={bool(np.allclose(out, reference, atol=1e-5))}")

# %% [markdown]
# ## Pooling: keep the strongest response in each window
# `MaxPool2d(2)` halves each side, keeping each 2x2 window's largest value; `AvgPool2d(2)` keeps
# their mean. Backward is the lecture's max gate: the whole upstream gradient goes to the window's
# winner and none to the others; average pooling spreads it evenly, a quarter each.

# %%
maps = Tensor(np.array([[1, 3, 2, 0],
                        [4, 2, 1, 1],
                        [0, 1, 5, 6],
                        [2, 3, 7, 1]], dtype=np.float32)[None, None], requires_grad=True)
pooled = nn.MaxPool2d(2)(maps)
pooled.sum().backward()
print("max pool:\n", pooled.numpy()[0, 0])
print("its gradient (1 to each winner):\n", maps.grad[0, 0])
print("average pool:\n", nn.AvgPool2d(2)(maps).numpy()[0, 0])
print(f"RESULT max_pool={pooled.numpy().ravel().astype(int).tolist()}")
print(f"RESULT max_pool_gradient_reaches={int(maps.grad.sum())}_of_16_pixels")

# %% [markdown]
# ## A small CNN against an MLP with about as many weights
# `cnn:8,16` is what `nnscratch train --model cnn:8,16` builds: two blocks of 3x3 conv → batch
# norm → ReLU → 2x2 max pool (8, then 16 filters), then a linear classifier. An MLP with one hidden
# layer of 12 units has about as many weights. Both see the same standardised images and train
# with the same optimiser for the same epochs.

# %%
X_train, y_train = data.load("fashion-mnist", "train", download=False)
X_test, y_test = data.load("fashion-mnist", "test", download=False)
n_train, n_test, epochs = (2000, 1000, 3) if QUICK else (20000, 10000, 5)
scaler = runs.make_preprocess("standardize").fit(X_train[:n_train])
X = np.asarray(scaler.transform(X_train[:n_train]), np.float32)
Xt = np.asarray(scaler.transform(X_test[:n_test]), np.float32)
y, yt = y_train[:n_train], y_test[:n_test]

models = {spec: runs.build_model(runs.RunConfig(model=spec, seed=0), X.shape[1:], 10) for spec in ("cnn:8,16", "mlp:12")}
sizes = {spec: sum(p.data.size for p in model.parameters()) for spec, model in models.items()}
for spec, size in sizes.items():
    print(f"RESULT parameters_{spec.replace(':', '_').replace(',', '_')}={size}")

# %%
accuracy = {}
for spec, model in models.items():
    fit(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=0.005), train=(X, y), epochs=epochs,
        batch_size=64, rng=0, progress=False)
    accuracy[spec] = evaluate(model, Xt, yt).accuracy
    print(f"{spec:>9}: {sizes[spec]:,} weights, test accuracy {accuracy[spec]:.3f}")

# %% [markdown]
# With as many weights, the CNN does better: its weights are shared across positions (one 3x3
# filter reads the whole image), so it spends them on local patterns that can appear anywhere,
# where the MLP's first layer needs a separate weight for every pixel of every unit.
#
# ## What the first layer learned, and what it sees in one image
# Each first-layer filter is 3x3 (grey: low weights, white: high, each scaled to its own range).
# Then one test image passed through the first block (conv, batch norm, ReLU): one map per filter,
# bright where the filter's pattern is found.

# %%
cnn = models["cnn:8,16"].eval()
first = next(i for i, m in enumerate(cnn.layers) if isinstance(m, nn.Conv2d))
display(Image(plots.conv_filters(cnn.layers[first].weight.data)))

# %%
h = Tensor(Xt[:1])
with no_grad():
    for layer in cnn.layers:
        if isinstance(layer, nn.MaxPool2d):
            break
        h = layer(h)
display(Image(plots.feature_maps(X_test[0], h.numpy()[0])))
print("feature maps:", h.shape, "(one image, 8 filters, 28x28: padding 1 keeps the size)")

# %% [markdown]
# ## Exercises
# 1. Change `edge` to a horizontal edge filter. Which output pixels of the tiny image respond now?
# 2. Run the im2col cell with `stride=2` in `nn.Conv2d` (and the matching loop). How many columns are there?
# 3. Train `cnn:32,64` instead of `cnn:8,16` (full mode). How much does the accuracy gain per extra weight?
