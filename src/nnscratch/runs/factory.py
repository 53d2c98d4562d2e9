"""The objects a run is made of, built from its `RunConfig`: the model (the ONE model factory of
`nnscratch train`, the lab and sweeps), the preprocessing, the augmentation and the features."""

from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path

import numpy as np

from .. import nn
from ..nn import zoo
from ..atomic import RunFileWarning
from ..data import augment as augmentation
from ..data import preprocess as preprocessing
from .config import CROP_PADDING, parse_augment, parse_features, parse_model, parse_preprocess

ACTIVATIONS = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "leaky-relu": nn.LeakyReLU,
               "elu": nn.ELU, "maxout": None}
HOG_CELL = 4  # 28x28 images: 7x7 cells, 6x6 blocks, 1,296 features


def build_model(config, in_features_or_sample_shape, n_classes):
    """Flatten, then Linear + activation (+ Dropout) per hidden width, then a Linear to the classes;
    or, for "cnn:..."/"cnn1d:..." specs, conv-BN-ReLU-pool blocks (nn.zoo.cnn_layers).

    config: a RunConfig (model, activation, init, dropout, seed are read).
    in_features_or_sample_shape: an int (features per sample) or a sample shape such as (28, 28).
    Returns an nn.Sequential taking (N, *sample_shape) or (N, in_features) float arrays and giving
    (N, n_classes) logits. Weights are seeded from config.seed (layer i by seed + i), so the same
    config builds the same model bit for bit.
    """
    shape = in_features_or_sample_shape
    if config.model.partition(":")[0] in zoo.KINDS:
        if not isinstance(shape, (tuple, list)):
            raise ValueError(f"model {config.model!r} needs the samples' shape (e.g. (28, 28)), not just their size")
        return zoo.cnn_layers(config.model, tuple(shape), n_classes, config)
    in_features = int(np.prod(shape)) if isinstance(shape, (tuple, list)) else int(shape)
    layers, width, seed = [nn.Flatten()], in_features, config.seed
    for i, hidden in enumerate(parse_model(config.model)):
        if config.activation == "maxout":
            layers.append(nn.Maxout(width, hidden, pieces=2, init=config.init, rng=seed + i))
        else:
            layers += [nn.Linear(width, hidden, init=config.init, rng=seed + i), ACTIVATIONS[config.activation]()]
        if config.dropout:
            layers.append(nn.Dropout(config.dropout, rng=seed + 100 + i))
        width = hidden
    layers.append(nn.Linear(width, n_classes, init="xavier" if width == in_features else config.init,
                            rng=seed + 99))
    return nn.Sequential(*layers)


def make_preprocess(spec):
    """The (unfitted) preprocessing named by `spec` (see config.PREPROCESSING)."""
    kind, n = parse_preprocess(spec)
    if kind == "standardize":
        # per channel, as is usual for images: one mean and std for all pixels, so that shifted
        # (augmented) content meets the same scale everywhere; per pixel, a crop moving ink into a
        # near-constant border pixel divides it by a tiny std and the loss explodes
        return preprocessing.Standardize(per="channel")
    if kind == "scale":
        return preprocessing.Scale()
    if kind == "none":
        return preprocessing.Pipeline([preprocessing.Scale()])  # uint8 still needs to become floats
    if kind == "whiten":
        return preprocessing.Pipeline([preprocessing.Scale(), preprocessing.Whiten("zca", eps=1e-2)])
    return preprocessing.Pipeline([preprocessing.PCA(n), preprocessing.Standardize()])


def make_augment(spec, sample_shape, seed):
    """The training-batch augmentation named by `spec` ("flip,crop"), or None."""
    names = parse_augment(spec)
    if not names:
        return None
    if len(sample_shape) < 2:
        raise ValueError(f"augmentation needs images, but samples have shape {sample_shape}")
    colour = len(sample_shape) == 3
    makers = {
        "flip": lambda rng, _: augmentation.HorizontalFlip(rng=rng),
        "crop": lambda rng, pad: augmentation.RandomCrop(sample_shape[:2], padding=pad or CROP_PADDING, rng=rng),
        "scale": lambda rng, _: augmentation.RandomScale((0.9, 1.1), rng=rng),
        "jitter": lambda rng, _: augmentation.ColorJitter(0.2, 0.2, 0.2 if colour else 0.0, rng=rng),
    }
    return augmentation.Compose([makers[name](seed + 1000 + i, value) for i, (name, value) in enumerate(names)])


def make_features(spec, seed):
    """The FeaturePipeline named by `spec` ("hog,bow:256"), or None for raw pixels."""
    from .. import features

    makers = {"hog": lambda cell: features.HOG(cell=(cell or HOG_CELL,) * 2),
              "color": lambda _: features.ColorHistogram(),
              "bow": lambda words: features.BagOfVisualWords(words, seed=seed),
              "pixels": lambda _: features.Pixels()}
    extractors = [makers[name](value) for name, value in parse_features(spec)]
    return features.FeaturePipeline(extractors) if extractors else None


def computed_features(extractor, cache_dir, key, splits):
    """Features of each split's images, computed once and cached as cache_dir/features-KEY.npz
    (with the fitted extractor, so a resumed run reuses both); the extractor is fitted on
    the first split (training) only. A damaged cache is a derived file: it is rebuilt, with a warning."""
    from ..serialize import FORMAT_VERSION, prefixed, read_container, write_container

    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    path = Path(cache_dir) / f"features-{digest}.npz"
    if path.is_file():
        try:
            header, arrays = read_container(path, "nnscratch-features", "feature cache")
            fitted = preprocessing.from_state_dict({**header["extractor"], "arrays": prefixed(arrays, "extractor")})
            return fitted, [arrays[f"split/{i}"] for i in range(len(splits))]
        except (ValueError, KeyError, TypeError) as error:
            warnings.warn(f"{path} (a feature cache) is damaged, computing the features again ({error})",
                          RunFileWarning, stacklevel=2)
    extractor.fit(splits[0])
    computed = [extractor.transform(images) for images in splits]
    state = extractor.state_dict()
    arrays = {f"split/{i}": f for i, f in enumerate(computed)}
    arrays.update({f"extractor/{k}": v for k, v in state["arrays"].items()})
    write_container(path, {"format": "nnscratch-features", "version": FORMAT_VERSION, "key": key,
                           "extractor": {"type": state["type"], "config": state["config"]}}, arrays)
    return extractor, computed


class ThenPreprocess:
    """Augment raw images, then preprocess them: the training batches' transform."""

    def __init__(self, augment, preprocess):
        self.augment, self.preprocess = augment, preprocess

    def __call__(self, images):
        return self.preprocess.transform(self.augment(images))
