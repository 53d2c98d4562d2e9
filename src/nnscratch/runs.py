"""A training run as a folder: the job behind `nnscratch train`.

From a `RunConfig` it loads and verifies the data, fits the preprocessing on the training
split only, builds the model, trains it (checkpointing every epoch), evaluates it on the test
split and writes the run folder:

    config.json  metrics.jsonl  checkpoint.npz  model.npz  evaluation.npz  summary.json  report.html
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np

from . import data, nn, optim
from .atomic import write_bytes_atomic, write_npz
from .data import augment as augmentation
from .data import preprocess as preprocessing
from .nn import zoo
from .serialize import save
from .train import evaluate, fit

ACTIVATIONS = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "leaky-relu": nn.LeakyReLU,
               "elu": nn.ELU, "maxout": None}
PREPROCESSING = ("standardize", "pca:N", "whiten", "scale", "none")
AUGMENTATIONS = ("flip", "crop", "scale", "jitter")
WRONG_EXAMPLES = 16
LINEAR_LR = 0.01  # one layer on standardised pixels: the MLP's 0.05 overshoots (0.839 against 0.844)


def default_lr(model):
    """The learning rate a run gets when none is given: RunConfig's, or LINEAR_LR for a linear model."""
    return LINEAR_LR if model == "linear" else RunConfig.lr


@dataclass
class RunConfig:
    dataset: str = "fashion-mnist"
    model: str = "mlp:512,256"
    activation: str = "relu"
    init: str = "kaiming"
    dropout: float = 0.0
    optimizer: str = "sgd"
    lr: float = 0.05
    momentum: float = 0.9
    weight_decay: float = 0.0
    schedule: str = "warmup-step"
    epochs: int = 10
    batch_size: int = 128
    preprocess: str = "standardize"
    features: str = ""
    augment: str = ""
    val_fraction: float = 0.1
    early_stopping: int = 0
    seed: int = 0

    @classmethod
    def from_dict(cls, d):
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})

    def validate(self):
        """Raise ValueError naming the bad setting and the allowed values."""
        data.info(self.dataset)
        parse_model(self.model)
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {self.activation!r}; choose one of {', '.join(ACTIVATIONS)}")
        nn.init.get(self.init)
        if self.optimizer not in optim.OPTIMIZERS:
            raise ValueError(f"unknown optimizer {self.optimizer!r}; choose one of {', '.join(optim.OPTIMIZERS)}")
        optim.schedule.get(self.schedule, total_steps=1)
        make_preprocess(self.preprocess)
        parse_augment(self.augment)
        make_features(self.features, self.seed)
        if self.features and self.augment:
            raise ValueError("--features and --augment do not combine: features are computed once per image; "
                             "drop one of them")
        if not 0 <= self.val_fraction < 1:
            raise ValueError(f"val fraction must lie in [0, 1), got {self.val_fraction}")
        return self


def parse_model(spec):
    """"linear" -> []; "mlp:512,256" -> [512, 256] (the hidden widths); "cnn:32,64" and "cnn1d:..." ->
    nn.zoo.parse_cnn's (kind, conv widths, hidden widths)."""
    if spec == "linear":
        return []
    if spec.partition(":")[0] in zoo.KINDS:
        return zoo.parse_cnn(spec)
    kind, _, widths = spec.partition(":")
    try:
        hidden = [int(w) for w in widths.split(",")] if kind == "mlp" and widths else None
    except ValueError:
        hidden = None
    if not hidden or min(hidden) < 1:
        raise ValueError(f"unknown model {spec!r}; use 'linear', 'mlp:W1,W2,...' with positive widths "
                         f"(e.g. 'mlp:512,256'), 'cnn:C1,C2[,fcH]' or 'cnn1d:C1,C2'")
    return hidden


