"""The model stepping in Python: one `Session` holds a playground run (data, network, optimiser)
and turns its state into the frames the page draws.

The network is built from the public API (nn.Sequential of nn.Linear + activation blocks, or
nn.Maxout, nn.Dropout), trained by optim.SGD / Adam with an optim.schedule; what the page shows
(per-neuron maps, activation histograms, the 2-unit space view) is computed here from the
hidden layers' outputs.
"""

from __future__ import annotations

import base64
import time

import numpy as np

from .. import nn, optim
from ..data import preprocess as prep
from ..rng import as_generator
from ..tensor import Tensor, no_grad
from . import datasets
from .settings import Settings

GRID = 40  # output heatmap resolution (GRID x GRID cells)
NEURON_STRIDE = 2  # neuron maps use every 2nd grid point: 20 x 20
HISTOGRAM_BINS = 24
SPACE_LINES = 11  # grid lines per direction in the space view
SPACE_POINTS = 300  # at most this many data points mapped into the space view
LOSS_POINTS = 300  # the loss curves are thinned to at most this many points per frame

ACTIVATION_MODULES = {
    "step": nn.Step, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU,
    "leaky-relu": lambda: nn.LeakyReLU(0.01), "elu": nn.ELU, "identity": nn.Identity,
}
PREPROCESSORS = {"none": None, "center": prep.ZeroCenter, "standardize": prep.Standardize,
                 "whiten": prep.Whiten}


def int8_base64(values):
    """Values in [-1, 1] (clipped) as base64 of int8 (x·127): compact for the per-cell maps."""
    q = np.round(np.clip(np.nan_to_num(values), -1, 1) * 127).astype(np.int8)
    return base64.b64encode(q.tobytes()).decode("ascii")


def build_network(settings, n_inputs, n_outputs, rng):
    """(hidden blocks, output layer): block i is Linear + activation (or Maxout), then Dropout if asked.

    Returns (list of nn.Sequential, nn.Linear); nn.Sequential(*blocks, output) is the model.
    """
    blocks, width = [], n_inputs
    for units, act in zip(settings.layers, settings.layer_activations()):
        if act == "maxout":
            parts = [nn.Maxout(width, units, pieces=2, init=settings.init, rng=rng)]
        else:
            parts = [nn.Linear(width, units, init=settings.init, rng=rng), ACTIVATION_MODULES[act]()]
        if settings.dropout > 0:
            parts.append(nn.Dropout(settings.dropout, rng=rng))
        blocks.append(nn.Sequential(*parts))
        width = units
    return blocks, nn.Linear(width, n_outputs, init=settings.init, rng=rng)


def build_optimizer(settings, parameters):
    """SGD, SGD with momentum 0.9, or Adam, driven by the chosen schedule (bound to it)."""
    if settings.optimizer == "adam":
        optimizer = optim.Adam(parameters, lr=settings.lr)
    else:
        optimizer = optim.SGD(parameters, lr=settings.lr, momentum=0.9 if settings.optimizer == "momentum" else 0.0)
    schedule = optim.schedule.get(settings.schedule, settings.steps).bind(optimizer)
    return optimizer, schedule


def link_weights(layer):
    """A layer's weights as (in, out) for drawing links. Maxout has `pieces` maps per link: the
    one of largest magnitude is shown, with its sign."""
    w = layer.weight.data
    if w.ndim == 3:
        w = np.take_along_axis(w, np.abs(w).argmax(axis=0)[None], axis=0)[0]
    return w


def link_grads(layer):
    """A layer's weight gradient as (in, out) for drawing links; zeros before any backward.
    Maxout's pieces are summed: each input-output pair's gradient went to whichever piece won."""
    g = layer.weight.grad
    if g is None:
        return np.zeros(link_weights(layer).shape)
    if g.ndim == 3:  # only the winning piece of each unit gets a gradient for a given input; sum them
        g = g.sum(axis=0)
    return g


