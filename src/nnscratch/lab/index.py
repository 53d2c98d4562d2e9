"""Running every experiment and the lab's index page, DIR/index.html."""

from __future__ import annotations

import html
import json
from pathlib import Path

from ..atomic import write_bytes_atomic
from .base import EXPERIMENTS, run


def run_all(*, quick=False, seed=0, out="lab", echo=print):
    results = []
    for name in EXPERIMENTS:
        echo(f"{name} ...")
        result = run(name, quick=quick, seed=seed, out=out)
        echo(f"{name}: {result['verdict']} ({result['reason']})")
        results.append(result)
    write_index(out)
    return results


def write_index(out):
    """DIR/index.html: every experiment that has a result, with its claim, verdict, reason and figures."""
    out = Path(out)
    cards = []
    for name in EXPERIMENTS:
        path = out / name / "result.json"
        if not path.is_file():
            continue
        result = json.loads(path.read_text())
        colour = "#1a7f37" if result["verdict"] == "supported" else "#b42318"
        figures = "".join(f'<a href="{name}/{f}"><img src="{name}/{f}" alt="{html.escape(f)}"></a>'
                          for f in result["figures"])
        cards.append(f'<section id="{name}"><h2>{html.escape(name)}</h2><p><b>Claim.</b> {html.escape(result["claim"])}</p>'
                     f'<p><b style="color:{colour}">{result["verdict"]}</b>: {html.escape(result["reason"])}</p>'
                     f'<div class="figs">{figures}</div><p><a href="{name}/result.json">measured numbers</a></p></section>')
    page = ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>nnscratch lab</title><style>"
            "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2rem auto;color:#222}"
            ".figs img{max-width:100%;border:1px solid #ddd;margin:4px 0}section{margin-bottom:2.5rem}"
            "</style></head><body><h1>nnscratch lab: the lecture's claims, measured</h1>" + "".join(cards) + "</body></html>")
    write_bytes_atomic(out / "index.html", page.encode())
    return out / "index.html"
