"""A run's record (`History`, per-epoch figures) and `EarlyStopping` (patience on the validation
loss, best weights restored)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field


@dataclass
class History:
    """Per-epoch figures of a run."""

    epoch: list = field(default_factory=list)
    train_loss: list = field(default_factory=list)
    train_accuracy: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    val_accuracy: list = field(default_factory=list)
    lr: list = field(default_factory=list)
    seconds: list = field(default_factory=list)
    best_epoch: int | None = None
    stopped_early: bool = False

    def to_dict(self):
        """The history as a JSON-able dict (what a checkpoint stores)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d):
        """A History from `to_dict`'s output."""
        return cls(**d)

    def __len__(self):
        return len(self.epoch)

    def plot(self, ax=None):
        """Loss and accuracy curves against the epoch (train and validation); returns the Figure.
        ax: None for a new figure, or a pair of matplotlib Axes (loss, accuracy)."""
        from ..display import plot_history

        return plot_history(self, ax=ax)

    def _repr_html_(self):
        """Jupyter's display: the per-epoch table and the best epoch."""
        from ..display import history_html

        return history_html(self)


class EarlyStopping:
    """Stop when the validation loss has not improved by `min_delta` for `patience` epochs;
    the best weights are restored at the end."""

    def __init__(self, patience=5, min_delta=0.0):
        if patience < 1:
            raise ValueError(f"EarlyStopping: patience must be >= 1, got {patience}")
        self.patience, self.min_delta = int(patience), float(min_delta)
        self.best_loss, self.best_epoch, self.bad_epochs = math.inf, None, 0
        self.best_weights = None

    def update(self, val_loss, epoch, model):
        """Record this epoch; True when training should stop."""
        if val_loss < self.best_loss - self.min_delta:
            self.best_loss, self.best_epoch, self.bad_epochs = val_loss, epoch, 0
            self.best_weights = model.state_dict()
        else:
            self.bad_epochs += 1
        return self.bad_epochs >= self.patience

    def state(self):
        """JSON-able state (best loss, best epoch, bad epochs); the weights travel separately."""
        return {"best_loss": self.best_loss if math.isfinite(self.best_loss) else None,
                "best_epoch": self.best_epoch, "bad_epochs": self.bad_epochs}

    def restore(self, state, weights):
        """Continue from `state()` and the best weights saved with it."""
        self.best_loss = math.inf if state["best_loss"] is None else state["best_loss"]
        self.best_epoch, self.bad_epochs, self.best_weights = state["best_epoch"], state["bad_epochs"], weights
