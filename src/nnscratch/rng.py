"""One random source per object: turning a seed (or nothing) into a `numpy.random.Generator`.

Nothing in nnscratch touches numpy's global random state: whatever is random takes a seed or a
Generator, so the same seed gives the same bits.
"""

from __future__ import annotations

import numbers

import numpy as np


def as_generator(rng=None) -> np.random.Generator:
    """A Generator from a seed, an existing Generator (used as is), or None (fresh entropy)."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or isinstance(rng, (numbers.Integral, np.random.SeedSequence)):
        return np.random.default_rng(rng)
    raise TypeError(
        f"rng must be an integer seed, a numpy.random.Generator or None, got {type(rng).__name__}"
    )
