"""One spelling for randomness in data/ and features/: `rng=` (an int seed or a Generator), `seed=` kept.

Every random function here takes `rng=`; the older `seed=` still works and means the same (the same
int gives the same bits). Giving both, with different values, is an error rather than a guess.
"""

from __future__ import annotations

import numpy as np


def rng_or_seed(rng, seed, who, default=None):
    """The random source a caller asked for: `rng` if given, else `seed`, else `default`.

    rng, seed: None, an int seed or a numpy Generator (or SeedSequence). Raises TypeError naming
    `who` when both are given and are not the same object or equal ints.
    """
    if rng is None:
        return default if seed is None else seed
    if seed is not None and seed is not rng and not (_is_int(rng) and _is_int(seed) and int(rng) == int(seed)):
        raise TypeError(f"{who}: got rng={rng!r} and seed={seed!r}; pass only rng= (seed= is its older name)")
    return rng


def _is_int(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)
