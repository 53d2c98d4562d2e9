"""`RunConfig`: the settings of one training run, built once and validated once, completely.

Every field is checked by `RunConfig.validate()`, and every bad field is reported together in one
`ConfigError` (one message per field). A message names fields through a `{field}` placeholder, so
the same problem reads in Python's terms (`val_fraction`) from Python and in the command line's
(`--val-fraction`) from `nnscratch train`: see `ConfigError.describe`.
"""

from __future__ import annotations

import math
import numbers
import re
from dataclasses import asdict, dataclass, fields

ACTIVATION_NAMES = ("relu", "sigmoid", "tanh", "leaky-relu", "elu", "maxout")
PREPROCESSING = ("standardize", "pca:N", "whiten", "scale", "none")
AUGMENTATIONS = ("flip", "crop", "scale", "jitter")
FEATURES = ("hog", "hog:CELL", "color", "bow:WORDS (WORDS >= 2)", "pixels")
CROP_PADDING = 2
LINEAR_LR = 0.01  # one layer on standardised pixels: the MLP's 0.05 overshoots (0.839 against 0.844)


@dataclass(frozen=True)
class Problem:
    """One bad field: `text` may name fields as `{field_name}` placeholders."""

    field: str
    text: str

    def describe(self, label, name):
        """The message, with `label(field)` leading and `name(field)` filling each `{field}`
        placeholder; literal braces (a user's value, see `literal`) are written {{ and }}.
        A problem of the whole config (field "") has no label."""
        text = re.sub(r"\{\{|\}\}|\{(\w+)\}", lambda m: name(m[1]) if m[1] else m[0][0], self.text)
        return f"{label(self.field)}: {text}" if self.field else text


def literal(text):
    """`text` (e.g. a user's value) with its braces escaped, for a Problem's text."""
    return str(text).replace("{", "{{").replace("}", "}}")


class ConfigError(ValueError):
    """A RunConfig with bad fields; `.problems` holds one `Problem` per bad field."""

    def __init__(self, problems, where=None):
        self.problems, self.where = list(problems), where
        super().__init__(self.describe())

    def describe(self, label=None, name=None):
        """All problems on one line, "; "-separated. By default in Python's names (`lr: ...`);
        the CLI passes label=lambda f: f"argument --{f}" and name=lambda f: f"--{f}"."""
        name = name or (lambda field: field)
        label = label or name
        text = "; ".join(p.describe(label, name) for p in self.problems)
        return f"{self.where}: {text}" if self.where else text


def _json_type(value):
    """The JSON name of a parsed value's type, with its article: a list is "an array", a str "a string"."""
    names = {list: "an array", str: "a string", bool: "a boolean", int: "a number", float: "a number",
             type(None): "null"}
    return names.get(type(value), type(value).__name__)


def default_lr(model):
    """The learning rate a run gets when none is given: RunConfig's, or LINEAR_LR for a linear model."""
    return LINEAR_LR if model == "linear" else RunConfig.lr


def spec_items(spec):
    """(item, name, value) for each comma-separated "name" or "name:value" of a spec string."""
    for item in (s for s in (spec or "").split(",") if s):
        name, _, value = item.partition(":")
        yield item, name, value


def parse_model(spec):
    """"linear" -> []; "mlp:512,256" -> [512, 256] (the hidden widths); "cnn:32,64[,fc128]" and
    "cnn1d:..." -> nn.zoo.parse_cnn's (kind, conv widths, hidden widths). Raises ValueError otherwise."""
    from ..nn import zoo

    if spec == "linear":
        return []
    if str(spec).partition(":")[0] in zoo.KINDS:
        return zoo.parse_cnn(spec)
    kind, _, widths = str(spec).partition(":")
    try:
        hidden = [int(w) for w in widths.split(",")] if kind == "mlp" and widths else None
    except ValueError:
        hidden = None
    if not hidden or min(hidden) < 1:
        raise ValueError(f"unknown model {spec!r}; use 'linear', 'mlp:W1,W2,...' with positive widths "
                         f"(e.g. 'mlp:512,256'), 'cnn:C1,C2[,fcH]' or 'cnn1d:C1,C2'")
    return hidden


def parse_preprocess(spec):
    """"standardize" -> ("standardize", None); "pca:50" -> ("pca", 50). Raises ValueError otherwise."""
    if spec in ("standardize", "scale", "none", "whiten"):
        return spec, None
    if isinstance(spec, str) and spec.startswith("pca:") and spec[4:].isdigit() and int(spec[4:]) >= 1:
        return "pca", int(spec[4:])
    raise ValueError(f"unknown preprocessing {spec!r}; choose one of {', '.join(PREPROCESSING)}")


def parse_augment(spec):
    """"flip,crop:1" -> [("flip", None), ("crop", 1)]; crop's number is its padding in pixels."""
    parsed = []
    for item, name, value in spec_items(spec):
        if name not in AUGMENTATIONS or (value and (name != "crop" or not value.isdigit())):
            raise ValueError(f"unknown augmentation {item!r}; choose from {', '.join(AUGMENTATIONS)} "
                             f"(crop:P pads by P pixels, default {CROP_PADDING})")
        parsed.append((name, int(value) if value else None))
    return parsed


def parse_features(spec):
    """"hog:4,bow:256" -> [("hog", 4), ("bow", 256)]; value None where the feature takes none."""
    parsed = []
    for item, name, value in spec_items(spec):
        if name == "hog" and (not value or value.isdigit()) and value != "0":
            parsed.append((name, int(value) if value else None))
        elif name in ("color", "pixels") and not value:
            parsed.append((name, None))
        elif name == "bow" and value.isdigit() and int(value) >= 2:  # BagOfVisualWords needs two words
            parsed.append((name, int(value)))
        else:
            raise ValueError(f"unknown feature {item!r}; choose from {', '.join(FEATURES)}")
    return parsed


