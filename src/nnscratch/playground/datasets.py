"""The playground's data: the 2-D toy sets (drawn from a seed), the input features, and CSV uploads.

Every set lives in the square [-DOMAIN, DOMAIN]² that the page draws (TensorFlow Playground's
[-6, 6]), so `sin x1` sees about two periods. Classification sets return labels 0..K-1;
regression sets return a float target in [-1, 1].
"""

from __future__ import annotations

import csv
import io
import math

import numpy as np

from ..data import toy
from ..rng import as_generator

DOMAIN = 6.0
N_POINTS = 500
RADIUS = 5.0
CLASSIFICATION = ("circle", "xor", "gauss", "spiral", "moons", "rings")
REGRESSION = ("reg-plane", "reg-gauss")
DATASETS = CLASSIFICATION + REGRESSION + ("csv",)
MULTICLASS = ("gauss", "spiral", "rings")  # the sets that make sense with 2 to 5 classes
MAX_CLASSES = 5
MAX_CSV_ROWS = 10_000
MAX_CSV_LABELS = 10  # a CSV label column with more distinct values than this is refused
MAX_CSV_MAGNITUDE = 1e6  # |x1|, |x2| at most this: 1e39 is inf in float32, and x1² or whitening of 1e20
                         # overflows; the page would get "Out of range float values are not JSON compliant"
CSV_COLUMNS = ("x1", "x2", "label")

FEATURES = {  # name in the URL hash -> (label shown in the page, function of (x1, x2))
    "x1": ("x₁", lambda a, b: a),
    "x2": ("x₂", lambda a, b: b),
    "x1sq": ("x₁²", lambda a, b: a * a),
    "x2sq": ("x₂²", lambda a, b: b * b),
    "x1x2": ("x₁x₂", lambda a, b: a * b),
    "sinx1": ("sin x₁", lambda a, b: np.sin(a)),
    "sinx2": ("sin x₂", lambda a, b: np.sin(b)),
}


def features(points, names):
    """The chosen input features of 2-D points. points: (N, 2) -> (N, len(names)) float32."""
    a, b = points[:, 0].astype(np.float64), points[:, 1].astype(np.float64)
    return np.stack([FEATURES[name][1](a, b) for name in names], axis=1).astype(np.float32)


def _fill_square(X):
    """Scale points so the farthest lies at RADIUS from the origin: every set fills the same square."""
    return (X * (RADIUS / max(np.abs(X).max(), 1e-12))).astype(np.float32)


def _circle(n, noise, rng):
    """TensorFlow Playground's circle: class 0 inside radius 2.5, class 1 on a ring from 3.5 to 5."""
    inner = np.arange(n) < n // 2
    r = np.where(inner, rng.uniform(0, 0.5, n), rng.uniform(0.7, 1.0, n)) * RADIUS
    t = rng.uniform(0, 2 * np.pi, n)
    X = np.c_[r * np.sin(t), r * np.cos(t)] + rng.uniform(-RADIUS, RADIUS, (n, 2)) * noise
    return X, (~inner).astype(np.int64)


def _xor(n, noise, rng):
    """Points uniform in the square, the class 1 where x1·x2 < 0 (sign taken before the noise)."""
    X = rng.uniform(-RADIUS, RADIUS, (n, 2))
    X += np.sign(X) * 0.3  # a margin around the axes, as TensorFlow Playground has
    y = (X[:, 0] * X[:, 1] < 0).astype(np.int64)
    return X + rng.uniform(-RADIUS, RADIUS, (n, 2)) * noise, y


def _rings(n, n_classes, noise, rng):
    """K concentric rings; ring k has radius (k + 1) / K of the square, class k."""
    y = np.arange(n) % n_classes
    r = (y + 1) / n_classes * RADIUS + rng.standard_normal(n) * (0.15 + noise) * RADIUS / n_classes
    t = rng.uniform(0, 2 * np.pi, n)
    return np.c_[r * np.cos(t), r * np.sin(t)], y


def _regression(name, n, noise, rng):
    X = rng.uniform(-RADIUS, RADIUS, (n, 2))
    if name == "reg-plane":
        target = (X[:, 0] + X[:, 1]) / (2 * RADIUS)
    else:  # two Gaussian bumps of opposite sign
        bump = lambda cx, cy: np.exp(-((X[:, 0] - cx) ** 2 + (X[:, 1] - cy) ** 2) / 8)
        target = bump(2, 2) - bump(-2, -2)
    return X, target + rng.uniform(-1, 1, n) * noise


def generate(name, n_classes=2, noise=0.0, n=N_POINTS, rng=None):
    """Points of a named toy set. noise: a fraction in [0, 0.5]; n_classes used by gauss/spiral/rings.

    Returns (X: (n, 2) float32 inside [-DOMAIN, DOMAIN]², y: (n,) int64 labels or float32 targets).
    Raises ValueError for an unknown name.
    """
    rng = as_generator(rng)
    k = n_classes if name in MULTICLASS else 2
    if name == "circle":
        X, y = _circle(n, noise, rng)
    elif name == "xor":
        X, y = _xor(n, noise, rng)
    elif name == "gauss":
        X, y = toy.gaussians(n, k, std=0.3 + 1.5 * noise, radius=2.0, seed=rng)
        X = X * (RADIUS / 3.5)
    elif name == "spiral":
        X, y = toy.spirals(n, k, noise=0.1 + 0.8 * noise, seed=rng)
        X = _fill_square(X)
    elif name == "moons":
        X, y = toy.moons(n, noise=0.05 + 0.5 * noise, seed=rng)
        X = _fill_square(X - np.array([0.5, 0.25], np.float32))
    elif name == "rings":
        X, y = _rings(n, k, noise, rng)
    elif name in REGRESSION:
        X, y = _regression(name, n, noise, rng)
        return np.clip(X, -DOMAIN, DOMAIN).astype(np.float32), y.astype(np.float32)
    else:
        raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
    order = rng.permutation(n)
    return np.clip(X, -DOMAIN, DOMAIN)[order].astype(np.float32), np.asarray(y)[order].astype(np.int64)


