"""A sweep's spec (TOML or JSON) and the trials it expands to.

    name = "lr-x-schedule"            # optional: the default output folder is runs/NAME
    metric = "test_accuracy"          # optional: the summary key the heatmaps show
    seeds = [0, 1]                    # optional: every point runs once per seed

    [base]                            # training options shared by every trial (RunConfig's fields)
    dataset = "fashion-mnist"
    epochs = 5

    [grid]                            # every combination of these ...
    lr = [0.01, 0.05, 0.1]
    schedule = ["constant", "cosine"]

    [random]                          # ... and/or `trials` random draws of these
    trials = 8
    seed = 0                          # the draws' own seed (the same spec gives the same draws)
    dropout = {low = 0.0, high = 0.5}
    lr = {low = 0.001, high = 0.3, log = true}
    batch_size = [32, 64, 128]        # a list: one of these, uniformly

With both, each random draw is combined with every grid point. Options are RunConfig's fields
(the `nnscratch train` options with `_` for `-`); each trial's config is validated before any runs.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import re
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np

from ..runs import RunConfig, default_lr
from .results import METRICS

DEFAULT_METRIC = "test_accuracy"
SPEC_KEYS = ("name", "out", "metric", "seeds", "base", "grid", "random", "offline")
MAX_SLUG = 80


@dataclass
class Trial:
    """One run of a sweep: its folder name, the swept values it takes and its full config (a dict)."""

    id: str
    options: dict  # the swept options (and seed) of this trial, in the spec's order
    config: dict  # every RunConfig field


@dataclass
class Spec:
    """A parsed spec. `swept` names the options that vary, in the spec's order."""

    name: str = "sweep"
    out: str | None = None
    metric: str = DEFAULT_METRIC
    seeds: list = field(default_factory=list)
    base: dict = field(default_factory=dict)
    grid: dict = field(default_factory=dict)
    random: dict = field(default_factory=dict)
    offline: bool = False

    @property
    def swept(self):
        """The swept option names, in spec order (grid, then random search), then "seed" when seeds vary."""
        names = list(self.grid) + [k for k in self.random if k not in ("trials", "seed") and k not in self.grid]
        return names + (["seed"] if self.seeds and "seed" not in names else [])


def load_spec(source):
    """A Spec from a path (.toml or .json), a dict, or a Spec. Raises ValueError naming each problem
    (unknown keys or options, empty lists, bad ranges) and FileNotFoundError for a missing file."""
    if isinstance(source, Spec):
        return source
    if isinstance(source, (str, Path)):
        path = Path(source)
        if path.is_dir():
            raise IsADirectoryError(f"sweep spec {path} is a folder; give the .toml or .json file in it")
        if not path.is_file():
            raise FileNotFoundError(f"sweep spec {path} not found; give a .toml or .json file")
        d = _read(path)
        if isinstance(d, dict):
            d.setdefault("name", path.stem)
    elif isinstance(source, dict):
        d = dict(source)
    else:
        raise TypeError(f"a sweep spec is a path, a dict or a Spec, not {type(source).__name__}")
    if not isinstance(d, dict):
        raise ValueError(f"sweep spec: the spec must be a table of keys ({', '.join(SPEC_KEYS)}), "
                         f"not a {type(d).__name__}")
    unknown = sorted(set(d) - set(SPEC_KEYS))
    if unknown:
        raise ValueError(f"sweep spec: unknown key(s) {', '.join(unknown)}; a spec has {', '.join(SPEC_KEYS)}")
    _check_types(d)
    spec = Spec(**d)
    spec.seeds = [spec.seeds] if isinstance(spec.seeds, int) else list(spec.seeds)
    _check(spec)
    return spec


def _check_types(d):
    """The spec's own keys have the right kinds of value (before any is used)."""
    problems = [f"{key} must be {what}, got {d[key]!r}" for key, ok, what in (
        ("name", lambda v: isinstance(v, str) and v.strip(), "a non-empty string"),
        ("out", lambda v: v is None or (isinstance(v, str) and v.strip()), "a folder path (a string)"),
        ("metric", lambda v: v in METRICS, f"one of {', '.join(METRICS)}"),
        ("seeds", lambda v: isinstance(v, (int, list)) and not isinstance(v, bool), "an integer or a list of integers"),
        ("offline", lambda v: isinstance(v, bool), "true or false"),
        ("base", lambda v: isinstance(v, dict), "a table of options ([base])"),
        ("grid", lambda v: isinstance(v, dict), "a table of option = [values] ([grid])"),
        ("random", lambda v: isinstance(v, dict), "a table ([random])"),
    ) if key in d and not ok(d[key])]
    if problems:
        raise ValueError("sweep spec: " + "; ".join(problems))


