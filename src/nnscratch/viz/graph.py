"""`viz.graph(output)`: the graph behind a tensor, with its values and (after backward) its gradients.

    g = viz.graph(loss)        # capture before backward: backward frees the graph
    loss.backward()
    g.save("loss.svg")         # or "loss.html"; in Jupyter, `g` draws itself
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..atomic import write_bytes_atomic
from . import format as fmt
from .capture import capture, watch_backward
from .render import svg as render_svg

COLLAPSE_CHOICES = (None, "modules")


class Graph:
    """A captured computational graph: `values` and `ops` by id, `order` (a forward order), the root's id.

    Gradients are read when drawn: a leaf's `.grad`, an intermediate tensor's retained `.grad`, or
    else the upstream gradient the engine handed to the op that made it (the same number).
    """

    def __init__(self, output, *, grads=True, collapse=None, labels=None):
        if collapse not in COLLAPSE_CHOICES:
            raise ValueError(f"collapse={collapse!r} is not one of None, 'modules'")
        self.values, self.ops, self.order = capture(output, labels)
        self.output = output
        self.root = self.order[-1]
        self.show_grads = bool(grads)
        self.steps = []  # BackwardStep per op, in the order the engine ran them
        self.step_through_default = False
        self.tensors = {}  # {name: leaf tensor} of a worked example (viz.examples), for checking its gradients
        self.scopes = {}
        for nid in self.order:
            node = self.values.get(nid) or self.ops[nid]
            if node.scope is not None:
                self.scopes.setdefault(node.scope.key, node.scope)
        if collapse == "modules" and not self.scopes:
            raise ValueError("collapse='modules' found no module calls: run the forward pass inside "
                             "`with viz.record_modules():` (or use viz.model_graph(model, x, y))")
        self.collapse = collapse
        if grads:
            watch_backward(self.ops, self.values, self.steps)

    # ----- gradients --------------------------------------------------------------------------
    def _last_steps(self):
        """{op id: its BackwardStep} of the latest backward through this graph."""
        latest = {}
        for step in self.steps:
            latest[step.op] = step
        return latest

    def grad_of(self, vid):
        """The gradient shown on value node `vid` (an array), or None before backward or without grads."""
        if not self.show_grads:
            return None
        v = self.values[vid]
        grad = v.tensor.grad
        if grad is not None:
            return np.asarray(grad)
        if v.producer is not None:
            step = self._last_steps().get(v.producer)
            return None if step is None else step.upstream
        return None

    def contributions(self, vid):
        """[(op id, gradient handed back to `vid` by that op)] for each use, from the latest backward."""
        latest, out = self._last_steps(), []
        for oid in dict.fromkeys(self.values[vid].consumers):
            step = latest.get(oid)
            if step is None:
                continue
            for inp, handed in zip(self.ops[oid].inputs, step.handed):
                if inp == vid and handed is not None:
                    out.append((oid, handed))
        return out

    def fanout_text(self, vid):
        """What a node used more than once says: its gradient is the sum of what came back."""
        parts = self.contributions(vid)
        uses = len(self.values[vid].consumers)
        if parts and all(np.size(g) == 1 for _, g in parts):
            return f"= {fmt.terms(g for _, g in parts)} (sum of {uses} uses)"
        return f"= sum of what came back from {uses} uses"

    def name_of(self, vid):
        """What the text calls a value: its label, "L" for an unnamed output, else its node id."""
        return self.values[vid].label or ("L" if vid == self.root else vid)

    # ----- drawing ----------------------------------------------------------------------------
    def collapsed_keys(self, collapse="default"):
        """The module-call keys drawn as boxes: all for "modules", none for None; "default" is the graph's own."""
        collapse = self.collapse if collapse == "default" else collapse
        return set(self.scopes) if collapse == "modules" else set()

    def svg(self, collapse="default") -> str:
        """The graph as an SVG document (collapsed by module when the graph was made with collapse="modules")."""
        return render_svg(self, self.collapsed_keys(collapse))

    def frames(self):
        """The step-through's frames (see viz.steps): forward node by node, then the engine's backward."""
        from .steps import frames

        return frames(self)

    def html(self, step_through=None) -> str:
        """A self-contained HTML page (no network): the graph, or with step_through=True the step-through."""
        from .page import page

        return page(self, self.step_through_default if step_through is None else step_through)

    def save(self, path, step_through=False):
        """Write the graph to `path`: ".svg" for the drawing, ".html" for a page (step_through=True: the
        forward/backward step-through). Written atomically; returns the Path."""
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix == ".svg":
            if step_through:
                raise ValueError("a step-through needs a page to run in: save it as .html, not .svg")
            text = self.svg()
        elif suffix in (".html", ".htm"):
            text = self.html(step_through)
        else:
            raise ValueError(f"Graph.save writes .svg or .html, not {path.name!r}; name the file "
                             f"{path.stem or 'graph'}.svg or {path.stem or 'graph'}.html")
        write_bytes_atomic(path, text.encode("utf-8"))
        return path

    def _repr_svg_(self):
        return self.svg()

    def _repr_html_(self):
        from .page import fragment

        return fragment(self, self.step_through_default)

    def __repr__(self):
        return f"<viz.Graph: {len(self.values)} values, {len(self.ops)} ops, {len(self.scopes)} module calls>"


def graph(output, *, grads=True, collapse=None, labels=None) -> Graph:
    """The computational graph that produced `output`, ready to draw as SVG or HTML.

    output: a Tensor still holding its graph (call this before `backward()`, or pass
    `retain_graph=True` to backward). grads: show gradients once backward has run (the engine's own:
    leaves' `.grad`, intermediates' retained `.grad`). collapse: None, or "modules" to draw each
    module call as one box (the forward must have run inside `viz.record_modules()`). labels: names
    for tensors, as {tensor: "x"}, {"x": tensor}, a Module (its `named_parameters`), or a list of these;
    a tensor's own `.name` and recorded parameter names are used otherwise.
    Raises RuntimeError if backward already freed the graph, ValueError for an unknown `collapse`.
    """
    return Graph(output, grads=grads, collapse=collapse, labels=labels)