def split(X, y, train_fraction):
    """Shuffle-free split: the first round(train_fraction·N) rows train, the rest test
    (the rows are already in random order). Each part keeps at least one row."""
    n_train = min(max(1, round(train_fraction * len(X))), len(X) - 1)
    return (X[:n_train], y[:n_train]), (X[n_train:], y[n_train:])


class CSVError(ValueError):
    """An uploaded CSV the playground refuses; the message says what to fix."""


def parse_csv(text, max_rows=MAX_CSV_ROWS):
    """A CSV upload with columns x1, x2, label (header row optional) -> (X: (N, 2) float32, y: (N,) int64).

    Labels are class names or numbers (equal numbers are one class, named by their first spelling),
    mapped to 0..K-1 in sorted order (numbers first). Raises CSVError naming the row and the fix for:
    wrong number of columns, a non-number in x1/x2, a non-finite one or one beyond ±MAX_CSV_MAGNITUDE,
    an empty or NaN label, more than `max_rows` rows, fewer than 2 classes, more than MAX_CSV_LABELS
    classes, no rows, a file the csv module cannot read.
    """
    rows, line_no, names = [], 0, {}  # names: a label's key (its number, or its text) -> the spelling seen first
    try:  # newline=None: a file with old Mac line ends (\r only) reads as rows too
        for line_no, row in enumerate(csv.reader(io.StringIO(text, newline=None)), start=1):
            if not row or all(not cell.strip() for cell in row):
                continue
            if len(row) != 3:
                plural, comma = ("", "; separate them with commas") if len(row) == 1 else ("s", "")  # ';' or tabs
                raise CSVError(f"row {line_no} has {len(row)} column{plural}; the CSV needs exactly 3: x1, x2, "
                               f"label{comma}")
            if not rows and [c.strip().lower() for c in row] == list(CSV_COLUMNS):
                continue  # the header: the first row that is not blank
            if len(rows) == max_rows:
                raise CSVError(f"the CSV has more than {max_rows:,} rows; keep at most {max_rows:,}")
            try:
                x1, x2 = float(row[0]), float(row[1])
            except ValueError:
                header = "; a header row must read x1,x2,label" if not rows else ""  # e.g. x,y,class
                raise CSVError(f"row {line_no}: x1 and x2 must be numbers, got {row[0].strip()!r}, "
                               f"{row[1].strip()!r}{header}") from None
            if not (np.isfinite(x1) and np.isfinite(x2)):
                raise CSVError(f"row {line_no}: x1 and x2 must be finite numbers, got {row[0].strip()}, "
                               f"{row[1].strip()}; give numbers or remove the row")
            if max(abs(x1), abs(x2)) > MAX_CSV_MAGNITUDE:
                raise CSVError(f"row {line_no}: x1 and x2 must be from {-MAX_CSV_MAGNITUDE:,.0f} to "
                               f"{MAX_CSV_MAGNITUDE:,.0f}, got {row[0].strip()}, {row[1].strip()}; rescale the columns")
            key = _label_key(row[2].strip(), line_no)
            names.setdefault(key, row[2].strip())
            rows.append((x1, x2, key))
    except csv.Error as error:  # e.g. a cell over the csv module's field limit
        raise CSVError(f"row {line_no + 1} cannot be read as CSV ({error}); save the file as plain "
                       f"comma-separated rows of x1, x2, label") from None
    if not rows:
        raise CSVError("the CSV has no data rows; give rows of x1, x2, label")
    keys = sorted(names, key=_key_order)
    labels = [names[key] for key in keys]
    if len(labels) < 2:
        raise CSVError(f"every row has the label {labels[0]!r}: a classifier needs at least 2 classes")
    if len(labels) > MAX_CSV_LABELS:
        raise CSVError(f"the label column has {len(labels)} distinct values; at most {MAX_CSV_LABELS} classes")
    index = {key: i for i, key in enumerate(keys)}
    X = np.array([(r[0], r[1]) for r in rows], dtype=np.float32)
    y = np.array([index[r[2]] for r in rows], dtype=np.int64)
    return X, y, labels


def _label_key(label, line_no):
    """What makes two labels one class: their number when they are numbers ("1", "1.0" and "1e0" are one
    class), else their text. Raises CSVError for an empty label or a NaN / infinite one (a missing value)."""
    if not label:
        raise CSVError(f"row {line_no} has no label; give every row a class in the third column")
    try:
        value = float(label)
    except ValueError:
        return label
    if not math.isfinite(value):
        raise CSVError(f"row {line_no}: the label {label!r} is a missing value, not a class; give every row a class "
                       f"(a name or a finite number)")
    return value


def _key_order(key):
    return (0, key, "") if isinstance(key, float) else (1, 0.0, key)
