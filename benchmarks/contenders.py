"""The benchmark's contenders: one MLP trained (and run forward) by nnscratch and by its peers.

Each `run_*` trains the MLP 784-512-256-10 (ReLU, softmax cross-entropy, SGD momentum 0.9,
float32) for `epochs` from the same initial weights on the same batches, and returns
(seconds spent training, test accuracy). Only the steps are timed: the per-epoch gather of the
shuffled data, imports and (for JAX) compilation are not. `run_inference` times a forward pass
at batch 10,000. The peers: PyTorch eager, scikit-learn's `MLPClassifier`, the NumPy reference
written by hand, the step's matrix products alone (the limit), and JAX, the whole step
(`value_and_grad` and the momentum update) compiled by `jax.jit` into one XLA program.
"""

from __future__ import annotations

import os
import time

import numpy as np

SIZES = (784, 512, 256, 10)
BATCH = 128
LR, MOMENTUM = 0.05, 0.9
CORES = os.cpu_count() or 1


# ----- data -----------------------------------------------------------------------------------------
def dataset(n_train):
    """(X, y, X_test, y_test, source): standardised float32 Fashion-MNIST, or random data of its shape."""
    try:
        from nnscratch import data

        X, y = data.load("fashion-mnist")
        X_test, y_test = data.load("fashion-mnist", "test")
        source = "Fashion-MNIST"
    except (FileNotFoundError, OSError, ValueError):
        rng = np.random.default_rng(0)
        X, y = rng.integers(0, 256, (60000, 28, 28), dtype=np.uint8), rng.integers(0, 10, 60000)
        X_test, y_test = rng.integers(0, 256, (10000, 28, 28), dtype=np.uint8), rng.integers(0, 10, 10000)
        source = "random data of Fashion-MNIST's shape (files not found)"
    mean, std = X.mean(), X.std()
    prep = lambda a: ((a.reshape(len(a), -1) - mean) / std).astype(np.float32)  # noqa: E731
    return prep(X[:n_train]), y[:n_train].astype(np.int64), prep(X_test), y_test.astype(np.int64), source


def init_weights(sizes, seed=0):
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal((a, b)).astype(np.float32) * np.float32(np.sqrt(2 / a)), np.zeros(b, np.float32))
            for a, b in zip(sizes[:-1], sizes[1:])]


def batches(n, batch, epoch):
    order = np.random.default_rng(epoch).permutation(n)
    return [order[i:i + batch] for i in range(0, n - batch + 1, batch)]


# ----- contenders: each trains for `epochs` and returns (seconds training, test accuracy) ---------------
def nnscratch_mlp(params):
    """The MLP through nnscratch's public API, starting from the given weights."""
    from nnscratch import nn

    layers = []
    for i, (w, b) in enumerate(params):
        linear = nn.Linear(w.shape[0], w.shape[1], rng=i)
        linear.weight.data[...], linear.bias.data[...] = w, b
        layers += [linear, nn.ReLU()]
    return nn.Sequential(*layers[:-1])


def torch_mlp(params):
    import torch

    layers = []
    for w, b in params:
        linear = torch.nn.Linear(w.shape[0], w.shape[1])
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(w.T.copy()))
            linear.bias.copy_(torch.from_numpy(b))
        layers += [linear, torch.nn.ReLU()]
    return torch.nn.Sequential(*layers[:-1])


def cross_entropy_grad_in_place(z, yb):
    """The mean softmax cross-entropy's gradient (softmax(z) - onehot(yb)) / N, written over the logits z."""
    z -= z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    z[np.arange(len(yb)), yb] -= 1
    z *= np.float32(1 / len(yb))
    return z


def numpy_step(params, velocity, xb, yb):
    """One SGD-momentum step of the lecture's network written by hand: fused, in place, float32."""
    acts, masks = [xb], []
    for w, b in params[:-1]:
        h = acts[-1] @ w
        h += b
        mask = h > 0
        h *= mask
        acts.append(h)
        masks.append(mask)
    z = acts[-1] @ params[-1][0]
    z += params[-1][1]
    grad = cross_entropy_grad_in_place(z, yb)
    for layer in range(len(params) - 1, -1, -1):
        w, b = params[layer]
        dw, db = acts[layer].T @ grad, grad.sum(axis=0)
        if layer:
            grad = grad @ w.T
            grad *= masks[layer - 1]
        vw, vb = velocity[layer]
        vw *= MOMENTUM
        vw += dw
        vb *= MOMENTUM
        vb += db
        w -= LR * vw
        b -= LR * vb


