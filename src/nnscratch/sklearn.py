"""scikit-learn estimators around nnscratch: `MLPClassifier` and `MLPRegressor`.

    from nnscratch.sklearn import MLPClassifier
    clf = MLPClassifier(hidden_layer_sizes=(64,), max_iter=50, random_state=0).fit(X_train, y_train)
    clf.score(X_test, y_test)

They take scikit-learn's parameter names where the meaning is the same (`hidden_layer_sizes`,
`activation`, `alpha`, `batch_size`, `learning_rate_init`, `max_iter`, `random_state`,
`early_stopping`, `validation_fraction`, `n_iter_no_change`, `tol`, `warm_start`, `verbose`) and
add the lecture's knobs (`init`, `optimizer`, `momentum`, `schedule`, `dropout`, `dtype`). They
work in `Pipeline`, `GridSearchCV`, `cross_val_score` and pickle (scikit-learn needs that;
nnscratch's own model files stay pickle-free). Needs the `sklearn` extra (scikit-learn).

Training is `nnscratch.train.fit`, the one training loop, called one epoch at a time: between
epochs this module checks scikit-learn's stopping rules, which `fit` does not have (no
improvement of the training loss by `tol` for `n_iter_no_change` epochs; or, with
`early_stopping=True`, of the held-out loss, restoring the best weights as `fit` does).
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from . import nn, optim
from .functional.activations import softmax_array
from .optim import schedule as schedules
from .tensor import Tensor, no_grad
from .train import EarlyStopping, fit as fit_loop

# scikit-learn's activation names, and the lecture's
ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "logistic": nn.Sigmoid, "sigmoid": nn.Sigmoid,
               "identity": nn.Identity, "leaky-relu": nn.LeakyReLU, "elu": nn.ELU}
DTYPES = ("float32", "float64")
AUTO_BATCH = 200  # scikit-learn's batch_size="auto": min(200, n_samples)
PREDICT_BATCH = 2000


class _BaseMLP(BaseEstimator):
    """Shared by MLPClassifier and MLPRegressor: parameters, validation, the model and training."""

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, alpha=0.0001, batch_size="auto",
                 learning_rate_init=0.001, max_iter=200, random_state=None, early_stopping=False,
                 validation_fraction=0.1, n_iter_no_change=10, tol=1e-4, warm_start=False, verbose=False,
                 init="kaiming", optimizer="adam", momentum=0.9, schedule="constant", dropout=0.0,
                 dtype="float32"):
        self.hidden_layer_sizes, self.activation, self.alpha = hidden_layer_sizes, activation, alpha
        self.batch_size, self.learning_rate_init, self.max_iter = batch_size, learning_rate_init, max_iter
        self.random_state, self.early_stopping = random_state, early_stopping
        self.validation_fraction, self.n_iter_no_change, self.tol = validation_fraction, n_iter_no_change, tol
        self.warm_start, self.verbose, self.init, self.optimizer = warm_start, verbose, init, optimizer
        self.momentum, self.schedule, self.dropout, self.dtype = momentum, schedule, dropout, dtype

    # ----- scikit-learn's entry points ------------------------------------------------------------
    def fit(self, X, y):
        """Train on X: (N, D) numbers, y: (N,) (or (N, K) for a multi-output regressor); returns self.

        Up to `max_iter` epochs (passes over the data). Starts afresh unless `warm_start=True`.
        Raises ValueError naming each bad parameter, and scikit-learn's errors for bad X or y;
        FloatingPointError when the loss becomes nan or inf (lower `learning_rate_init`)."""
        return self._fit(X, y, incremental=False)

    def _fit(self, X, y, incremental, classes=None):
        self._check_params()
        fresh = not hasattr(self, "model_") or not (incremental or self.warm_start)
        X, y = validate_data(self, X, y, reset=fresh, dtype=(np.float64, np.float32), multi_output=self._multi_output,
                             y_numeric=self._multi_output)
        X = self._cast(X, "X")
        targets = self._targets(y, fresh, classes)
        if fresh:
            self._start(X, targets)
        if incremental:
            self._train(X, targets, epochs=1, stop_rules=False)
            return self
        if self.early_stopping:
            X, targets, X_val, y_val = self._split(X, targets)
        else:
            X_val = y_val = None
        self._train(X, targets, epochs=self.max_iter, stop_rules=True, val=(X_val, y_val))
        return self

    def partial_fit(self, X, y, **kwargs):
        """One epoch over (X, y), continuing from the current weights (the first call starts them)."""
        return self._fit(X, y, incremental=True, **kwargs)

    # ----- parameters -----------------------------------------------------------------------------
    def _check_params(self):
        """One ValueError listing every bad parameter, each with what it must be."""
        problems = []
        sizes = self.hidden_layer_sizes
        sizes = (sizes,) if isinstance(sizes, (int, np.integer)) else sizes
        try:
            bad = any(not isinstance(s, (int, np.integer)) or s < 1 for s in sizes)
        except TypeError:
            bad = True
        if bad:
            problems.append(f"hidden_layer_sizes={self.hidden_layer_sizes!r}: give positive integers, e.g. (100,)")
        if self.activation not in ACTIVATIONS:
            problems.append(f"activation={self.activation!r}: choose one of {', '.join(ACTIVATIONS)}")
        if self.optimizer not in optim.OPTIMIZERS:
            problems.append(f"optimizer={self.optimizer!r}: choose one of {', '.join(optim.OPTIMIZERS)}")
        if self.schedule not in schedules.PRESETS:
            problems.append(f"schedule={self.schedule!r}: choose one of {', '.join(schedules.PRESETS)}")
        try:
            nn.init.get(self.init)
        except (ValueError, KeyError, TypeError) as error:
            problems.append(f"init={self.init!r}: {error}")
        if self.dtype not in DTYPES:
            problems.append(f"dtype={self.dtype!r}: choose 'float32' (the default) or 'float64'")
        if not (self.batch_size == "auto" or (isinstance(self.batch_size, (int, np.integer)) and self.batch_size >= 1)):
            problems.append(f"batch_size={self.batch_size!r}: give a positive integer or 'auto'")
        for name, low, high, inclusive in (("alpha", 0, np.inf, True), ("learning_rate_init", 0, np.inf, False),
                                           ("tol", 0, np.inf, True), ("momentum", 0, 1, True),
                                           ("dropout", 0, 1, True), ("validation_fraction", 0, 1, False)):
            value = getattr(self, name)
            ok = isinstance(value, (int, float, np.number)) and not isinstance(value, bool)
            ok = ok and (low <= value if inclusive else low < value) and value < high
            if not ok:
                side = "[" if inclusive else "("
                problems.append(f"{name}={value!r}: give a number in {side}{low}, {high})")
        for name in ("max_iter", "n_iter_no_change"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
                problems.append(f"{name}={value!r}: give a positive integer")
        if problems:
            raise ValueError(f"{type(self).__name__}: " + "; ".join(problems))

    def _hidden(self):
        sizes = self.hidden_layer_sizes
        return [int(sizes)] if isinstance(sizes, (int, np.integer)) else [int(s) for s in sizes]

    # ----- building and training ------------------------------------------------------------------
    def _start(self, X, targets):
        """A fresh model, optimiser and schedule for inputs X: (N, D)."""
        self._rng = _generator(self.random_state)
        layers, width = [], X.shape[1]
        for hidden in self._hidden():
            layers += [nn.Linear(width, hidden, init=self.init, rng=self._rng, dtype=self.dtype),
                       ACTIVATIONS[self.activation]()]
            if self.dropout:
                layers.append(nn.Dropout(self.dropout, rng=_child(self._rng)))
            width = hidden
        layers.append(nn.Linear(width, self._n_outputs(targets), init="xavier", rng=self._rng, dtype=self.dtype))
        self.model_ = nn.Sequential(*layers)
        extra = {"momentum": self.momentum} if self.optimizer == "sgd" else {}
        self._optimizer = optim.OPTIMIZERS[self.optimizer](self.model_.parameters(), lr=self.learning_rate_init,
                                                           weight_decay=self.alpha, **extra)
        steps = -(-len(X) // self._batch(len(X)))
        self._schedule = schedules.get(self.schedule, total_steps=self.max_iter * steps)
        self.loss_curve_, self.n_iter_ = [], 0
        self.best_loss_ = np.inf
        self.validation_scores_ = [] if self.early_stopping else None

    def _batch(self, n):
        return min(AUTO_BATCH, n) if self.batch_size == "auto" else min(int(self.batch_size), n)

    def _split(self, X, targets):
        """Hold out `validation_fraction` of the rows (at least one) for early stopping."""
        order = _child(self._rng).permutation(len(X))
        n_val = max(1, int(round(self.validation_fraction * len(X))))
        if n_val >= len(X):
            raise ValueError(f"early_stopping=True needs at least 2 samples to hold some out; got {len(X)}")
        val, train = order[:n_val], order[n_val:]
        return X[train], targets[train], X[val], targets[val]

    def _train(self, X, targets, epochs, stop_rules, val=(None, None)):
        """`epochs` calls of nnscratch.train.fit(epochs=1), checking the stopping rules between them."""
        X_val, y_val = val
        watch = X_val is not None
        stopper = EarlyStopping(patience=self.n_iter_no_change, min_delta=self.tol)
        for _ in range(epochs):
            history = fit_loop(self.model_, self._loss(), self._optimizer, (X, targets), epochs=1,
                               batch_size=self._batch(len(X)), schedule=self._schedule,
                               seed=int(self._rng.integers(2**31)), progress=False, log_every=0)
            self.n_iter_ += 1
            loss = float(history.train_loss[-1])
            self.loss_curve_.append(loss)
            self.best_loss_ = min(self.best_loss_, loss)
            watched = self._loss_on(X_val, y_val) if watch else loss
            if watch:
                self.validation_scores_.append(-watched)
            if self.verbose:
                print(f"Iteration {self.n_iter_}, loss = {loss:.8f}" + (f", validation loss = {watched:.8f}" if watch else ""))
            if stop_rules and stopper.update(watched, self.n_iter_, self.model_):
                if self.verbose:
                    print(f"{'Validation' if watch else 'Training'} loss did not improve more than tol={self.tol} "
                          f"for {self.n_iter_no_change} consecutive epochs. Stopping.")
                break
        else:
            if stop_rules:
                warnings.warn(f"{type(self).__name__}: max_iter={self.max_iter} epochs reached and the loss still "
                              f"improves; raise max_iter to train longer", ConvergenceWarning, stacklevel=3)
        if watch and stopper.best_weights is not None:
            self.model_.load_state_dict(stopper.best_weights)
            self.best_validation_score_ = -stopper.best_loss

    def _forward(self, X):
        """The model's outputs (N, K) as a numpy array, in eval mode, without recording a graph."""
        self.model_.eval()
        try:
            with no_grad():
                return np.concatenate([self.model_(Tensor(X[i:i + PREDICT_BATCH])).data
                                       for i in range(0, len(X), PREDICT_BATCH)])
        finally:
            self.model_.train()

    def _loss_on(self, X, targets):
        self.model_.eval()
        try:
            with no_grad():
                return float(self._loss()(self.model_(Tensor(X)), targets).data)
        finally:
            self.model_.train()

    def _checked_input(self, X):
        """X validated by scikit-learn (float64 or float32), and its float dtype."""
        check_is_fitted(self, "model_")
        X = validate_data(self, X, reset=False, dtype=(np.float64, np.float32))
        return self._cast(X, "X"), X.dtype

    def _cast(self, values, name):
        """`values` (finite, validated) in self.dtype; a ValueError when some overflow it (1e200 in float32)."""
        out = values.astype(self.dtype, copy=False)
        if out is not values and not np.isfinite(out).all():
            raise ValueError(f"{type(self).__name__}: {name} holds values beyond {self.dtype}'s range (largest "
                             f"magnitude {np.abs(values).max():.3g}, {self.dtype} reaches "
                             f"{np.finfo(self.dtype).max:.3g}); scale {name}, or pass dtype='float64'")
        return out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.random_state is None
        return tags


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """A multi-layer perceptron classifier: Linear + activation (+ Dropout) per hidden layer, then a
    Linear to one logit per class, trained on softmax cross-entropy by nnscratch.train.fit.

    X: (N, D) numbers (cast to `dtype`, float32 by default); y: (N,) labels of any type.
    Fitted: `classes_` (K,), `n_features_in_`, `loss_curve_` (mean training loss per epoch),
    `n_iter_` (epochs run), `model_` (the nnscratch `nn.Sequential`). `alpha` is the optimiser's
    weight decay (alpha·w added to each gradient; scikit-learn divides it by the batch size).
    """

    _multi_output = False  # y: (N,); a column vector is raveled with scikit-learn's DataConversionWarning

    def _targets(self, y, fresh, classes):
        check_classification_targets(y)
        if fresh:
            if classes is None:
                classes = np.unique(y)
            self.classes_ = np.unique(np.asarray(classes))
        unknown = np.setdiff1d(y, self.classes_)
        if len(unknown):
            raise ValueError(f"y holds labels {unknown.tolist()} not among classes_ {self.classes_.tolist()}; "
                             f"pass every label as classes= on the first partial_fit")
        return np.searchsorted(self.classes_, y).astype(np.int64)

    def partial_fit(self, X, y, classes=None):
        """One epoch over (X, y) from the current weights. The first call needs `classes`, every label."""
        if not hasattr(self, "model_") and classes is None:
            raise ValueError("the first partial_fit needs classes=, the list of every label y may hold")
        return self._fit(X, y, incremental=True, classes=classes)

    def _n_outputs(self, targets):
        return len(self.classes_)

    def _loss(self):
        return nn.CrossEntropyLoss()

    def predict_proba(self, X):
        """Class probabilities (N, K), the softmax of the logits; columns in the order of classes_."""
        X, _ = self._checked_input(X)
        return softmax_array(self._forward(X), axis=1)

    def predict_log_proba(self, X):
        """log(predict_proba(X)), (N, K)."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X):
        """The most probable class of each row, (N,), from classes_."""
        logits = self._forward(self._checked_input(X)[0])
        return self.classes_[logits.argmax(axis=1)]


class MLPRegressor(RegressorMixin, _BaseMLP):
    """A multi-layer perceptron regressor: hidden layers as MLPClassifier's, a Linear to K outputs,
    trained on the mean squared error by nnscratch.train.fit.

    X: (N, D); y: (N,) or (N, K) numbers. predict returns (N,) for a 1-D y, else (N, K).
    Fitted attributes as MLPClassifier's (without classes_).
    """

    _multi_output = True

    def _targets(self, y, fresh, classes):
        if fresh:
            self._y_1d = y.ndim == 1
        targets = self._cast(y.reshape(len(y), -1).astype(np.float64, copy=False), "y")
        if not fresh and targets.shape[1] != self._n_out:
            raise ValueError(f"y has {targets.shape[1]} outputs but {type(self).__name__} was fitted on {self._n_out}")
        return targets

    def _n_outputs(self, targets):
        self._n_out = targets.shape[1]
        return self._n_out

    def _loss(self):
        return nn.MSELoss()

    def predict(self, X):
        """Predictions (N,) for a regressor fitted on a 1-D y, else (N, K), in X's float dtype
        (float64 for integer X), as scikit-learn's regressors do."""
        X, dtype = self._checked_input(X)
        out = self._forward(X).astype(dtype, copy=False)
        return out.ravel() if self._y_1d else out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags


def _generator(random_state):
    """A numpy Generator from random_state: None (fresh entropy), an int, a Generator, or a RandomState
    (scikit-learn's; one draw seeds the Generator). Never numpy's global state."""
    if random_state is None or isinstance(random_state, (int, np.integer)):
        return np.random.default_rng(random_state)
    if isinstance(random_state, np.random.Generator):
        return random_state
    return np.random.default_rng(check_random_state(random_state).randint(2**31))


def _child(rng):
    return np.random.default_rng(rng.integers(2**63))