def build_model(config, in_features, n_classes):
    """Flatten, then Linear + activation (+ Dropout) per hidden width, then a Linear to the classes;
    or a CNN (nn.zoo.cnn_layers) for "cnn:..."/"cnn1d:..." specs. in_features: an int, or one sample's shape."""
    if config.model.partition(":")[0] in zoo.KINDS:
        if isinstance(in_features, (int, np.integer)):
            raise ValueError(f"--model {config.model} needs the samples' shape, not just their size")
        return zoo.cnn_layers(config.model, in_features, n_classes, config)
    in_features = in_features if isinstance(in_features, (int, np.integer)) else int(np.prod(in_features))
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
    if spec == "standardize":
        # per channel, as is usual for images: one mean and std for all pixels, so that shifted
        # (augmented) content meets the same scale everywhere; per pixel, a crop moving ink into a
        # near-constant border pixel divides it by a tiny std and the loss explodes
        return preprocessing.Standardize(per="channel")
    if spec == "scale":
        return preprocessing.Scale()
    if spec == "none":
        return preprocessing.Pipeline([preprocessing.Scale()])  # uint8 still needs to become floats
    if spec == "whiten":
        return preprocessing.Pipeline([preprocessing.Scale(), preprocessing.Whiten("zca", eps=1e-2)])
    if spec.startswith("pca:"):
        try:
            n = int(spec[4:])
        except ValueError:
            n = 0
        if n >= 1:
            return preprocessing.Pipeline([preprocessing.PCA(n), preprocessing.Standardize()])
    raise ValueError(f"unknown preprocessing {spec!r}; choose one of {', '.join(PREPROCESSING)}")


CROP_PADDING = 2


def spec_items(spec):
    """(item, name, value) for each comma-separated "name" or "name:value" of a spec."""
    for item in (s for s in (spec or "").split(",") if s):
        name, _, value = item.partition(":")
        yield item, name, value


def parse_augment(spec):
    """"flip,crop:1" -> [("flip", None), ("crop", 1)]; crop's number is its padding in pixels."""
    parsed = []
    for item, name, value in spec_items(spec):
        if name not in AUGMENTATIONS or (value and (name != "crop" or not value.isdigit())):
            raise ValueError(f"unknown augmentation {item!r}; choose from {', '.join(AUGMENTATIONS)} "
                             f"(crop:P pads by P pixels, default {CROP_PADDING})")
        parsed.append((name, int(value) if value else None))
    return parsed


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


FEATURES = ("hog", "hog:CELL", "color", "bow:WORDS", "pixels")
HOG_CELL = 4  # 28x28 images: 7x7 cells, 6x6 blocks, 1,296 features


def make_features(spec, seed):
    """The FeaturePipeline named by `spec` ("hog,bow:256"), or None for raw pixels."""
    from . import features

    extractors = []
    for item, name, value in spec_items(spec):
        if name == "hog" and (not value or value.isdigit()):
            cell = int(value or HOG_CELL)
            extractors.append(features.HOG(cell=(cell, cell)))
        elif name == "color" and not value:
            extractors.append(features.ColorHistogram())
        elif name == "bow" and value.isdigit():
            extractors.append(features.BagOfVisualWords(int(value), seed=seed))
        elif name == "pixels" and not value:
            extractors.append(features.Pixels())
        else:
            raise ValueError(f"unknown feature {item!r}; choose from {', '.join(FEATURES)}")
    return features.FeaturePipeline(extractors) if extractors else None


def computed_features(extractor, cache_dir, key, splits):
    """Features of each split's images, computed once and cached as cache_dir/features-KEY.npz
    (with the fitted extractor, so a resumed run reuses both); the extractor is fitted on
    the first split (training) only."""
    from .serialize import FORMAT_VERSION, prefixed, read_container, write_container

    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    path = Path(cache_dir) / f"features-{digest}.npz"
    if path.is_file():
        header, arrays = read_container(path, "nnscratch-features", "feature cache")
        fitted = preprocessing.from_state_dict({**header["extractor"], "arrays": prefixed(arrays, "extractor")})
        return fitted, [arrays[f"split/{i}"] for i in range(len(splits))]
    extractor.fit(splits[0])
    computed = [extractor.transform(images) for images in splits]
    state = extractor.state_dict()
    arrays = {f"split/{i}": f for i, f in enumerate(computed)}
    arrays.update({f"extractor/{k}": v for k, v in state["arrays"].items()})
    write_container(path, {"format": "nnscratch-features", "version": FORMAT_VERSION, "key": key,
                           "extractor": {"type": state["type"], "config": state["config"]}}, arrays)
    return extractor, computed


class _ThenPreprocess:
    """Augment raw images, then preprocess them: the training batches' transform."""

    def __init__(self, augment, preprocess):
        self.augment, self.preprocess = augment, preprocess

    def __call__(self, images):
        return self.preprocess.transform(self.augment(images))


def write_json(path, obj):
    write_bytes_atomic(path, (json.dumps(obj, indent=2) + "\n").encode())


