"""Loss functions, each reducing by reduction="mean" (default), "sum" or "none".

Cross-entropy, binary cross-entropy and the multiclass hinge are fused operations with a
closed-form backward; MSE, L1 and the Gaussian negative log-likelihood are short
compositions of the engine's ops, readable as their formulas.
Targets that are not Tensors are data: they are cast to the prediction's dtype, so a
float32 model never computes its loss in float64.
"""

from __future__ import annotations

import math

import numpy as np

from .. import ops
from ..function import Function
from ..tensor import Tensor
from .activations import sigmoid_array, softmax_parts

REDUCTIONS = ("mean", "sum", "none")


def mse_loss(input, target, reduction="mean"):
    """Mean squared error: mean((input - target)²)."""
    target = _matching_target("mse_loss", input, target)
    diff = input - target
    return _reduce(diff * diff, reduction)


def l1_loss(input, target, reduction="mean"):
    """Mean absolute error: mean(|input - target|); robust to outliers."""
    target = _matching_target("l1_loss", input, target)
    return _reduce((input - target).abs(), reduction)


def gaussian_nll_loss(input, target, var=1.0, *, full=False, eps=1e-6, reduction="mean"):
    """Negative log-likelihood of `target` under N(input, var):

        0.5 * (log var + (input - target)² / var)  [+ 0.5 log 2π when full=True]

    With var = 1 this is MSE/2 (plus the constant 0.5 log 2π when full): least squares is
    maximum likelihood under Gaussian noise. `var` may be a number, an array or a predicted
    Tensor broadcastable to the input; values below `eps` are clamped to `eps`.
    """
    target = _matching_target("gaussian_nll_loss", input, target)
    var = var if isinstance(var, Tensor) else Tensor(np.asarray(var, dtype=input.dtype))
    if np.broadcast_shapes(var.shape, input.shape) != input.shape:
        raise ValueError(
            f"gaussian_nll_loss: var of shape {var.shape} does not broadcast to the input's shape "
            f"{input.shape}; give one variance per prediction, per row ({input.shape[0]}, 1) or one number"
        )
    if np.any(var.data < 0):
        raise ValueError("gaussian_nll_loss: var has negative entries; a variance must be >= 0 "
                         "(predict log-variance and exponentiate, or use softplus)")
    var = ops.maximum(var, eps)
    diff = input - target
    loss = 0.5 * (var.log() + diff * diff / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


class CrossEntropyFunction(Function):
    """Mean of -log softmax(logits)[target] over the batch, softmax and log fused.

    Backward is the closed form (softmax(logits) - onehot(target)) / N: the stable
    log-sum-exp forward and this gradient never divide by a probability. With label
    smoothing ε the one-hot row becomes q = (1 − ε)·onehot + ε/C, so the loss is
    (1 − ε)·(−log p[target]) + ε·mean over classes of (−log p) and the gradient (p − q) / N.
    """

    name = "cross_entropy"
    rule = ("softmax and cross-entropy fused: the gradient of the logits is (p - q) / N, q the one-hot "
            "target, or (1 - ε)·onehot + ε/C with label smoothing ε")

    def forward(self, logits, targets, *, reduction, label_smoothing):
        shifted, p, log_total = softmax_parts(logits, axis=1)
        rows = np.arange(len(logits))
        if targets.dtype.kind != "f":  # class indices
            eps = logits.dtype.type(label_smoothing)
            # -log p[c] = log sum exp - shifted[c]; smoothing mixes in the mean over all classes
            losses = log_total[:, 0] - (1 - eps) * shifted[rows, targets]
            if label_smoothing:
                losses -= eps * shifted.mean(axis=1)
            self.save(p, targets)
        else:  # probability rows (already smoothed by cross_entropy)
            logp = shifted - log_total
            losses = -(targets * logp).sum(axis=1)
            self.save(p, targets, logp)
        return _reduce_array(losses, reduction)

    def backward(self, grad):
        p, targets = self.saved[:2]
        scale = _upstream_per_row(grad, self.constants["reduction"], len(p))
        d_logits = d_targets = None
        if self.needs_grad[0]:
            if targets.dtype.kind != "f":
                eps = p.dtype.type(self.constants["label_smoothing"])
                d_logits = p - eps / p.shape[1] if eps else p.copy()
                d_logits[np.arange(len(p)), targets] -= 1 - eps
            else:
                d_logits = p * targets.sum(axis=1, keepdims=True) - targets
            d_logits *= scale
        if self.needs_grad[1]:
            d_targets = -self.saved[2] * scale
        return d_logits, d_targets


def cross_entropy(logits, targets, reduction="mean", *, label_smoothing=0.0):
    """Softmax cross-entropy from raw scores `logits: (N, C)`.

    `targets` are class indices `(N,)` (integers in 0..C-1) or probability rows `(N, C)`.
    Returns a scalar Tensor ("mean" over the N rows, "sum") or the per-row losses `(N,)` ("none"),
    in the logits' dtype; an empty batch's mean is nan, as PyTorch's.
    `label_smoothing` ε in [0, 1] trains towards (1 − ε)·target + ε/C instead of the target itself
    (Szegedy et al., 2016, "Rethinking the Inception Architecture", section 7; the same loss as
    PyTorch's `cross_entropy(..., label_smoothing=ε)`). Raises ValueError for ε outside [0, 1] or
    not a number, for targets of the wrong shape or dtype, and for a class index outside 0..C-1.
    """
    logits, targets = _classification_inputs("cross_entropy", logits, targets, allow_probabilities=True)
    label_smoothing = checked_label_smoothing(label_smoothing)
    if label_smoothing and targets.dtype.kind == "f":
        targets = targets * (1 - label_smoothing) + label_smoothing / logits.shape[1]
    return CrossEntropyFunction.apply(logits, targets, reduction=_checked(reduction),
                                      label_smoothing=label_smoothing)


def checked_label_smoothing(label_smoothing):
    """`label_smoothing` (a Python or NumPy number) as a float in [0, 1]; raises ValueError naming
    the value otherwise, text and booleans included ("0.1" is not converted; True would mean ε = 1,
    a uniform target)."""
    number = np.asarray(label_smoothing)
    value = float(number) if number.ndim == 0 and number.dtype.kind in "iuf" else math.nan
    if not 0.0 <= value <= 1.0:  # NaN fails both comparisons
        raise ValueError(f"label_smoothing={label_smoothing!r} must be a number in [0, 1] "
                         f"(0 is plain cross-entropy; 0.1 is the usual choice)")
    return value


class BinaryCrossEntropyWithLogitsFunction(Function):
    """-[t log s(x) + (1 - t) log(1 - s(x))] written as max(x, 0) - x t + log(1 + exp(-|x|)),
    which never overflows; backward is the closed form (s(x) - t)."""

    name = "binary_cross_entropy"
    rule = "sigmoid and binary cross-entropy fused: the gradient of the logits is (s(x) - t) / N"

    def forward(self, x, t, *, reduction):
        self.save(x, t)
        losses = np.maximum(x, 0) - x * t + np.log1p(np.exp(-np.abs(x)))
        return _reduce_array(losses, reduction)

    def backward(self, grad):
        x, t = self.saved
        reduction = self.constants["reduction"]
        scale = grad if reduction == "none" else grad / (x.size if reduction == "mean" else 1)
        dx = (sigmoid_array(x) - t) * scale if self.needs_grad[0] else None
        dt = -x * scale if self.needs_grad[1] else None
        return dx, dt


def binary_cross_entropy_with_logits(logits, targets, reduction="mean"):
    """Binary cross-entropy of targets in [0, 1] against sigmoid(logits), fused and stable."""
    targets = _matching_target("binary_cross_entropy_with_logits", logits, targets)
    return BinaryCrossEntropyWithLogitsFunction.apply(logits, targets, reduction=_checked(reduction))


class MulticlassHingeFunction(Function):
    """The multiclass SVM loss sum_{j != y} max(0, s_j - s_y + margin).

    Each violated margin routes +1 to its class's score and -1 to the correct class's.
    """

    name = "hinge"
    rule = "each violated margin routes +g to its class's score and -g to the correct class's"

    def forward(self, scores, targets, *, margin, reduction):
        rows = np.arange(len(scores))
        margins = scores - scores[rows, targets][:, np.newaxis] + scores.dtype.type(margin)
        np.maximum(margins, 0, out=margins)
        margins[rows, targets] = 0
        self.save((margins > 0).astype(scores.dtype), targets)
        return _reduce_array(margins.sum(axis=1), reduction)

    def backward(self, grad):
        violated, targets = self.saved
        d = violated.copy()
        d[np.arange(len(d)), targets] = -d.sum(axis=1)
        d *= _upstream_per_row(grad, self.constants["reduction"], len(d))
        return d, None


def hinge_loss(scores, targets, margin=1.0, reduction="mean"):
    """Multiclass SVM (Weston-Watkins) hinge loss on `scores: (N, C)` and class indices `(N,)`."""
    scores, targets = _classification_inputs("hinge_loss", scores, targets, allow_probabilities=False)
    return MulticlassHingeFunction.apply(scores, targets, margin=margin, reduction=_checked(reduction))


# ----- shared checks and reductions ---------------------------------------------------------
def _checked(reduction):
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction={reduction!r} is not one of {', '.join(map(repr, REDUCTIONS))}")
    return reduction


def _reduce(losses, reduction):
    reduction = _checked(reduction)
    if reduction == "mean":
        return losses.mean()
    return losses.sum() if reduction == "sum" else losses


def _reduce_array(losses, reduction):
    if reduction == "mean":
        return np.asarray(losses.sum() / losses.dtype.type(losses.size))
    return np.asarray(losses.sum()) if reduction == "sum" else losses


def _upstream_per_row(grad, reduction, n):
    """The upstream gradient each row's loss receives, shaped to scale that row."""
    if reduction == "none":
        return grad[:, np.newaxis]
    return grad / n if reduction == "mean" else grad


def _as_tensor(x):
    return x if isinstance(x, Tensor) else Tensor(x)


def _matching_target(name, input, target):
    input = _as_tensor(input)
    if not isinstance(target, Tensor):
        target = Tensor(np.asarray(target, dtype=input.dtype))
    if target.shape != input.shape:
        raise ValueError(
            f"{name}: input of shape {input.shape} and target of shape {target.shape} differ; "
            f"give one target per prediction (for example target.reshape({input.shape}))"
        )
    return target


def _classification_inputs(name, logits, targets, *, allow_probabilities):
    logits = _as_tensor(logits)
    if logits.ndim != 2:
        raise ValueError(f"{name}: scores must have shape (N, classes), got {logits.shape}; "
                         f"for one sample use scores.reshape(1, -1)")
    n, classes = logits.shape
    target_data = targets.data if isinstance(targets, Tensor) else np.asarray(targets)
    if target_data.dtype.kind == "f":
        if not allow_probabilities or target_data.shape != logits.shape:
            raise ValueError(
                f"{name}: float targets of shape {target_data.shape} for scores of shape {logits.shape}; "
                f"give class indices as integers of shape ({n},) (targets.astype(int))"
                + (f" or probability rows of shape {logits.shape}" if allow_probabilities else "")
            )
        if isinstance(targets, Tensor):  # astype keeps a target that needs a gradient in the graph
            return logits, targets if targets.dtype == logits.dtype else targets.astype(logits.dtype)
        return logits, Tensor(target_data.astype(logits.dtype))
    if target_data.dtype.kind not in "iu":
        raise ValueError(f"{name}: targets must be integer class indices, got dtype {target_data.dtype}")
    if target_data.shape != (n,):
        raise ValueError(
            f"{name}: {n} rows of scores (shape {logits.shape}) but targets of shape {target_data.shape}; "
            f"give one class index per row, shape ({n},)"
        )
    if n and (target_data.min() < 0 or target_data.max() >= classes):
        bad = target_data[(target_data < 0) | (target_data >= classes)][0]
        raise ValueError(
            f"{name}: class index {bad} is out of range for {classes} classes (scores of shape "
            f"{logits.shape}); targets must lie in 0..{classes - 1}"
        )
    return logits, Tensor(target_data)
