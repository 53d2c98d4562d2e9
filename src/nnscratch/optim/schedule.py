"""Learning-rate schedules, stepped once per optimiser step.

A schedule is a multiplier of the optimiser's base rate as a function of the step count:
`factor(step)`. Bound to an optimiser (`schedule.bind(optimizer)`), each `schedule.step()`
sets `optimizer.lr = base_lr * factor(steps so far)`. The lecture's recipe is the preset
`"warmup-step"`: linear warm-up, then x0.1 at 50% and again at 75% of training.
"""

from __future__ import annotations

import bisect
import math


class Schedule:
    """Base class: a learning-rate multiplier `factor(step)` of the optimiser's base rate, stepped
    once per optimiser step. Subclasses define `factor` (and `config`, their constructor arguments)."""

    def __init__(self):
        self.step_count = 0
        self.base_lr = None
        self.optimizer = None

    def factor(self, step):
        """The multiplier of the base rate at optimiser step `step` (0-based), a float."""
        raise NotImplementedError

    def bind(self, optimizer):
        """Drive `optimizer.lr` from now on, from its current lr as the base rate."""
        self.optimizer = optimizer
        if self.base_lr is None:
            self.base_lr = optimizer.lr
        self._apply()
        return self

    def step(self):
        """Advance one optimiser step and set the bound optimiser's lr."""
        self.step_count += 1
        self._apply()

    def lr(self, step=None):
        """The learning rate at `step` (default: now)."""
        return self.base_lr * self.factor(self.step_count if step is None else step)

    def _apply(self):
        if self.optimizer is not None:
            self.optimizer.lr = self.lr()

    def config(self):
        """The constructor arguments that rebuild this schedule (a JSON-able dict)."""
        return {}

    def state_dict(self):
        """{"type", "config", "step_count", "base_lr"}: JSON-able; `from_state_dict` rebuilds it."""
        return {"type": type(self).__name__, "config": self.config(), "step_count": self.step_count,
                "base_lr": self.base_lr}

    def load_state_dict(self, state):
        """Restore the position saved by `state_dict()`; ValueError when it is another schedule's."""
        if state["type"] != type(self).__name__:
            raise ValueError(f"this state is from a {state['type']} schedule, not a {type(self).__name__}")
        self.step_count, self.base_lr = int(state["step_count"]), state["base_lr"]
        self._apply()

    def __repr__(self):
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.config().items())})"


class Constant(Schedule):
    """The base rate throughout (factor 1)."""

    def factor(self, step):
        return 1.0


class StepDecay(Schedule):
    """x gamma every `step_size` steps."""

    def __init__(self, step_size, gamma=0.1):
        super().__init__()
        if step_size < 1:
            raise ValueError(f"StepDecay: step_size must be >= 1, got {step_size}")
        self.step_size, self.gamma = int(step_size), float(gamma)

    def factor(self, step):
        return self.gamma ** (step // self.step_size)

    def config(self):
        return {"step_size": self.step_size, "gamma": self.gamma}


class MultiStep(Schedule):
    """x gamma at each milestone step."""

    def __init__(self, milestones, gamma=0.1):
        super().__init__()
        self.milestones, self.gamma = sorted(int(m) for m in milestones), float(gamma)

    def factor(self, step):
        return self.gamma ** bisect.bisect_right(self.milestones, step)

    def config(self):
        return {"milestones": self.milestones, "gamma": self.gamma}


class Exponential(Schedule):
    """x gamma every step."""

    def __init__(self, gamma):
        super().__init__()
        if not 0 < gamma <= 1:
            raise ValueError(f"Exponential: gamma must lie in (0, 1], got {gamma}")
        self.gamma = float(gamma)

    def factor(self, step):
        return self.gamma**step

    def config(self):
        return {"gamma": self.gamma}


class Cosine(Schedule):
    """Half a cosine from 1 down to `min_factor` over `total_steps` (then stays there)."""

    def __init__(self, total_steps, min_factor=0.0):
        super().__init__()
        if total_steps < 1:
            raise ValueError(f"Cosine: total_steps must be >= 1, got {total_steps}")
        self.total_steps, self.min_factor = int(total_steps), float(min_factor)

    def factor(self, step):
        progress = min(step, self.total_steps) / self.total_steps
        return self.min_factor + (1 - self.min_factor) * 0.5 * (1 + math.cos(math.pi * progress))

    def config(self):
        return {"total_steps": self.total_steps, "min_factor": self.min_factor}


class LinearWarmup(Schedule):
    """Rise linearly to full rate over `warmup_steps` (step s uses (s + 1) / warmup_steps),
    then follow `after` (at the same absolute step count; default constant)."""

    def __init__(self, warmup_steps, after=None):
        super().__init__()
        if warmup_steps < 1:
            raise ValueError(f"LinearWarmup: warmup_steps must be >= 1, got {warmup_steps}")
        self.warmup_steps = int(warmup_steps)
        self.after = after if after is not None else Constant()

    def factor(self, step):
        if step < self.warmup_steps:
            return (step + 1) / self.warmup_steps * self.after.factor(step)
        return self.after.factor(step)

    def config(self):
        return {"warmup_steps": self.warmup_steps, "after": self.after.state_dict()}


WARMUP_FRACTION = 0.05


def warmup_step(total_steps, warmup_fraction=WARMUP_FRACTION, gamma=0.1):
    """The lecture's recipe: linear warm-up over the first 5% of steps, then x0.1 at 50% and 75%."""
    warmup = max(1, round(warmup_fraction * total_steps))
    return LinearWarmup(warmup, after=MultiStep([total_steps // 2, (3 * total_steps) // 4], gamma))


PRESETS = ("constant", "step", "exponential", "cosine", "warmup-step")


def get(name, total_steps):
    """A schedule by name, for a run of `total_steps` optimiser steps."""
    if name == "constant":
        return Constant()
    if name == "step":
        return StepDecay(max(1, total_steps // 3), 0.1)
    if name == "exponential":
        return Exponential(0.01 ** (1 / max(1, total_steps)))  # ends at 1% of the base rate
    if name == "cosine":
        return Cosine(total_steps)
    if name == "warmup-step":
        return warmup_step(total_steps)
    raise ValueError(f"unknown schedule {name!r}; choose one of {', '.join(PRESETS)}")


SCHEDULES = {cls.__name__: cls for cls in (Constant, StepDecay, MultiStep, Exponential, Cosine, LinearWarmup)}


def from_state_dict(state):
    """Rebuild a schedule (with its position) from `state_dict()`."""
    if state["type"] not in SCHEDULES:
        raise ValueError(f"unknown schedule type {state['type']!r}; known: {', '.join(SCHEDULES)}")
    config = dict(state["config"])
    if "after" in config:
        config["after"] = from_state_dict(config["after"])
    schedule = SCHEDULES[state["type"]](**config)
    schedule.step_count, schedule.base_lr = int(state["step_count"]), state["base_lr"]
    return schedule
