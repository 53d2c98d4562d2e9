"""The HTML forms of a graph: one self-contained page (no network, no CDN; the JavaScript and CSS
are vendored in nnscratch/viz/static and inlined), or a fragment for Jupyter and report.html.

A graph with module calls gets views: all modules collapsed, all expanded, and each module
expanded alone (clicking a box opens it). A step-through adds buttons, a slider, the arrow keys
(Home/End: first/last frame) and the text of the current frame's local computation.
"""

from __future__ import annotations

import html
import itertools
import json
from importlib import resources

from .render import svg

_ids = itertools.count()
MANY_MODULES = 30  # beyond this, no view per module: collapsed and expanded only


def _static(name):
    return resources.files("nnscratch.viz").joinpath("static", name).read_text(encoding="utf-8")


def _json_for_script(value):
    """JSON that cannot end its <script> element early."""
    return json.dumps(value, ensure_ascii=False).replace("</", "<\\/")


def _views(graph, root_id):
    """[(view name, label, svg)] for a graph with module calls; one view otherwise."""
    if not graph.scopes:
        return [("graph", "graph", svg(graph, (), f"{root_id}-"))]
    keys = list(graph.scopes)
    views = [("collapsed", "collapse all", svg(graph, keys, f"{root_id}-c-")),
             ("expanded", "expand all", svg(graph, (), f"{root_id}-e-"))]
    if len(keys) <= MANY_MODULES:
        views += [(f"expand-{k}", "", svg(graph, [o for o in keys if o != k], f"{root_id}-{k}-")) for k in keys]
    return views


def _view_html(name, body, extra_class=""):
    return f'<div class="nnscratch-view {extra_class}" data-view="{name}">{body}</div>'


def fragment(graph, step_through=False, *, page=False):
    """The graph as an HTML fragment: its views (or its step-through) and the script that runs them."""
    root_id = f"nnscratch-viz-{next(_ids)}"
    page_attr = " data-page" if page else ""
    if step_through:
        if graph.show_grads and not graph.steps:
            raise ValueError("the step-through shows the backward pass the engine ran, and none has run yet: "
                             "call backward() on the output after viz.graph(output), or use viz.step_through(fn, *inputs)")
        frames = graph.frames()
        body = (f'<div class="nnscratch-controls"><button data-testid="step-first">« first</button>'
                f'<button data-testid="step-prev">◀ back</button><button data-testid="step-next">next ▶</button>'
                f'<button data-testid="step-last">last »</button>'
                f'<input type="range" min="0" max="{len(frames) - 1}" value="0" data-testid="step-slider" '
                f'aria-label="frame"><span data-testid="step-counter"></span></div>'
                f'<pre class="nnscratch-step-text" data-testid="step-text"></pre>'
                f'<p class="nnscratch-hint">← → step · Home / End: first / last frame</p>'
                + _view_html("steps", svg(graph, (), f"{root_id}-"), "nnscratch-stepper-view")
                + f'<script type="application/json" class="nnscratch-frames">{_json_for_script(frames)}</script>')
        initial = "steps"
    else:
        views = _views(graph, root_id)
        buttons = "".join(f'<button data-show-view="{name}">{label}</button>' for name, label, _ in views if label)
        hint = '<span class="nnscratch-hint">click a module to open it</span>' if graph.scopes else ""
        controls = f'<div class="nnscratch-controls">{buttons}{hint}</div>' if graph.scopes else ""
        body = controls + "".join(_view_html(name, body) for name, _, body in views)
        initial = "collapsed" if graph.collapse == "modules" else views[0][0] if not graph.scopes else "expanded"
    return (f'<style>{_static("viz.css")}</style>'
            f'<div class="nnscratch-viz" id="{root_id}" data-initial-view="{initial}" tabindex="0"{page_attr}>'
            f"{body}</div><script>{_static('viz.js')}\n"
            f'nnscratchViz.init(document.getElementById("{root_id}"));</script>')


def page(graph, step_through=False, title=None):
    """A whole HTML document around `fragment`."""
    title = title or ("nnscratch: forward and backward, step by step" if step_through else "nnscratch: computational graph")
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>body{{margin:1rem 2rem}}</style></head><body><h1 style=\"font:600 18px system-ui\">"
            f"{html.escape(title)}</h1>{fragment(graph, step_through, page=True)}</body></html>")