def train_run(config, out_dir, *, resume=False, offline=False, progress=None, echo=print, callbacks=(),
              features_cache=None):
    """Train, evaluate and report one run into `out_dir`; returns the summary dict."""
    out_dir = Path(out_dir)
    if resume:
        config = RunConfig.from_dict(json.loads((out_dir / "config.json").read_text()))
        echo(f"resuming {out_dir} with its saved configuration")
    config.validate()
    out_dir.mkdir(parents=True, exist_ok=True)
    write_json(out_dir / "config.json", asdict(config))
    started = time.perf_counter()

    info = data.info(config.dataset)
    X, y = data.load(config.dataset, "train", download=not offline, progress=progress)
    X_test, y_test = data.load(config.dataset, "test", download=not offline, progress=progress)
    val = None
    if config.val_fraction:
        (X, y), (X_val, y_val) = data.train_val_split(X, y, config.val_fraction, seed=config.seed)
    test_images = X_test
    extractor = make_features(config.features, config.seed)
    if extractor is not None:
        key = {"features": config.features, "dataset": config.dataset, "seed": config.seed,
               "val_fraction": config.val_fraction, "sizes": [len(X), len(X_test)]}
        splits = [X, X_test] + ([X_val] if config.val_fraction else [])
        extractor, computed = computed_features(extractor, features_cache or out_dir, key, splits)
        X, X_test = computed[0], computed[1]
        X_val = computed[2] if config.val_fraction else None
        pre = preprocessing.Standardize().fit(X)  # per feature: features differ in scale and meaning
    else:
        pre = make_preprocess(config.preprocess).fit(X)
    if config.val_fraction:
        val = (pre.transform(X_val), y_val)
    augment = make_augment(config.augment, X.shape[1:], config.seed)
    train_inputs = X if augment is not None else pre.transform(X)
    model = build_model(config, pre.transform(X[:2]).shape[1:], len(info.classes))
    optimizer_kwargs = {"momentum": config.momentum} if config.optimizer == "sgd" else {}
    optimizer = optim.OPTIMIZERS[config.optimizer](model.parameters(), lr=config.lr,
                                                   weight_decay=config.weight_decay, **optimizer_kwargs)
    history = fit(model, nn.CrossEntropyLoss(), optimizer, (train_inputs, y), val=val, epochs=config.epochs,
                  batch_size=config.batch_size, schedule=config.schedule,
                  augment=_ThenPreprocess(augment, pre) if augment is not None else None, seed=config.seed,
                  out_dir=out_dir, resume=resume, early_stopping=config.early_stopping or None, progress=progress,
                  callbacks=callbacks)
    trained = time.perf_counter()

    result = evaluate(model, pre.transform(X_test), y_test)
    meta = {"dataset": config.dataset, "classes": list(info.classes), "sample_shape": list(info.sample_shape),
            "config": asdict(config)}
    saved_pre = pre if extractor is None else preprocessing.Pipeline([extractor, pre])
    saved_pre.sample_shape_ = tuple(info.sample_shape)
    save(model, out_dir / "model.npz", preprocess=saved_pre, meta=meta)
    write_evaluation(out_dir / "evaluation.npz", result, y_test, test_images)
    summary = {
        "dataset": config.dataset,
        "test_loss": result.loss,
        "test_accuracy": result.accuracy,
        "per_class_accuracy": dict(zip(info.classes, result.summary()["per_class_accuracy"])),
        "val_accuracy": history.val_accuracy[-1] if history.val_accuracy else None,
        "epochs_run": len(history),
        "best_epoch": history.best_epoch,
        "parameters": int(sum(p.size for p in model.parameters())),
        "timings": {"train_seconds": trained - started, "seconds_per_epoch": float(np.median(history.seconds)),
                    "evaluate_seconds": time.perf_counter() - trained,
                    "total_seconds": time.perf_counter() - started},
    }
    write_json(out_dir / "summary.json", summary)
    from .report import write_report  # here, not at the top: matplotlib loads only when a report is made

    summary["report"] = str(write_report(out_dir))
    return summary


def write_evaluation(path, result, labels, images):
    """Test probabilities and labels, and the most confidently wrong test images, for the report."""
    predicted = result.probabilities.argmax(axis=1)
    confidence = result.probabilities.max(axis=1)
    wrong = np.flatnonzero(predicted != labels)
    worst = wrong[np.argsort(-confidence[wrong])][:WRONG_EXAMPLES]
    write_npz(path, {"probabilities": result.probabilities.astype(np.float32), "labels": labels,
                     "confusion_matrix": result.confusion_matrix, "wrong_index": worst,
                     "wrong_images": images[worst], "example_image": images[:1]})
