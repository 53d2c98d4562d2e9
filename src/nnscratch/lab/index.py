"""Running every experiment and the lab's index page, DIR/index.html.

The page opens with a table of every claim, its verdict and its key number, each linking to the
experiment's section; a section lists the claim's measured parts and every figure with its caption.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

from ..atomic import write_bytes_atomic
from .base import EXPERIMENTS, MIXED, NOT_SUPPORTED, SUPPORTED, run

VERDICT_COLOURS = {SUPPORTED: "#1a7f37", MIXED: "#9a6700", NOT_SUPPORTED: "#b42318"}
STYLE = ("body{font-family:system-ui,sans-serif;max-width:1100px;margin:2rem auto;color:#222}"
         "figure{margin:1rem 0}figure img{max-width:100%;border:1px solid #ddd}figcaption{color:#444;font-size:.95rem}"
         "section{margin-bottom:2.5rem}table{border-collapse:collapse}td,th{padding:.3rem .7rem;"
         "border-bottom:1px solid #ddd;text-align:left;vertical-align:top}.verdict{font-weight:600}")


def run_all(*, quick=False, seed=0, out="lab", echo=print):
    """Run every experiment into OUT/NAME/ and write OUT/index.html; returns the result dicts."""
    results = []
    for name in EXPERIMENTS:
        echo(f"{name} ...")
        result = run(name, quick=quick, seed=seed, out=out)
        echo(f"{name}: {result['verdict']} ({result['reason']})")
        results.append(result)
    write_index(out)
    return results


def _verdict(verdict):
    return f'<span class="verdict" style="color:{VERDICT_COLOURS.get(verdict, "#222")}">{html.escape(verdict)}</span>'


def _summary_table(results):
    rows = "".join(f'<tr><td><a href="#{name}">{html.escape(name)}</a></td><td>{html.escape(r["claim"])}</td>'
                   f'<td>{_verdict(r["verdict"])}</td><td>{html.escape(r.get("key_number", ""))}</td></tr>'
                   for name, r in results.items())
    return ("<table><tr><th>experiment</th><th>claim</th><th>verdict</th><th>key number</th></tr>"
            f"{rows}</table>")


def _parts(result):
    items = []
    for part in result.get("parts", []):
        outcome = "holds" if part["holds"] else "does not hold"
        why = f" <i>Why:</i> {html.escape(part['why_not'])}" if part.get("why_not") else ""
        items.append(f"<li>{html.escape(part['claim'])}: <b>{outcome}</b> ({html.escape(part['numbers'])}).{why}</li>")
    return f"<ul>{''.join(items)}</ul>"


def _figures(name, result):
    captions = result.get("captions", {})
    return "".join(f'<figure><a href="{name}/{f}"><img src="{name}/{f}" alt="{html.escape(f)}"></a>'
                   f"<figcaption>{html.escape(captions.get(f, ''))}</figcaption></figure>" for f in result["figures"])


def write_index(out):
    """DIR/index.html: the summary table, then every experiment that has a result: claim, verdict, parts,
    figures with captions. Returns the page's path."""
    out = Path(out)
    results = {}
    for name in EXPERIMENTS:
        path = out / name / "result.json"
        if path.is_file():
            results[name] = json.loads(path.read_text())
    sections = [f'<section id="{name}"><h2>{html.escape(name)}</h2><p><b>Claim.</b> {html.escape(r["claim"])}</p>'
                f'<p>Verdict: {_verdict(r["verdict"])}</p>{_parts(r)}{_figures(name, r)}'
                f'<p><a href="{name}/result.json">measured numbers</a></p></section>' for name, r in results.items()]
    quick = [name for name, r in results.items() if r.get("quick")]
    note = (f"<p><b>Measured with <code>--quick</code></b> (smaller data and fewer steps) for: {', '.join(quick)}; "
            f"<code>nnscratch lab run all --out DIR</code> measures at full size.</p>" if quick else "")
    page = ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>nnscratch lab</title>"
            f"<style>{STYLE}</style></head><body><h1>nnscratch lab: the lecture's claims, measured</h1>"
            "<p>A claim is <b>supported</b> when every part of it holds in the measurements, <b>mixed</b> when "
            "some do, <b>not supported</b> when none do.</p>" + note
            + _summary_table(results) + "".join(sections) + "</body></html>")
    write_bytes_atomic(out / "index.html", page.encode())
    return out / "index.html"