def _read(path):
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not a text file; a sweep spec is a .toml or .json text file") from None
    if path.suffix == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(f"{path}: not valid JSON ({error})") from None
    try:
        import tomllib
    except ImportError:  # Python 3.10
        try:
            import tomli as tomllib
        except ImportError:
            raise ImportError("reading a TOML spec on Python 3.10 needs tomli: pip install tomli "
                              "(or write the spec as JSON)") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"{path}: not valid TOML ({error})") from None


def _check(spec):
    known = [f.name for f in fields(RunConfig)]
    problems = []
    for section in ("base", "grid", "random"):
        names = [k for k in getattr(spec, section) if not (section == "random" and k in ("trials", "seed"))]
        bad = [k for k in names if k not in known]
        if bad:
            problems.append(f"[{section}] has unknown option(s) {', '.join(bad)}; options are {', '.join(known)}")
    for name, values in spec.grid.items():
        if not isinstance(values, list) or not values:
            problems.append(f"[grid] {name} must be a non-empty list of values, got {values!r}")
    if spec.random:
        trials = spec.random.get("trials")
        if not isinstance(trials, int) or isinstance(trials, bool) or trials < 1:
            problems.append(f"[random] needs trials = N (a positive integer), got {trials!r}")
        seed = spec.random.get("seed", 0)
        if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
            problems.append(f"[random] seed must be an integer >= 0, got {seed!r}")
        for name, how in spec.random.items():
            if name not in ("trials", "seed") and not _valid_distribution(how):
                problems.append(f"[random] {name} must be a non-empty list or {{low = A, high = B}} with A < B "
                                f"(log = true needs A > 0), got {how!r}")
    if any(not isinstance(s, int) for s in spec.seeds):
        problems.append(f"seeds must be integers, got {spec.seeds!r}")
    if problems:
        raise ValueError("sweep spec: " + "; ".join(problems))


def _valid_distribution(how):
    if isinstance(how, list):
        return bool(how)
    if not isinstance(how, dict) or set(how) - {"low", "high", "log"} or not {"low", "high"} <= set(how):
        return False
    low, high, log = how["low"], how["high"], how.get("log", False)
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (low, high))
    return numbers and isinstance(log, bool) and low < high and (not log or low > 0)


def _draw(how, rng):
    if isinstance(how, list):
        return how[int(rng.integers(len(how)))]
    low, high = how["low"], how["high"]
    if how.get("log"):
        value = math.exp(rng.uniform(math.log(low), math.log(high)))
    else:
        value = rng.uniform(low, high)
    return int(round(value)) if isinstance(low, int) and isinstance(high, int) else float(value)


def points(spec):
    """The swept options of every trial (a list of dicts), grid x random draws x seeds, in a fixed order."""
    grid = [dict(zip(spec.grid, values)) for values in itertools.product(*spec.grid.values())]
    draws = [{}]
    if spec.random:
        rng = np.random.default_rng(spec.random.get("seed", 0))
        options = {k: v for k, v in spec.random.items() if k not in ("trials", "seed")}
        draws = [{k: _draw(how, rng) for k, how in options.items()} for _ in range(spec.random["trials"])]
    seeds = [{"seed": s} for s in spec.seeds] or [{}]
    return [{**g, **r, **s} for g in grid for r in draws for s in seeds]


def trials(spec):
    """Every Trial of the spec, each config validated (RunConfig.validate); raises ValueError naming the
    first bad trial's options and the problem."""
    out = []
    for options in points(spec):
        settings = {**spec.base, **options}
        settings.setdefault("lr", default_lr(settings.get("model", RunConfig.model)))
        config = RunConfig.from_dict(settings)
        try:
            config.validate()
        except ValueError as error:
            raise ValueError(f"sweep spec: the trial {options or spec.base} is not a valid run: {error}") from None
        config = asdict(config)
        out.append(Trial(trial_id(options, config), options, config))
    ids = [t.id for t in out]
    if len(set(ids)) != len(ids):
        raise ValueError("sweep spec: two trials have the same settings; drop the repeated values")
    return out


def trial_id(options, config):
    """A folder name: the swept values, readable, then a digest of the whole config (so a change to the
    base options makes new folders instead of reusing finished ones)."""
    slug = "_".join(f"{k}-{v}" for k, v in options.items()) or "base"
    slug = re.sub(r"[^A-Za-z0-9._=-]+", "-", slug)[:MAX_SLUG]
    digest = hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:8]
    return f"{slug}-{digest}"
