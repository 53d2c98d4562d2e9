"""The library's own exception types, shared by every part that raises them."""

from __future__ import annotations


class NotFittedError(ValueError, AttributeError):
    """A preprocessor or feature extractor was used (transform, state_dict, ...) before `fit`.

    A subclass of both ValueError and AttributeError, as scikit-learn's
    `sklearn.exceptions.NotFittedError`, so code that catches either keeps working.
    """
