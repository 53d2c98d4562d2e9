"""`Transformer`: scikit-learn's transformer protocol, the one base of every preprocessor and extractor.

    step = Standardize(per="channel")       # __init__ only stores its parameters, under their names
    step.fit(X_train)                       # learns fitted attributes ending in "_"; returns self
    Z = step.transform(X_test)              # raises NotFittedError before fit
    step.get_params(), step.set_params(eps=1e-6), sklearn.base.clone(step)

The conventions are scikit-learn's `BaseEstimator` (get_params reads the names of `__init__`'s
parameters; `a__b` reaches a nested step's parameter), written here so that scikit-learn stays out
of the runtime dependencies; a step works inside sklearn's `Pipeline` and `FeatureUnion`.
Parameters are checked in `fit` (`validate_params`), never in `__init__`, so `set_params` and
`clone` see exactly what was passed. A step is fitted once `fit` has set `sample_shape_`.
"""

from __future__ import annotations

import inspect

import numpy as np

from ..errors import NotFittedError


class Transformer:
    """Base of preprocessors and feature extractors: fit / transform / fit_transform, params, state.

    Subclasses implement `_check_input(X) -> X`, `_fit(X)` and `_transform(X)`, and list their
    fitted arrays in `arrays` (saved by `state_dict`). `fit_hint` names what `fit` should be given
    in the NotFittedError message.
    """

    arrays = ()  # names of the fitted arrays, saved by state_dict
    fit_hint = "fit(X_train)"

    # ----- the protocol ---------------------------------------------------------------------------
    def fit(self, X, y=None):
        """Learn from training data X (N, ...); `y` is ignored (scikit-learn's signature). Returns self.

        Raises ValueError for a bad parameter (naming it) or for input of the wrong kind.
        """
        self.validate_params()
        X = self._check_input(X)
        self._fit(X)
        self.sample_shape_ = tuple(X.shape[1:])
        return self

    def transform(self, X):
        """X (N, ...) transformed with what `fit` learned. Raises NotFittedError before fit."""
        self._require_fit("transform")
        return self._transform(self._check_input(X))

    def fit_transform(self, X, y=None):
        """`fit(X, y)` then `transform(X)`."""
        return self.fit(X, y).transform(X)

    def validate_params(self):
        """Raise ValueError naming the first parameter with a bad value (fit calls this); returns self."""
        return self

    def _check_input(self, X):
        return np.asarray(X)

    def _fit(self, X):
        """Learn the fitted attributes from the checked training data (nothing by default)."""

    def _transform(self, X):
        raise NotImplementedError

    # ----- parameters, scikit-learn's way --------------------------------------------------------
    @classmethod
    def _param_names(cls):
        """The names of `__init__`'s parameters, sorted (scikit-learn's BaseEstimator._get_param_names)."""
        if cls.__init__ is object.__init__:
            return []
        parameters = inspect.signature(cls.__init__).parameters.values()
        return sorted(p.name for p in parameters
                      if p.name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL))

    def get_params(self, deep=True):
        """{parameter name: value}; with deep=True also "name__sub" for a parameter that has params."""
        params = {}
        for name in self._param_names():
            value = getattr(self, name)
            if deep and hasattr(value, "get_params") and not isinstance(value, type):
                params.update((f"{name}__{key}", sub) for key, sub in value.get_params().items())
            params[name] = value
        return params

    def set_params(self, **params):
        """Set parameters by name ("name__sub" for a nested one); returns self. Raises ValueError
        naming an unknown parameter and the valid ones. Values are checked by the next `fit`."""
        valid = self.get_params(deep=True)
        nested = {}
        for key, value in params.items():
            name, nested_key, sub = key.partition("__")
            if name not in valid:
                raise ValueError(f"{type(self).__name__} has no parameter {name!r}; "
                                 f"valid parameters: {', '.join(sorted(self._param_names())) or '(none)'}")
            if nested_key:
                nested.setdefault(name, {})[sub] = value
            else:
                setattr(self, name, value)
                valid[name] = value
        for name, sub_params in nested.items():
            valid[name].set_params(**sub_params)
        return self

    def __sklearn_tags__(self):
        """scikit-learn's tags (a transformer, no target needed); only scikit-learn calls this."""
        from sklearn.utils import Tags, TargetTags, TransformerTags

        return Tags(estimator_type=None, target_tags=TargetTags(required=False),
                    transformer_tags=TransformerTags())

    # ----- fitted state ----------------------------------------------------------------------------
    def __sklearn_is_fitted__(self):
        """True once `fit` has run (what sklearn.utils.validation.check_is_fitted asks)."""
        return hasattr(self, "sample_shape_")

    def _require_fit(self, what):
        if not self.__sklearn_is_fitted__():
            name = type(self).__name__
            raise NotFittedError(f"{name}.{what} called before fit: this {name} is not fitted yet; call "
                                 f"{self.fit_hint} first (on the training data only, then transform any split)")

    def config(self):
        """The parameters as JSON values (tuples become lists, NumPy scalars Python numbers): what
        `state_dict` saves."""
        return {name: _json_value(value) for name, value in self.get_params(deep=False).items()}

    def state_dict(self):
        """{"type", "config" (JSON-able), "arrays" (numpy)}: everything needed to rebuild it.

        Raises NotFittedError before fit. `data.preprocess.from_state_dict` rebuilds it."""
        self._require_fit("state_dict")
        arrays = {name: getattr(self, name) for name in self.arrays}
        arrays["sample_shape_"] = np.array(self.sample_shape_, dtype=np.int64)
        return {"type": type(self).__name__, "config": self.config(), "arrays": arrays}

    def _load_arrays(self, arrays):
        for name in self.arrays:
            setattr(self, name, np.asarray(arrays[name]))
        # files written before extractors saved their sample shape lack it: (), "any shape"
        self.sample_shape_ = tuple(int(n) for n in arrays.get("sample_shape_", ()))

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params(deep=False).items())
        return f"{type(self).__name__}({args})"


def _json_value(value):
    if isinstance(value, (tuple, list)):
        return [_json_value(v) for v in value]
    return value.item() if isinstance(value, np.generic) else value
