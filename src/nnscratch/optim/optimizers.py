"""Optimisers: each a published update rule, applied in place in the parameters' own dtype.

    optimizer = SGD(model.parameters(), lr=0.05, momentum=0.9)
    loss.backward(); optimizer.step(); optimizer.zero_grad()

`lr` is a plain attribute: a learning-rate schedule sets it before every step. State is kept per
parameter, as in PyTorch, including each parameter's own step count (Adam's bias correction uses
it), and a parameter with no gradient at a step is left alone: no momentum, decay or count moves.
The sums run as BLAS calls (`nnscratch.blas`): one pass each, on BLAS's threads. Gradients are
read, never written, so `.grad` arrays may be shared safely.
"""

from __future__ import annotations

import math

import numpy as np

from .. import blas


class Optimizer:
    """Base class: holds the parameters, the learning rate and one state dict per parameter.

    params: an iterable of Parameters (or a Module); lr: > 0. `state[i]` holds parameter i's buffers
    (arrays of its shape and dtype) and its step count `state[i]["step"]` (how many updates it got).
    Raises ValueError for no parameters or a bad setting, naming it.
    """

    hyperparameters = ()  # names of the settings saved by state_dict, besides lr

    def __init__(self, params, lr):
        self.params = list(params.parameters() if hasattr(params, "parameters") else params)
        if not self.params:
            raise ValueError(f"{type(self).__name__} got no parameters to optimise")
        _check_positive("lr", lr)
        self.lr = float(lr)
        self.state = [{} for _ in self.params]
        self.step_count = 0  # step() calls; each parameter counts its own updates in state[i]["step"]

    def zero_grad(self, set_to_none=True):
        """Forget every parameter's gradient (`.grad = None`, or zeros with set_to_none=False)."""
        for p in self.params:
            if set_to_none or p.grad is None:
                p.grad = None
            else:
                p.grad[...] = 0

    def step(self):
        """Update every parameter that has a gradient by the optimiser's rule; skip the others."""
        self.step_count += 1
        for p, state in zip(self.params, self.state):
            g = p.grad
            if g is None:
                continue
            state["step"] = state.get("step", 0) + 1
            self.update(p.data, np.asarray(g).astype(p.data.dtype, copy=False), state)
            p._version += 1  # the weights changed in place: a graph that saved them is stale

    def update(self, w, g, state):
        """Change `w` in place from its gradient `g` (same shape and dtype) and its `state`."""
        raise NotImplementedError

    def _buffer(self, state, name, like):
        if name not in state:
            state[name] = np.zeros_like(like)
        return state[name]

    # ----- state ----------------------------------------------------------------------------------
    def state_dict(self):
        """{"type", "lr", "hyperparameters", "step_count", "steps": [int per parameter],
        "state": [{buffer name: array copy} per parameter]}; JSON-able except the arrays."""
        return {
            "type": type(self).__name__,
            "lr": self.lr,
            "hyperparameters": {name: getattr(self, name) for name in self.hyperparameters},
            "step_count": self.step_count,
            "steps": [int(s.get("step", 0)) for s in self.state],
            "state": [{k: v.copy() for k, v in s.items() if k != "step"} for s in self.state],
        }

    def load_state_dict(self, state_dict):
        """Restore what `state_dict()` returned. A state saved before per-parameter step counts
        (one global "step_count") gives that count to every parameter that has buffers.
        Raises ValueError when the state is from another optimiser type or model."""
        if state_dict["type"] != type(self).__name__:
            raise ValueError(f"this state is from a {state_dict['type']}, not a {type(self).__name__}")
        if len(state_dict["state"]) != len(self.params):
            raise ValueError(f"the state has {len(state_dict['state'])} parameters, this optimiser "
                             f"{len(self.params)}: it was saved for a different model")
        self.lr = float(state_dict["lr"])
        for name, value in state_dict["hyperparameters"].items():
            setattr(self, name, tuple(value) if isinstance(value, list) else value)
        self.step_count = int(state_dict.get("step_count", 0))
        steps = state_dict.get("steps")
        if steps is None:  # an older state: all parameters were stepped together
            steps = [self.step_count if saved else 0 for saved in state_dict["state"]]
        self.state = []
        for p, saved, step in zip(self.params, state_dict["state"], steps):
            for name, value in saved.items():
                if np.shape(value) != p.shape:
                    raise ValueError(f"optimiser state {name!r} has shape {np.shape(value)}, its parameter {p.shape}")
            state = {k: np.array(v, dtype=p.dtype) for k, v in saved.items()}
            if step:
                state["step"] = int(step)
            self.state.append(state)

    def __repr__(self):
        settings = ", ".join(f"{n}={getattr(self, n)}" for n in ("lr",) + self.hyperparameters)
        return f"{type(self).__name__}({settings})"


def _check_positive(name, value, allow_zero=False):
    ok = value >= 0 if allow_zero else value > 0
    if not (isinstance(value, (int, float, np.floating)) and math.isfinite(value) and ok):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite number {bound}, got {value!r}")


def _check_fraction(name, value):
    if not 0 <= value < 1:
        raise ValueError(f"{name} must lie in [0, 1), got {value!r}")


