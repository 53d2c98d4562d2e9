"""`nnscratch.lab`: the lecture's claims, each an experiment that measures, draws and judges it.

    nnscratch lab list
    nnscratch lab run linear-limits --quick
    nnscratch lab run all --out lab
"""

from . import backprop, dynamics, geometry, practice, warping  # noqa: F401  (each module registers its experiments)
from .base import EXPERIMENTS, run, verdict_from_parts
from .index import run_all, write_index

__all__ = ["EXPERIMENTS", "run", "run_all", "verdict_from_parts", "write_index"]
