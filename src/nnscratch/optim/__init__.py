"""`nnscratch.optim`: optimisers (SGD ... AdamW) and, in `optim.schedule`, learning-rate schedules."""

from . import schedule
from .optimizers import OPTIMIZERS, SGD, AdaGrad, Adam, AdamW, Optimizer, RMSprop

__all__ = ["OPTIMIZERS", "SGD", "AdaGrad", "Adam", "AdamW", "Optimizer", "RMSprop", "schedule"]