def run_nnscratch(X, y, Xt, yt, epochs, sizes, batch):
    from nnscratch import Tensor, no_grad, optim
    from nnscratch.nn import functional as F

    model = nnscratch_mlp(init_weights(sizes))
    optimizer = optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    seconds = 0.0
    for epoch in range(epochs):
        shuffled = batches(len(X), batch, epoch)
        Xs, ys = X[np.concatenate(shuffled)], y[np.concatenate(shuffled)]  # one gather an epoch
        started = time.perf_counter()
        for i in range(len(shuffled)):
            loss = F.cross_entropy(model(Tensor(Xs[i * batch:(i + 1) * batch])), ys[i * batch:(i + 1) * batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        seconds += time.perf_counter() - started
    with no_grad():
        accuracy = float(np.mean(model(Tensor(Xt)).data.argmax(axis=1) == yt))
    return seconds, accuracy


def run_numpy(X, y, Xt, yt, epochs, sizes, batch):
    """The lecture's network written as fast as NumPy allows: fused, in place, float32 throughout."""
    params = init_weights(sizes)
    velocity = [(np.zeros_like(w), np.zeros_like(b)) for w, b in params]
    seconds = 0.0
    for epoch in range(epochs):
        shuffled = batches(len(X), batch, epoch)
        Xs, ys = X[np.concatenate(shuffled)], y[np.concatenate(shuffled)]
        started = time.perf_counter()
        for i in range(len(shuffled)):
            numpy_step(params, velocity, Xs[i * batch:(i + 1) * batch], ys[i * batch:(i + 1) * batch])
        seconds += time.perf_counter() - started
    h = Xt
    for w, b in params[:-1]:
        h = np.maximum(h @ w + b, 0)
    accuracy = float(np.mean((h @ params[-1][0] + params[-1][1]).argmax(axis=1) == yt))
    return seconds, accuracy


def run_torch(X, y, Xt, yt, epochs, sizes, batch):
    import torch

    torch.set_num_threads(CORES)
    model = torch_mlp(init_weights(sizes))
    optimizer = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    loss_fn = torch.nn.CrossEntropyLoss()
    seconds = 0.0
    for epoch in range(epochs):
        shuffled = batches(len(X), batch, epoch)
        Xs = torch.from_numpy(X[np.concatenate(shuffled)])
        ys = torch.from_numpy(y[np.concatenate(shuffled)])
        started = time.perf_counter()
        for i in range(len(shuffled)):
            loss = loss_fn(model(Xs[i * batch:(i + 1) * batch]), ys[i * batch:(i + 1) * batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        seconds += time.perf_counter() - started
    with torch.no_grad():
        accuracy = float((model(torch.from_numpy(Xt)).argmax(dim=1).numpy() == yt).mean())
    return seconds, accuracy


def run_sklearn(X, y, Xt, yt, epochs, sizes, batch):
    import warnings

    from sklearn.neural_network import MLPClassifier

    clf = MLPClassifier(hidden_layer_sizes=sizes[1:-1], solver="sgd", learning_rate_init=LR, momentum=MOMENTUM,
                        nesterovs_momentum=False, batch_size=batch, max_iter=epochs, alpha=0.0, shuffle=True,
                        random_state=0, tol=0.0, n_iter_no_change=epochs + 1)
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(X, y)  # float32 in: scikit-learn keeps float32
    return time.perf_counter() - started, float(clf.score(Xt, yt))


def matmul_step(params, acts, xb):
    """Only a step's matrix products, same shapes: forward, then the backward ones a step needs
    (every weight gradient, and the input gradient of every layer but the first)."""
    h = xb
    for w, _ in params:
        h = h @ w
    for layer in range(len(params) - 1, -1, -1):
        _ = (xb if layer == 0 else acts[layer]).T @ acts[layer + 1]
        if layer:
            _ = acts[layer + 1] @ params[layer][0].T


def run_matmul(X, y, Xt, yt, epochs, sizes, batch):
    params = init_weights(sizes)
    acts = [np.random.default_rng(1).standard_normal((batch, n)).astype(np.float32) for n in sizes]
    steps = epochs * (len(X) // batch)
    started = time.perf_counter()
    for i in range(steps):
        matmul_step(params, acts, X[(i % (len(X) // batch)) * batch:][:batch])
    return time.perf_counter() - started, None


def nnscratch_forward(params, Xb):
    from nnscratch import Tensor, no_grad

    model = nnscratch_mlp(params).eval()

    def forward():
        with no_grad():
            return model(Tensor(Xb)).data
    return forward


def torch_forward(params, Xb):
    import torch

    torch.set_num_threads(CORES)
    model, xt = torch_mlp(params).eval(), torch.from_numpy(Xb)

    def forward():
        with torch.no_grad():
            return model(xt)
    return forward


def jax_forward(params, Xb):
    import jax

    logits = jax.jit(jax_logits)
    params, xj = jax.device_put(params), jax.device_put(Xb)
    return lambda: jax.block_until_ready(logits(params, xj))


def run_inference(contender, X_test, sizes, repeats):
    """Samples per second of a forward pass at batch 10,000 (nnscratch, torch or jax), after one
    untimed call (which for JAX compiles)."""
    Xb = np.ascontiguousarray(np.resize(X_test, (10_000, X_test.shape[1])))
    forward = INFERENCE[contender](init_weights(sizes), Xb)
    forward()
    started = time.perf_counter()
    for _ in range(repeats):
        forward()
    return repeats * len(Xb) / (time.perf_counter() - started)


# ----- JAX: the whole step in one jit ------------------------------------------------------------------
def jax_logits(params, x):
    """The MLP's forward pass in jax.numpy: x (N, 784) float32 -> logits (N, 10)."""
    import jax

    for w, b in params[:-1]:
        x = jax.nn.relu(x @ w + b)
    w, b = params[-1]
    return x @ w + b


def jax_loss(params, x, y):
    """Mean softmax cross-entropy of the MLP on x (N, 784), int labels y (N,)."""
    import jax
    import jax.numpy as jnp

    log_p = jax.nn.log_softmax(jax_logits(params, x))
    return -jnp.mean(jnp.take_along_axis(log_p, y[:, None], axis=1))


def jax_train_step(batch):
    """The jitted step (params, velocity, X_epoch, y_epoch, i) -> (params, velocity, loss) on batch i.

    The batch is sliced inside the compiled program (no per-step host copy), and the parameter
    and velocity buffers are donated, so the update is in place: JAX at its best on a CPU."""
    import jax

    def step(params, velocity, X, Y, i):
        x = jax.lax.dynamic_slice_in_dim(X, i * batch, batch)
        y = jax.lax.dynamic_slice_in_dim(Y, i * batch, batch)
        loss, grads = jax.value_and_grad(jax_loss)(params, x, y)
        velocity = jax.tree.map(lambda v, g: MOMENTUM * v + g, velocity, grads)  # PyTorch's SGD momentum
        params = jax.tree.map(lambda p, v: p - LR * v, params, velocity)
        return params, velocity, loss

    return jax.jit(step, donate_argnums=(0, 1))


def run_jax(X, y, Xt, yt, epochs, sizes, batch):
    import jax
    import jax.numpy as jnp

    params = [(jnp.asarray(w), jnp.asarray(b)) for w, b in init_weights(sizes)]
    velocity = jax.tree.map(jnp.zeros_like, params)
    step = jax_train_step(batch)
    seconds = 0.0
    for epoch in range(epochs):
        shuffled = batches(len(X), batch, epoch)
        order = np.concatenate(shuffled)
        Xs, ys = jax.device_put(X[order]), jax.device_put(y[order].astype(np.int32))
        if epoch == 0:  # compile on throw-away copies: compilation is not training throughput
            jax.block_until_ready(step(jax.tree.map(jnp.copy, params), jax.tree.map(jnp.copy, velocity), Xs, ys, 0))
        started = time.perf_counter()
        for i in range(len(shuffled)):
            params, velocity, _ = step(params, velocity, Xs, ys, i)
        jax.block_until_ready(params)
        seconds += time.perf_counter() - started
    accuracy = float(np.mean(np.asarray(jax.jit(jax_logits)(params, Xt)).argmax(axis=1) == yt))
    return seconds, accuracy


TRAINING = {"nnscratch": run_nnscratch, "numpy": run_numpy, "torch": run_torch, "sklearn": run_sklearn,
            "matmul": run_matmul, "jax": run_jax}
INFERENCE = {"nnscratch": nnscratch_forward, "torch": torch_forward, "jax": jax_forward}
