"""`nnscratch.features`: hand-made image features (HoG, colour histograms, bags of visual words).

Each extractor follows the transformer protocol of the preprocessing steps (scikit-learn's:
fit / transform / fit_transform / get_params / set_params, NotFittedError before fit; usable in
sklearn's Pipeline and FeatureUnion) and registers with `data.preprocess`, so a saved model
keeps its feature extractor.
"""

from ..data import preprocess
from ..data.images import GREY_WEIGHTS, grey
from .base import Extractor, FeaturePipeline, Pixels, concat
from .bow import BagOfVisualWords
from .color import ColorHistogram, color_histogram, rgb_to_hsv
from .hog import HOG, hog
from .kmeans import kmeans

for _cls in (HOG, ColorHistogram, BagOfVisualWords, Pixels, FeaturePipeline):
    preprocess.register(_cls)

__all__ = ["BagOfVisualWords", "ColorHistogram", "Extractor", "FeaturePipeline", "GREY_WEIGHTS", "HOG",
           "Pixels", "color_histogram", "concat", "grey", "hog", "kmeans", "rgb_to_hsv"]
