"""Losses as modules: `loss = CrossEntropyLoss()(logits, targets)`; the maths is in `nn.functional`."""

from __future__ import annotations

from .. import functional as F
from ..functional.losses import REDUCTIONS, checked_label_smoothing
from .module import Module


class _Loss(Module):
    def __init__(self, reduction="mean"):
        if reduction not in REDUCTIONS:
            raise ValueError(f"reduction={reduction!r} is not one of {', '.join(map(repr, REDUCTIONS))}")
        self.reduction = reduction

    def extra_repr(self):
        return f"reduction={self.reduction!r}"


class MSELoss(_Loss):
    """mean((input - target)²)."""

    def forward(self, input, target):
        return F.mse_loss(input, target, self.reduction)


class L1Loss(_Loss):
    """mean(|input - target|), the mean absolute error."""

    def forward(self, input, target):
        return F.l1_loss(input, target, self.reduction)


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy from logits `(N, C)`; targets are class indices `(N,)` or probability rows.

    `label_smoothing` ε in [0, 1] trains towards (1 − ε)·target + ε/C, as PyTorch's argument of the
    same name (Szegedy et al., 2016); raises ValueError outside [0, 1].
    """

    def __init__(self, reduction="mean", *, label_smoothing=0.0):
        super().__init__(reduction)
        self.label_smoothing = checked_label_smoothing(label_smoothing)

    def forward(self, logits, targets):
        return F.cross_entropy(logits, targets, self.reduction, label_smoothing=self.label_smoothing)

    def extra_repr(self):
        smoothing = f", label_smoothing={self.label_smoothing}" if self.label_smoothing else ""
        return super().extra_repr() + smoothing


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy on sigmoid(logits), fused and stable."""

    def forward(self, logits, targets):
        return F.binary_cross_entropy_with_logits(logits, targets, self.reduction)


class HingeLoss(_Loss):
    """Multiclass SVM loss, sum over wrong classes of max(0, s_j - s_y + margin)."""

    def __init__(self, margin=1.0, reduction="mean"):
        super().__init__(reduction)
        self.margin = float(margin)

    def forward(self, scores, targets):
        return F.hinge_loss(scores, targets, self.margin, self.reduction)


class GaussianNLLLoss(_Loss):
    """Gaussian negative log-likelihood; called as loss(input, target) (variance 1) or
    loss(input, target, var) with a predicted variance."""

    def __init__(self, full=False, eps=1e-6, reduction="mean"):
        super().__init__(reduction)
        self.full, self.eps = bool(full), float(eps)

    def forward(self, input, target, var=1.0):
        return F.gaussian_nll_loss(input, target, var, full=self.full, eps=self.eps, reduction=self.reduction)
