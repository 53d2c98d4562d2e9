"""`nnscratch.train`: the fit loop, evaluation, checkpoints, the metrics log and early stopping."""

from .checkpoint import CHECKPOINT_NAME, load_checkpoint, save_checkpoint
from .log import METRICS_NAME
from .history import EarlyStopping, History
from .loop import TrainingInterrupted, fit
from .metrics import Evaluation, confusion_matrix, evaluate

__all__ = ["CHECKPOINT_NAME", "METRICS_NAME", "EarlyStopping", "Evaluation", "History", "TrainingInterrupted",
           "confusion_matrix", "evaluate", "fit", "load_checkpoint", "save_checkpoint"]
