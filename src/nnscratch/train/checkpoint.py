"""Checkpoints: everything a run needs to continue bit for bit, in one atomically written file.

A checkpoint holds the model's weights, the optimiser's state, the schedule's position, the
state of every random generator the run uses (augmentation, dropout), the epoch and the
number of batches already done in it, the history so far and the early-stopping state.
"""

from __future__ import annotations

import numpy as np

from ..serialize import FORMAT_VERSION, prefixed, read_container, write_container
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
    """Restore a checkpoint into the given objects; returns (progress, best_weights or None)."""
    header, arrays = read_container(path, CHECKPOINT_FORMAT, "checkpoint")
    model.load_state_dict(prefixed(arrays, "model"))
    optim_state = header["optimizer"]
    optim_state["state"] = [prefixed(arrays, f"optim/{i}") for i in range(len(optimizer.params))]
    optimizer.load_state_dict(optim_state)
    if schedule is not None and header["schedule"] is not None:
        schedule.load_state_dict(header["schedule"])
    if len(header["generators"]) != len(generators):
        raise ValueError(f"{path} was written by a run with {len(header['generators'])} random generators, "
                         f"this one has {len(generators)}: resume with the same model and augmentation")
    for generator, state in zip(generators, header["generators"]):
        generator.bit_generator.state = state
    best = prefixed(arrays, "best") or None
    return header["progress"], best
