"""Checkpoints: everything a run needs to continue bit for bit, in one atomically written file.

A checkpoint holds the model's weights, the optimiser's state, the schedule's position, the
state of every random generator the run uses (augmentation, dropout), the epoch and the
number of batches already done in it, the history so far and the early-stopping state.
Loading checks the file (serialize.read_container's limits) and that it fits the run's model
before anything is restored; every problem is one ModelFileError naming the file.
"""

from __future__ import annotations

import numpy as np

from ..serialize import FORMAT_VERSION, ModelFileError, prefixed, read_container, write_container
from ..tensor import Tensor

CHECKPOINT_FORMAT = "nnscratch-checkpoint"
CHECKPOINT_NAME = "checkpoint.npz"


def random_generators(*roots):
    """Every numpy Generator reachable from `roots` through attributes and lists, in a fixed order."""
    found, seen = [], set()
    stack = list(reversed(roots))
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, (np.ndarray, Tensor, type, str, bytes)):
            continue
        seen.add(id(obj))
        if isinstance(obj, np.random.Generator):
            found.append(obj)
        elif isinstance(obj, (list, tuple)):
            stack.extend(reversed(obj))
        elif hasattr(obj, "__dict__"):
            stack.extend(reversed(list(vars(obj).values())))
    return found


def save_checkpoint(path, *, model, optimizer, schedule, generators, progress, best_weights=None):
    """Write a checkpoint; `progress` is the JSON-able position and history of the run."""
    optim_state = optimizer.state_dict()
    arrays = {f"model/{k}": v for k, v in model.state_dict().items()}
    for i, state in enumerate(optim_state.pop("state")):
        arrays.update({f"optim/{i}/{k}": v for k, v in state.items()})
    if best_weights is not None:
        arrays.update({f"best/{k}": v for k, v in best_weights.items()})
    header = {
        "format": CHECKPOINT_FORMAT,
        "version": FORMAT_VERSION,
        "optimizer": optim_state,
        "schedule": schedule.state_dict() if schedule is not None else None,
        "generators": [g.bit_generator.state for g in generators],
        "progress": progress,
    }
    write_container(path, header, arrays)


def load_checkpoint(path, *, model, optimizer, schedule, generators):
    """Restore a checkpoint into the given objects; returns (progress, best_weights or None).

    Checks the file first (see serialize.read_container) and that its arrays fit `model`, so a
    damaged checkpoint or one from another run raises FileNotFoundError or one ModelFileError
    (a ValueError) naming the file, what is wrong and what to do, before `model` is touched.
    """
    header, arrays = read_container(path, CHECKPOINT_FORMAT, "checkpoint")
    missing = [key for key in HEADER_KEYS if key not in header]
    if missing:
        raise ModelFileError(f"{path} is a damaged checkpoint: its header lacks {', '.join(missing)}; {START_AFRESH}")
    _check_fits(path, model.state_dict(), prefixed(arrays, "model"), "the model's parameter")
    best = prefixed(arrays, "best") or None
    if best is not None:
        _check_fits(path, model.state_dict(), best, "the best weights' parameter")
    if len(header["generators"]) != len(generators):
        raise ModelFileError(f"{path} was written by a run with {len(header['generators'])} random generators, this "
                             f"one has {len(generators)}: resume with the same model and augmentation")
    try:
        optim_state = dict(header["optimizer"])
        optim_state["state"] = [prefixed(arrays, f"optim/{i}") for i in range(len(optimizer.params))]
        optimizer.load_state_dict(optim_state)
        if schedule is not None and header["schedule"] is not None:
            schedule.load_state_dict(header["schedule"])
        for generator, state in zip(generators, header["generators"]):
            generator.bit_generator.state = state
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        raise ModelFileError(f"{path} does not fit this run's optimiser, schedule or random generators "
                             f"({type(error).__name__}: {error}); {START_AFRESH}") from None
    model.load_state_dict(prefixed(arrays, "model"))
    return header["progress"], best


HEADER_KEYS = ("optimizer", "schedule", "generators", "progress")
START_AFRESH = ("resume with the configuration that wrote it, or start afresh (train without --resume, "
                "into a new --out folder)")


def _check_fits(path, own, saved, what):
    """ModelFileError unless `saved` ({name: array}) has exactly `own`'s names and shapes."""
    problems = [f"{what} {name!r} is missing" for name in own if name not in saved]
    problems += [f"{what} {name!r} has shape {saved[name].shape} in the file, {own[name].shape} in the model"
                 for name in own if name in saved and saved[name].shape != own[name].shape]
    extra = [name for name in saved if name not in own]
    if extra:
        problems.append(f"it holds parameters this model does not have ({', '.join(map(repr, extra))})")
    if problems:
        raise ModelFileError(f"{path} does not fit this run's model: {'; '.join(problems)}. It was written for "
                             f"another model or is damaged; {START_AFRESH}")
