"""Numbers and arrays as a learner reads them on a node: values up to six elements, statistics beyond."""

from __future__ import annotations

import numpy as np

SHOWN_ELEMENTS = 6  # tensors up to this size are written out; larger ones as mean, std, min, max


def number(x) -> str:
    """A number in at most 4 significant digits; whole numbers without a decimal point ("-4", "0.1966")."""
    x = float(x)
    if not np.isfinite(x):
        return str(x)
    if x == int(x) and abs(x) < 1e6:
        return str(int(x))
    return f"{x:.4g}"


def terms(values) -> str:
    """Scalars as a sum a learner reads: "1 + (-4)" (a negative term after the first in brackets)."""
    texts = [number(np.reshape(v, ())) for v in values]
    return " + ".join(t if k == 0 or not t.startswith("-") else f"({t})" for k, t in enumerate(texts))


def array(a) -> str:
    """`a` written out when it has at most SHOWN_ELEMENTS elements, else its statistics."""
    a = np.asarray(a)
    if a.size == 1:
        return number(a.reshape(()))
    if a.size <= SHOWN_ELEMENTS:
        return _nested(a)
    if a.dtype.kind not in "fiub":
        return f"{a.size} elements"
    f = a.astype(np.float64)
    return f"mean {number(f.mean())} std {number(f.std())} min {number(f.min())} max {number(f.max())}"


def _nested(a):
    if a.ndim == 0:
        return number(a)
    if a.ndim == 1:
        return "[" + ", ".join(number(v) for v in a) + "]"
    return "[" + ", ".join(_nested(row) for row in a) + "]"


def shape_dtype(a) -> str:
    """The shape and dtype as a node says them: "(1, 3) float32", or "scalar float64" for a 0-d array."""
    a = np.asarray(a)
    return f"{'scalar' if a.ndim == 0 else tuple(a.shape)} {a.dtype}"


def wrap(text, width):
    """Words of `text` in lines of at most `width` characters (a longer word gets its own line)."""
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return lines + ([line] if line else [])
