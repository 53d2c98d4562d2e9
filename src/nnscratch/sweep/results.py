"""A sweep's results: sweep.csv and sweep.json (one row per trial), and sweep.html (the table, and a
heatmap of the final metric over each pair of swept options, averaged over everything else)."""

from __future__ import annotations

import csv
import html
import io
import itertools
import json
import math
from pathlib import Path

from ..atomic import write_bytes_atomic

METRICS = ("test_accuracy", "test_loss", "val_accuracy", "epochs_run")
# matplotlib's viridis at five stops, for the heatmaps' cell colours (low -> high)
VIRIDIS = ((68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37))


def row(trial, result, folder):
    """One CSV/JSON row: trial id, status, swept options, the summary's metrics, seconds, error."""
    summary = result.get("summary") or {}
    out = {"id": trial.id, "status": result["status"], **trial.options}
    out.update({m: summary.get(m) for m in METRICS})
    out.update({"seconds": round(result.get("seconds", 0.0), 3), "error": result.get("error", ""),
                "folder": str(folder)})
    return out


def write_results(out_dir, spec, rows):
    """Write sweep.csv, sweep.json and sweep.html into out_dir (each atomically); returns their paths."""
    out_dir = Path(out_dir)
    paths = {kind: out_dir / f"sweep.{kind}" for kind in ("csv", "json", "html")}
    columns = ["id", "status", *spec.swept, *METRICS, "seconds", "error", "folder"]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows({k: ("" if v is None else v) for k, v in r.items()} for r in rows)
    write_bytes_atomic(paths["csv"], buffer.getvalue().encode())
    counts = {status: sum(r["status"] == status for r in rows) for status in sorted({r["status"] for r in rows})}
    document = {"name": spec.name, "metric": spec.metric, "swept": spec.swept, "base": spec.base,
                "counts": counts, "trials": rows}
    write_bytes_atomic(paths["json"], (json.dumps(document, indent=2) + "\n").encode())
    write_bytes_atomic(paths["html"], page(spec, rows, columns).encode())
    return paths


def mean_metric(rows, metric, a, b=None):
    """{(value of a, value of b): mean metric} over finished trials; b=None groups by a alone."""
    groups = {}
    for r in rows:
        value = r.get(metric)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            continue
        groups.setdefault((r.get(a), r.get(b) if b else None), []).append(float(value))
    return {key: sum(v) / len(v) for key, v in groups.items()}


def _colour(t):
    t = min(max(t, 0.0), 1.0) * (len(VIRIDIS) - 1)
    i = min(int(t), len(VIRIDIS) - 2)
    f = t - i
    r, g, b = (round(c0 + f * (c1 - c0)) for c0, c1 in zip(VIRIDIS[i], VIRIDIS[i + 1]))
    return f"rgb({r},{g},{b})", "#000" if (r * 0.299 + g * 0.587 + b * 0.114) > 140 else "#fff"


def _distinct(rows, name):
    return list(dict.fromkeys(r.get(name) for r in rows if name in r))


def heatmap(rows, metric, a, b=None):
    """An HTML table: rows are a's values, columns b's (or one column), cells the mean metric, coloured."""
    means = mean_metric(rows, metric, a, b)
    if not means:
        return ""
    low, high = min(means.values()), max(means.values())
    cols = _distinct(rows, b) if b else [None]
    head = "".join(f"<th>{html.escape(f'{b}={c}')}</th>" for c in cols) if b else f"<th>{html.escape(metric)}</th>"
    body = []
    for v in _distinct(rows, a):
        cells = []
        for c in cols:
            m = means.get((v, c))
            if m is None:
                cells.append("<td>-</td>")
                continue
            background, ink = _colour((m - low) / (high - low) if high > low else 1.0)
            cells.append(f'<td style="background:{background};color:{ink}" data-value="{m!r}">{m:.4f}</td>')
        body.append(f"<tr><th>{html.escape(f'{a}={v}')}</th>{''.join(cells)}</tr>")
    title = f"{metric}: {a} x {b}" if b else f"{metric} by {a}"
    return (f'<h2>{html.escape(title)}</h2><table class="heatmap" data-rows="{html.escape(a)}" '
            f'data-cols="{html.escape(b or "")}"><tr><th></th>{head}</tr>{"".join(body)}</table>')


def page(spec, rows, columns):
    """sweep.html: a heatmap per pair of options that vary (one per option when only one varies),
    then the table of trials, every value escaped."""
    varying = [n for n in spec.swept if len(_distinct(rows, n)) > 1]
    pairs = list(itertools.combinations(varying, 2)) or [(n, None) for n in varying]
    maps = "".join(heatmap(rows, spec.metric, a, b) for a, b in pairs)
    header = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    lines = "".join("<tr>" + "".join(f"<td>{html.escape(_cell(r.get(c)))}</td>" for c in columns) + "</tr>"
                    for r in rows)
    counts = ", ".join(f"{sum(r['status'] == s for r in rows)} {s}" for s in dict.fromkeys(r["status"] for r in rows))
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>sweep {html.escape(spec.name)}</title>
<style>body{{font-family:sans-serif;margin:2em}} table{{border-collapse:collapse;margin-bottom:2em}}
td,th{{border:1px solid #ccc;padding:4px 8px;text-align:right}} .heatmap td{{min-width:5em}}</style></head>
<body><h1>sweep {html.escape(spec.name)}</h1>
<p>{len(rows)} trials ({html.escape(counts)}); the heatmaps show the mean {html.escape(spec.metric)} of the
finished trials in each cell, over every other option and seed.</p>
{maps}
<h2>trials</h2><table id="trials"><tr>{header}</tr>{lines}</table>
</body></html>
"""


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)
