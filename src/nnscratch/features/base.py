"""The interface every feature extractor shares, so extractors combine and save like preprocessing.

An extractor maps a batch of images (N, H, W[, C]) to features (N, D) float32. `fit` learns
what it needs from training images (a codebook); extractors with nothing to learn fit at once.
Large sets are processed in chunks, so memory stays proportional to a chunk.
"""

from __future__ import annotations

import numpy as np

from ..data import preprocess
from ..data.images import check_images

CHUNK = 4096


class Extractor:
    arrays = ()  # names of learned arrays, saved by state_dict

    def fit(self, images):
        check_images(images, type(self).__name__)
        self.fitted_ = True
        return self

    def transform(self, images):
        images = check_images(images, type(self).__name__)
        self._require_fit()
        return np.concatenate([self._features(images[i:i + CHUNK]) for i in range(0, len(images), CHUNK)])

    def fit_transform(self, images):
        return self.fit(images).transform(images)

    def _features(self, images):
        raise NotImplementedError

    def _require_fit(self):
        if not getattr(self, "fitted_", False):
            raise ValueError(f"{type(self).__name__}.transform called before fit: call fit(training images) first")

    def config(self):
        return {}

    def state_dict(self):
        self._require_fit()
        return {"type": type(self).__name__, "config": self.config(),
                "arrays": {name: getattr(self, name) for name in self.arrays}}

    def _load_arrays(self, arrays):
        for name in self.arrays:
            setattr(self, name, np.asarray(arrays[name]))
        self.fitted_ = True

    def __repr__(self):
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.config().items())})"


class Pixels(Extractor):
    """The raw pixels as features, scaled to [0, 1] (uint8 / 255): to combine with others."""

    def _features(self, images):
        values = images.reshape(len(images), -1)
        return (values / 255.0 if images.dtype == np.uint8 else values).astype(np.float32)


class FeaturePipeline(Extractor):
    """Several extractors side by side: their features concatenated, e.g. HoG + colour histogram."""

    def __init__(self, extractors):
        self.extractors = list(extractors)
        if not self.extractors:
            raise ValueError("FeaturePipeline needs at least one extractor")

    def fit(self, images):
        for extractor in self.extractors:
            extractor.fit(images)
        self.fitted_ = True
        return self

    def transform(self, images):
        images = check_images(images, "FeaturePipeline")
        self._require_fit()
        return np.concatenate([e.transform(images) for e in self.extractors], axis=1)

    def _features(self, images):
        return np.concatenate([e._features(images) for e in self.extractors], axis=1)

    def config(self):
        return {"extractors": [{"type": type(e).__name__, "config": e.config()} for e in self.extractors]}

    def state_dict(self):
        self._require_fit()
        return {"type": "FeaturePipeline", "config": self.config(), "arrays": preprocess.nested_arrays(self.extractors)}

    @classmethod
    def rebuild(cls, config, arrays):
        pipeline = cls(preprocess.nested_parts(config["extractors"], arrays))
        pipeline.fitted_ = True
        return pipeline


def concat(*extractors):
    """FeaturePipeline(extractors): concat(HOG(), ColorHistogram())."""
    return FeaturePipeline(extractors)