def _step_by_root(w, numerator, squares_avg, eps, lr, scratch):
    """w -= lr * numerator / (sqrt(squares_avg) + eps): AdaGrad's, RMSprop's and Adam's step.

    Computed in `scratch` (an array of w's shape the caller no longer needs), so the step
    makes no temporary of its own: three passes in place, then one BLAS axpy into w."""
    denominator = np.sqrt(squares_avg, out=scratch)
    denominator += eps
    np.divide(numerator, denominator, out=denominator)
    blas.axpy(-lr, denominator, w)


class SGD(Optimizer):
    """Stochastic gradient descent, with momentum as in PyTorch (Sutskever et al., 2013):

        g = grad + weight_decay * w
        v = momentum * v + g
        w -= lr * (g + momentum * v)   if nesterov   else   w -= lr * v

    With momentum=0 this is plain w -= lr * g.
    """

    hyperparameters = ("momentum", "nesterov", "weight_decay")

    def __init__(self, params, lr, momentum=0.0, nesterov=False, weight_decay=0.0):
        super().__init__(params, lr)
        _check_fraction("momentum", momentum)
        _check_positive("weight_decay", weight_decay, allow_zero=True)
        if nesterov and not momentum:
            raise ValueError("nesterov=True needs a momentum > 0")
        self.momentum, self.nesterov, self.weight_decay = float(momentum), bool(nesterov), float(weight_decay)

    def update(self, w, g, state):
        if self.weight_decay:
            g = g + self.weight_decay * w
        if self.momentum:
            v = blas.axpby(1.0, g, self.momentum, self._buffer(state, "velocity", w))  # v = momentum * v + g
            g = g + self.momentum * v if self.nesterov else v
        blas.axpy(-self.lr, g, w)  # w -= lr * g


class AdaGrad(Optimizer):
    """Duchi et al. (2011): each weight's step shrinks with its accumulated squared gradients.

        cache += g²;   w -= lr * g / (sqrt(cache) + eps)
    """

    hyperparameters = ("eps", "weight_decay")

    def __init__(self, params, lr=0.01, eps=1e-10, weight_decay=0.0):
        super().__init__(params, lr)
        _check_positive("eps", eps)
        self.eps, self.weight_decay = float(eps), float(weight_decay)

    def update(self, w, g, state):
        if self.weight_decay:
            g = g + self.weight_decay * w
        squares = np.square(g)
        cache = blas.axpy(1.0, squares, self._buffer(state, "sum_squares", w))  # cache += g²
        _step_by_root(w, g, cache, self.eps, self.lr, scratch=squares)


class RMSprop(Optimizer):
    """Hinton's RMSprop: AdaGrad with a leaky (exponential moving) average of squared gradients.

        v = alpha * v + (1 - alpha) * g²;   w -= lr * g / (sqrt(v) + eps)
    """

    hyperparameters = ("alpha", "eps", "weight_decay")

    def __init__(self, params, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0):
        super().__init__(params, lr)
        _check_fraction("alpha", alpha)
        self.alpha, self.eps, self.weight_decay = float(alpha), float(eps), float(weight_decay)

    def update(self, w, g, state):
        if self.weight_decay:
            g = g + self.weight_decay * w
        squares = np.square(g)
        v = blas.axpby(1 - self.alpha, squares, self.alpha, self._buffer(state, "square_avg", w))
        _step_by_root(w, g, v, self.eps, self.lr, scratch=squares)


class Adam(Optimizer):
    """Kingma and Ba (2015): momentum (first moment) plus RMSprop (second), bias-corrected.

        m = b1 m + (1 - b1) g;   v = b2 v + (1 - b2) g²
        w -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)

    weight_decay here is L2 added to the gradient; AdamW decouples it.
    """

    hyperparameters = ("betas", "eps", "weight_decay")

    def __init__(self, params, lr=0.001, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, lr)
        for i, beta in enumerate(betas):
            _check_fraction(f"betas[{i}]", beta)
        self.betas, self.eps, self.weight_decay = (float(betas[0]), float(betas[1])), float(eps), float(weight_decay)

    def update(self, w, g, state):
        if self.weight_decay:
            g = g + self.weight_decay * w
        self._adam_step(w, g, state)

    def _adam_step(self, w, g, state):
        b1, b2 = self.betas
        m = blas.axpby(1 - b1, g, b1, self._buffer(state, "exp_avg", w))
        squares = np.square(g)
        v = blas.axpby(1 - b2, squares, b2, self._buffer(state, "exp_avg_sq", w))
        # m / (1 - b1^t) / (sqrt(v / (1 - b2^t)) + eps) = (c / (1 - b1^t)) m / (sqrt(v) + c eps), c = sqrt(1 - b2^t)
        t = state["step"]  # this parameter's own count: one whose first gradient came late starts at t = 1
        c = math.sqrt(1 - b2**t)
        _step_by_root(w, m, v, c * self.eps, self.lr * c / (1 - b1**t), scratch=squares)


class AdamW(Adam):
    """Loshchilov and Hutter (2019): Adam with weight decay decoupled from the gradient,

        w -= lr * weight_decay * w,   then the Adam step.
    """

    def __init__(self, params, lr=0.001, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01):
        super().__init__(params, lr, betas, eps, weight_decay)

    def update(self, w, g, state):
        if self.weight_decay:
            w *= 1 - self.lr * self.weight_decay
        self._adam_step(w, g, state)


OPTIMIZERS = {"sgd": SGD, "adagrad": AdaGrad, "rmsprop": RMSprop, "adam": Adam, "adamw": AdamW}
