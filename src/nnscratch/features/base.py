"""The interface every feature extractor shares: the transformer protocol of `data.preprocess`.

An extractor maps a batch of images (N, H, W[, C]) to features (N, D) float32. `fit` learns
what it needs from training images (a codebook); extractors with nothing to learn only check
their parameters and the images. Like the preprocessing steps, extractors follow scikit-learn's
transformer protocol (`data.transformer.Transformer`: get_params / set_params, fitted
attributes ending in "_", NotFittedError before fit) and save with state_dict. Large sets are
processed in chunks, so memory stays proportional to a chunk.
"""

from __future__ import annotations

import numpy as np

from ..data.images import check_images
from ..data.pipeline import nested_arrays, nested_parts
from ..data.transformer import Transformer

CHUNK = 4096


class Extractor(Transformer):
    """Base of feature extractors: subclasses implement `_features(images) -> (n, D) float32`
    (and `_fit(images)` when they learn something). transform works a chunk of images at a time."""

    fit_hint = "fit(training images)"

    def _check_input(self, images):
        return check_images(images, type(self).__name__)

    def _transform(self, images):
        return np.concatenate([self._features(images[i:i + CHUNK]) for i in range(0, len(images), CHUNK)])

    def _features(self, images):
        raise NotImplementedError


class Pixels(Extractor):
    """The raw pixels as features, scaled to [0, 1] (uint8 / 255): to combine with others.

    images: (N, H, W[, C]) -> (N, H·W·C) float32.
    """

    def _features(self, images):
        values = images.reshape(len(images), -1)
        return (values / 255.0 if images.dtype == np.uint8 else values).astype(np.float32)


class FeaturePipeline(Extractor):
    """Several extractors side by side: their features concatenated, e.g. HoG + colour histogram.

    extractors: a list of extractors. images (N, H, W[, C]) -> (N, D_1 + D_2 + ...) float32.
    Raises ValueError at fit when the list is empty.
    """

    def __init__(self, extractors):
        self.extractors = extractors

    def validate_params(self):
        """Raise ValueError for an empty list; validates every extractor. Returns self."""
        if not isinstance(self.extractors, (list, tuple)) or not self.extractors:
            raise ValueError(f"FeaturePipeline needs a non-empty list of extractors, got {self.extractors!r}")
        for extractor in self.extractors:
            if not (hasattr(extractor, "fit") and hasattr(extractor, "transform")):
                raise ValueError(f"FeaturePipeline: {extractor!r} has no fit/transform; give feature extractors")
            if hasattr(extractor, "validate_params"):
                extractor.validate_params()
        return self

    def _fit(self, images):
        for extractor in self.extractors:
            extractor.fit(images)

    def _transform(self, images):
        return np.concatenate([e.transform(images) for e in self.extractors], axis=1)

    def config(self):
        """{"extractors": [{"type", "config"}, ...]}."""
        return {"extractors": [{"type": type(e).__name__, "config": e.config()} for e in self.extractors]}

    def state_dict(self):
        """Every extractor's fitted arrays (prefixed by its position) and configs; NotFittedError before fit."""
        self._require_fit("state_dict")
        arrays = nested_arrays(self.extractors)
        arrays["sample_shape_"] = np.array(self.sample_shape_, dtype=np.int64)
        return {"type": "FeaturePipeline", "config": self.config(), "arrays": arrays}

    @classmethod
    def rebuild(cls, config, arrays):
        """The fitted FeaturePipeline saved by `state_dict` (its `config` and `arrays`)."""
        pipeline = cls(nested_parts(config["extractors"], arrays))
        pipeline.sample_shape_ = tuple(int(n) for n in arrays.get("sample_shape_", ()))
        return pipeline

    def __repr__(self):
        return f"FeaturePipeline({self.extractors!r})"


def concat(*extractors):
    """FeaturePipeline(list(extractors)): concat(HOG(), ColorHistogram())."""
    return FeaturePipeline(list(extractors))
