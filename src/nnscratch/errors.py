"""The library's own exception types, shared by every part that raises them."""

from __future__ import annotations


class NotFittedError(ValueError, AttributeError):
    """A preprocessor or feature extractor was used (transform, state_dict, ...) before `fit`.

    A subclass of both ValueError and AttributeError, as scikit-learn's
    `sklearn.exceptions.NotFittedError`, so code that catches either keeps working.
    """


class ModelFileError(ValueError):
    """A model, checkpoint or cache file that cannot be used; the message names the file, what is
    wrong with it and what to do (one line). Importable as nnscratch.serialize.ModelFileError."""