@dataclass
class RunConfig:
    """The settings of one `nnscratch train` run (config.json in the run folder)."""

    dataset: str = "fashion-mnist"
    model: str = "mlp:512,256"
    activation: str = "relu"
    init: str = "kaiming"
    dropout: float = 0.0
    optimizer: str = "sgd"
    lr: float = 0.05
    momentum: float = 0.9
    weight_decay: float = 0.0
    label_smoothing: float = 0.0
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
    def from_dict(cls, d, where=None):
        """A RunConfig from a dict (config.json); unknown keys are an error naming them.
        Raises ConfigError (a ValueError) prefixed by `where` (e.g. the file) when given."""
        if not isinstance(d, dict):
            raise ConfigError([Problem("", f"expected a JSON object of settings ({{{{\"model\": ...}}}}), got "
                                           f"{_json_type(d)}")], where)
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ConfigError([Problem(unknown[0], literal(f"unknown setting(s) {', '.join(unknown)}; known: "
                                                           f"{', '.join(sorted(known))}"))], where)
        return cls(**d)

    @classmethod
    def from_args(cls, ns):
        """A RunConfig from `nnscratch train`'s parsed options: each option left out (None) takes
        RunConfig's default, except lr, whose default depends on the model (`default_lr`)."""
        config = cls(**typed_settings(ns))
        if getattr(ns, "lr", None) is None:
            config.lr = default_lr(config.model)
        return config

    def to_dict(self):
        """The settings as a JSON-able dict (what config.json holds)."""
        return asdict(self)

    def validate(self):
        """Check every field; returns self, or raises one ConfigError listing every bad field."""
        problems = [Problem(name, literal(text)) for name, text in _field_problems(self)]
        problems += _combination_problems(self)
        if problems:
            raise ConfigError(problems)
        return self


def typed_settings(ns):
    """{field: value} of the RunConfig options given on the command line (those not None)."""
    names = {f.name for f in fields(RunConfig)}
    return {k: v for k, v in vars(ns).items() if k in names and v is not None}


# ----- the checks, one per field ------------------------------------------------------------------
def _number(value, integer):
    kinds = numbers.Integral if integer else numbers.Real
    return isinstance(value, kinds) and not isinstance(value, bool) and math.isfinite(value)


def _range_check(integer, test, requirement):
    def check(value):
        """None, or what is wrong with `value`."""
        if not _number(value, integer) or not test(value):
            shown = f"{value:g}" if _number(value, False) else repr(value)
            return f"it must be {requirement}, got {shown}"
        return None

    return check


def _raises(parse):
    def check(value):
        """None, or the parser's message for `value`."""
        try:
            parse(value)
        except (ValueError, TypeError) as error:
            return str(error)
        return None

    return check


def _choice(options_of):
    def check(value):
        """None, or the allowed choices."""
        options = options_of()
        return None if value in options else f"unknown value {value!r}; choose one of {', '.join(options)}"

    return check


def _dataset(name):
    from .. import data

    data.info(name)


def _init(name):
    from .. import nn

    if not isinstance(name, str):
        raise ValueError(f"unknown init {name!r}; give its name")
    nn.init.get(name)


def _schedule(name):
    from ..optim import schedule

    schedule.get(name, total_steps=1)


def _optimizers():
    from .. import optim

    return list(optim.OPTIMIZERS)


def _text(parse):
    def check(value):
        """None, or what is wrong with the text `value`."""
        return f"it must be text, got {value!r}" if not isinstance(value, str) else _raises(parse)(value)

    return check


CHECKS = {
    "dataset": _raises(_dataset),
    "model": _text(parse_model),
    "activation": _choice(lambda: ACTIVATION_NAMES),
    "init": _raises(_init),
    "dropout": _range_check(False, lambda v: 0 <= v < 1, "a number in [0, 1)"),
    "optimizer": _choice(_optimizers),
    "lr": _range_check(False, lambda v: v > 0, "a positive number"),
    "momentum": _range_check(False, lambda v: 0 <= v < 1, "a number in [0, 1)"),
    "weight_decay": _range_check(False, lambda v: v >= 0, "a number >= 0"),
    "label_smoothing": _range_check(False, lambda v: 0 <= v <= 1, "a number in [0, 1] (0.1 is usual)"),
    "schedule": _raises(_schedule),
    "epochs": _range_check(True, lambda v: v >= 1, "a positive integer"),
    "batch_size": _range_check(True, lambda v: v >= 1, "a positive integer"),
    "preprocess": _text(parse_preprocess),
    "features": _text(parse_features),
    "augment": _text(parse_augment),
    "val_fraction": _range_check(False, lambda v: 0 <= v < 1, "a number in [0, 1)"),
    "early_stopping": _range_check(True, lambda v: v >= 0, "an integer >= 0 (0: off)"),
    "seed": _range_check(True, lambda v: v >= 0, "an integer >= 0"),
}


def _field_problems(config):
    for f in fields(config):
        text = CHECKS[f.name](getattr(config, f.name))
        if text:
            yield f.name, text


def _combination_problems(config):
    problems = []
    if config.features and config.augment and isinstance(config.features, str):
        problems.append(Problem("features", "{features} and {augment} do not combine: features are computed "
                                            "once per image; drop one of them"))
    if _number(config.early_stopping, True) and config.early_stopping > 0 and config.val_fraction == 0:
        problems.append(Problem("early_stopping", "{early_stopping} needs validation data, but {val_fraction} "
                                                  "is 0: set {val_fraction} above 0 (e.g. 0.1) or drop "
                                                  "{early_stopping}"))
    return problems