class Session:
    """One playground run. `train_for(seconds)` trains; `frame()` is what the page draws now.

    upload: (X, y, labels) from datasets.parse_csv when settings.dataset == "csv".
    """

    def __init__(self, settings: Settings, upload=None):
        self.settings = settings
        rng = as_generator(settings.seed)
        self.points, self.targets, self.labels = self._data(settings, upload, rng)
        self.regression = settings.dataset in datasets.REGRESSION
        self.n_classes = 1 if self.regression else int(self.targets.max()) + 1
        (self.train_xy, self.test_xy) = datasets.split(self.points, self.targets, settings.ratio / 100)
        self.domain = self._domain(self.points)
        self.preprocessor = PREPROCESSORS[settings.preprocess]
        raw_train = datasets.features(self.train_xy[0], settings.features)
        if self.preprocessor is not None and len(raw_train) < 2:
            raise ValueError(f"the training part has only {len(raw_train)} row; preprocess={settings.preprocess} needs at "
                             f"least 2: raise the train % or upload more rows")
        if self.preprocessor is not None:
            self.preprocessor = self.preprocessor().fit(raw_train)
        self.X_train, self.X_test = self.inputs(self.train_xy[0]), self.inputs(self.test_xy[0])
        self.y_train, self.y_test = self.train_xy[1], self.test_xy[1]
        self.blocks, self.output = build_network(settings, len(settings.features), self.n_classes, rng)
        self.model = nn.Sequential(*self.blocks, self.output)
        self.loss_fn = nn.MSELoss() if self.regression else nn.CrossEntropyLoss()
        self.optimizer, self.schedule = build_optimizer(settings, self.model.parameters())
        self.weights = [p for name, p in self.model.named_parameters() if name.endswith("weight")]
        self.rng = rng
        self.step_count, self.order, self.cursor = 0, rng.permutation(len(self.X_train)), 0
        self.history = {"step": [], "train": [], "test": []}
        self.grads = None  # the gradients of the last "step once", drawn on the links
        self._record_losses()

    # ----- data ---------------------------------------------------------------------------------
    @staticmethod
    def _data(settings, upload, rng):
        if settings.dataset == "csv":
            if upload is None:
                raise ValueError("dataset=csv needs an uploaded CSV: choose a file first")
            return upload
        X, y = datasets.generate(settings.dataset, settings.classes, settings.noise / 100, rng=rng)
        return X, y, None

    @staticmethod
    def _domain(points):
        lo, hi = float(points.min()), float(points.max())
        if -datasets.DOMAIN <= lo and hi <= datasets.DOMAIN:
            return [-datasets.DOMAIN, datasets.DOMAIN]
        pad = 0.05 * (hi - lo) or 1.0
        return [lo - pad, hi + pad]

    def inputs(self, points):
        """The network's input rows for 2-D points: features, then the fitted preprocessing."""
        X = datasets.features(points, self.settings.features)
        return self.preprocessor.transform(X) if self.preprocessor is not None else X

    # ----- training -----------------------------------------------------------------------------
    def _batch(self):
        size = min(self.settings.batch, len(self.X_train))
        if self.cursor + size > len(self.order):
            self.order, self.cursor = self.rng.permutation(len(self.X_train)), 0
        idx = self.order[self.cursor:self.cursor + size]
        self.cursor += size
        return self.X_train[idx], self.y_train[idx]

    def _target(self, y):
        return Tensor(y[:, None]) if self.regression else y

    def penalty(self):
        """The L1 (rate·Σ|w|) or L2 (rate·½Σw²) penalty on the weights (not the biases), as a Tensor."""
        s = self.settings
        if s.reg == "none" or s.rate == 0:
            return None
        terms = [(w.abs() if s.reg == "l1" else w * w * 0.5).sum() for w in self.weights]
        total = terms[0]
        for term in terms[1:]:
            total = total + term
        return total * s.rate

    def step(self):
        """One optimiser step on the next mini-batch; returns the batch's data loss (float)."""
        X, y = self._batch()
        self.model.train()
        loss = self.loss_fn(self.model(Tensor(X)), self._target(y))
        penalty = self.penalty()
        total = loss + penalty if penalty is not None else loss
        self.optimizer.zero_grad()
        total.backward()
        self.optimizer.step()
        self.schedule.step()
        self.step_count += 1
        value = float(loss.item())
        if not np.isfinite(value):
            raise FloatingPointError(f"the loss became {value} at step {self.step_count} (lr={self.settings.lr}); "
                                     f"lower the learning rate or standardise the inputs, then reset")
        return value

    def step_once(self):
        """One step, keeping its weight gradients for the links (the lecture's 'step once')."""
        self.step()
        self.grads = [link_grads(layer).tolist() for layer in self._linear_layers()]
        self._record_losses()

    def train_for(self, seconds):
        """Train until `seconds` have passed (at least one step); record the losses; drop 'step once' grads."""
        self.grads = None
        end = time.perf_counter() + seconds
        self.step()
        while time.perf_counter() < end:
            self.step()
        self._record_losses()

    def loss(self, X, y):
        """The data loss (no penalty) on inputs X: (N, D), in eval mode; NaN for no rows."""
        if len(X) == 0:
            return float("nan")
        with no_grad():
            self.model.eval()
            return float(self.loss_fn(self.model(Tensor(X)), self._target(y)).item())

    def _record_losses(self):
        with no_grad():  # one forward pass over train and test rows together, then a loss for each
            self.model.eval()
            out = self.model(Tensor(np.concatenate([self.X_train, self.X_test])))
            n = len(self.X_train)
            for part, rows, y in (("train", slice(0, n), self.y_train), ("test", slice(n, None), self.y_test)):
                value = float(self.loss_fn(out[rows], self._target(y)).item())
                self.history[part].append(value if np.isfinite(value) else None)  # JSON has no NaN
        self.history["step"].append(self.step_count)

    @property
    def epoch(self):
        """Passes over the training set so far (fractional)."""
        return self.step_count * min(self.settings.batch, len(self.X_train)) / len(self.X_train)

    # ----- what the page draws ------------------------------------------------------------------
    def _linear_layers(self):
        return [block.layers[0] for block in self.blocks] + [self.output]

    def hidden_outputs(self, points):
        """Each hidden layer's outputs for 2-D points, in eval mode: list of (N, units) arrays,
        then the network's output (N, n_outputs)."""
        outs = []
        with no_grad():
            self.model.eval()
            h = Tensor(self.inputs(points))
            for block in self.blocks:
                h = block(h)
                outs.append(h.numpy())
            outs.append(self.output(h).numpy())
        return outs

    def grid(self, n=GRID):
        """n·n points covering the domain, row by row from the top (x2 = max) down."""
        lo, hi = self.domain
        xs = np.linspace(lo, hi, n)
        x1, x2 = np.meshgrid(xs, xs[::-1])
        return np.c_[x1.ravel(), x2.ravel()].astype(np.float32)

    def output_map(self, out):
        """The heatmap behind the points: binary and regression as one value in [-1, 1]
        (2·p(class 1) − 1, or the prediction); K classes as the winning class and its probability."""
        if self.regression:
            return {"kind": "value", "value": int8_base64(out[:, 0])}
        z = out - out.max(axis=1, keepdims=True)
        p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        if self.n_classes == 2:
            return {"kind": "value", "value": int8_base64(2 * p[:, 1] - 1)}
        return {"kind": "classes", "winner": base64.b64encode(p.argmax(1).astype(np.uint8).tobytes()).decode(),
                "confidence": int8_base64(p.max(1))}

    def neuron_maps(self, hidden):
        """Per hidden unit, its output over the (strided) grid, base64 int8 of clip(a, -1, 1)."""
        n = GRID
        keep = (np.arange(n)[:, None] % NEURON_STRIDE == 0) & (np.arange(n)[None, :] % NEURON_STRIDE == 0)
        idx = np.flatnonzero(keep.ravel())
        return [[int8_base64(a[idx, j]) for j in range(a.shape[1])] for a in hidden]

    def input_maps(self, points):
        """Each input feature (after preprocessing) over the strided grid, scaled by its max |value|
        to [-1, 1], base64 int8: the maps in the inputs column."""
        X = self.inputs(points)
        scale = np.maximum(np.abs(X).max(axis=0), 1e-12)
        n = GRID
        keep = (np.arange(n)[:, None] % NEURON_STRIDE == 0) & (np.arange(n)[None, :] % NEURON_STRIDE == 0)
        idx = np.flatnonzero(keep.ravel())
        return [int8_base64(X[idx, j] / scale[j]) for j in range(X.shape[1])]

    @staticmethod
    def histogram(values):
        """Counts of a layer's activations over the training points in HISTOGRAM_BINS bins on
        [-m, m], m = max(1, max |a|): tanh's [-1, 1] stays fixed, so collapse and saturation show."""
        m = max(1.0, float(np.abs(values).max())) if values.size else 1.0
        counts, _ = np.histogram(values, bins=HISTOGRAM_BINS, range=(-m, m))
        return {"lo": -m, "hi": m, "counts": counts.tolist()}

    def space_layer(self):
        """The first hidden layer with 2 units (its index), or None."""
        return next((i for i, units in enumerate(self.settings.layers) if units == 2), None)

    def space_inputs(self):
        """The points the space view maps: SPACE_LINES lines each way across the input square
        (25 points each), then up to SPACE_POINTS training points. Returns (lines, points)."""
        lo, hi = self.domain
        t = np.linspace(lo, hi, 25)
        lines = [np.c_[np.full_like(t, c), t] for c in np.linspace(lo, hi, SPACE_LINES)]
        lines += [np.c_[t, np.full_like(t, c)] for c in np.linspace(lo, hi, SPACE_LINES)]
        return np.stack(lines).astype(np.float32), self.train_xy[0][:SPACE_POINTS]

    def space_view(self, mapped_lines, mapped_points):
        """For the first hidden layer of 2 units: the training points and a grid of lines of the
        input square, mapped into that layer's 2-D space (Olah's space warping)."""
        return {"layer": self.space_layer(), "lines": np.round(mapped_lines, 3).tolist(),
                "points": np.round(mapped_points, 3).tolist(), "labels": self._labels(self.train_xy[1][:SPACE_POINTS])}

    def _labels(self, y):
        return np.round(y, 3).tolist() if self.regression else y.tolist()

    def data(self):
        """The message the page gets once per run: the points, the domain, the network's shape."""
        return {"type": "data", "domain": self.domain, "regression": self.regression,
                "classes": self.n_classes, "class_names": self.labels,
                "train": {"x": np.round(self.train_xy[0], 3).tolist(), "y": self._labels(self.train_xy[1])},
                "test": {"x": np.round(self.test_xy[0], 3).tolist(), "y": self._labels(self.test_xy[1])},
                "features": self.settings.features, "layers": self.settings.layers,
                "activations": self.settings.layer_activations(), "outputs": self.n_classes}

    def _check_finite(self, outputs):
        """Raise FloatingPointError (naming the step and the fix) when a weight or a layer's output on
        the drawn points is inf or NaN: a run can diverge in its last step, or overflow on grid points
        outside the training data, while the batch losses were still finite."""
        if all(np.isfinite(p.data).all() for p in self.model.parameters()) and all(np.isfinite(o).all() for o in outputs):
            return
        if self.step_count == 0:  # nothing trained yet: the start is the fault, not the learning rate
            raise FloatingPointError(f"the network's outputs overflow before training (init={self.settings.init}); "
                                     f"choose a smaller init, fewer layers or standardise the inputs")
        raise FloatingPointError(f"the network's weights or outputs overflowed at step {self.step_count} "
                                 f"(lr={self.settings.lr}); lower the learning rate or standardise the inputs, "
                                 f"then reset")

    def frame(self):
        """The state the page draws now (see the module docstring of playground.server).
        One forward pass covers the grid, the training points and the space view's points."""
        grid, train = self.grid(), self.train_xy[0]
        parts = [grid, train]
        layer = self.space_layer()
        if layer is not None:
            lines, points = self.space_inputs()
            parts += [lines.reshape(-1, 2), points]
        sizes = np.cumsum([len(p) for p in parts])[:-1]
        hidden = self.hidden_outputs(np.concatenate(parts))
        self._check_finite(hidden)
        outs = [np.split(out, sizes) for out in hidden]
        step = max(1, len(self.history["step"]) // LOSS_POINTS)
        return {
            "type": "frame", "step": self.step_count, "epoch": self.epoch, "lr": self.optimizer.lr,
            "train_loss": self.history["train"][-1], "test_loss": self.history["test"][-1],
            "history": {k: v[::step][-LOSS_POINTS:] for k, v in self.history.items()},
            "output": self.output_map(outs[-1][0]), "inputs": self.input_maps(grid),
            "neurons": self.neuron_maps([out[0] for out in outs[:-1]]),
            "weights": [np.round(link_weights(layer), 4).tolist() for layer in self._linear_layers()],
            "grads": self.grads,
            "histograms": [self.histogram(out[1]) for out in outs[:-1]],
            "space": None if layer is None else self.space_view(outs[layer][2].reshape(lines.shape), outs[layer][3]),
        }
