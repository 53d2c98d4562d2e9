"""A captured graph as SVG: what each node says, and the drawing itself.

A value node is a box: its name, shape and dtype, its value, and (after backward) its gradient;
a node used more than once also says that its gradient is the sum of what came back. An op node
is a rounded box with its gate and its backward rule. A collapsed module call is one box with
its gates, its output and its parameters' gradients. Every node is a `<g>` with `data-testid`
("value-node", "op-node", "module-node") and `data-node` (the node's id in the graph).
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import numpy as np

from . import format as fmt
from .layout import layout

CHAR_WIDTH = 6.7  # px per character of the 11 px monospace font
LINE_HEIGHT = 15
PAD = 7
RULE_WIDTH = 28  # characters per line of an op's rule

STYLE = """
.nnscratch-graph{font:11px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.nnscratch-graph .edge{fill:none;stroke:#8a8f98;stroke-width:1.2}
.nnscratch-graph .value rect{fill:#fff;stroke:#4a5568}
.nnscratch-graph .value[data-kind=parameter] rect{fill:#fff8e6;stroke:#b7791f}
.nnscratch-graph .value[data-kind=constant] rect{fill:#f4f4f5;stroke:#a1a1aa}
.nnscratch-graph .op rect{fill:#e8f0fe;stroke:#3b6fd8}
.nnscratch-graph .module rect{fill:#f0fdf4;stroke:#2f855a;stroke-width:1.5}
.nnscratch-graph .module{cursor:pointer}
.nnscratch-graph .title,.nnscratch-graph .gate{font-weight:bold}
.nnscratch-graph .rule{fill:#3d4b63;font-style:italic}
.nnscratch-graph .meta{fill:#6b7280}
.nnscratch-graph .grad,.nnscratch-graph .fanout{fill:#c53030}
.nnscratch-graph .param{fill:#8a5a00}
.nnscratch-graph .current rect{stroke:#e11d48;stroke-width:3}
"""


@dataclass
class Box:
    """A node as drawn: its kind ("value", "op", "module"), text lines as (text, class), attributes."""

    id: str
    kind: str
    lines: list
    attrs: dict = field(default_factory=dict)
    tooltip: str = ""

    @property
    def size(self):
        """(width, height) in px, from the longest line and the number of lines."""
        width = max(len(text) for text, _ in self.lines) * CHAR_WIDTH + 2 * PAD
        return (max(width, 40.0), len(self.lines) * LINE_HEIGHT + 2 * PAD - 3)


def value_box(graph, v):
    """A value node: name, shape and dtype, value, and (after backward) the gradient and any fan-out sum."""
    t = v.tensor
    lines = [(graph.name_of(v.id), "title")]  # what the step-through's text calls it
    lines.append((fmt.shape_dtype(t.data), "meta"))
    lines.append(("data " + fmt.array(t.data), "data"))
    grad = graph.grad_of(v.id)
    if grad is not None:
        if len(v.consumers) > 1:
            lines.append((graph.fanout_text(v.id), "fanout"))
        lines.append(("grad " + fmt.array(grad), "grad"))
    tooltip = f"{v.label or v.id}: {v.kind}" + (f", used {len(v.consumers)} times" if len(v.consumers) > 1 else "")
    return Box(v.id, "value", lines, {"data-kind": v.kind}, tooltip)


def op_box(op):
    """An op node: its gate (with constants such as axis=1) and its backward rule in words."""
    lines = [(op.gate + _constants_text(op.constants), "gate")]
    lines += [(line, "rule") for line in fmt.wrap(op.rule, RULE_WIDTH)]
    return Box(op.id, "op", lines, {"data-gate": op.gate}, op.rule)


def _constants_text(constants):
    shown = {k: v for k, v in constants.items() if v is not None and k != "keepdims" and not isinstance(v, np.ndarray)}
    return "(" + ", ".join(f"{k}={v}" for k, v in shown.items()) + ")" if shown else ""


def module_box(graph, scope, members):
    """One module call: `members` are its op and value nodes."""
    ops = [graph.ops[m] for m in members if m in graph.ops]
    gates = sorted({op.gate for op in ops})
    lines = [(scope.title, "title"), ("gates: " + ", ".join(gates), "meta")]
    results = [graph.values[m] for m in members if m in graph.values and graph.values[m].kind == "result"]
    outputs = [v for v in results if v.id == graph.root or any(c not in members for c in v.consumers)]
    for v in outputs[-1:]:
        lines.append(("out " + fmt.shape_dtype(v.tensor.data), "meta"))
        lines.append(("data " + fmt.array(v.tensor.data), "data"))
        grad = graph.grad_of(v.id)
        if grad is not None:
            lines.append(("grad " + fmt.array(grad), "grad"))
    for m in members:
        v = graph.values.get(m)
        if v is not None and v.kind == "parameter":
            grad = graph.grad_of(m)
            name = v.label.rsplit(".", 1)[-1] if v.label else m
            text = f"{name} {fmt.shape_dtype(v.tensor.data)}" + (f" grad {fmt.array(grad)}" if grad is not None else "")
            lines.append((text, "param"))
    return Box("m" + scope.key, "module", lines, {"data-scope": scope.key}, scope.title + ": click to expand")


def boxes_and_edges(graph, collapsed):
    """The nodes to draw, in forward order, and the edges between them, with the module calls whose
    keys are in `collapsed` drawn as one box each."""
    members, where = {}, {}
    for nid in graph.order:
        node = graph.values.get(nid) or graph.ops[nid]
        if node.scope is not None and node.scope.key in collapsed:
            where[nid] = "m" + node.scope.key
            members.setdefault(node.scope.key, (node.scope, []))[1].append(nid)
        else:
            where[nid] = nid
    boxes, seen = [], set()
    for nid in graph.order:
        shown = where[nid]
        if shown in seen:
            continue
        seen.add(shown)
        if shown != nid:
            scope, inside = members[shown[1:]]
            boxes.append(module_box(graph, scope, inside))
        elif nid in graph.values:
            boxes.append(value_box(graph, graph.values[nid]))
        else:
            boxes.append(op_box(graph.ops[nid]))
    edges = []
    for op in graph.ops.values():
        pairs = [(where[i], where[op.id]) for i in op.inputs] + [(where[op.id], where[op.output])]
        edges += [p for p in pairs if p[0] != p[1] and p not in edges]
    return boxes, edges


def svg(graph, collapsed=(), id_prefix="", css_class=""):
    """The graph as one SVG document (a string), module calls in `collapsed` drawn as boxes."""
    boxes, edges = boxes_and_edges(graph, set(collapsed))
    placed = layout({b.id: b.size for b in boxes}, edges)
    marker = f"{id_prefix}arrow"
    classes = f"nnscratch-graph {css_class}".strip()
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="{classes}" '
           f'width="{placed.width:.0f}" height="{placed.height:.0f}" viewBox="0 0 {placed.width:.0f} {placed.height:.0f}" '
           f'data-testid="graph-svg">',
           f"<style>{STYLE}</style>",
           f'<defs><marker id="{marker}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
           f'orient="auto"><path d="M0,0L10,5L0,10z" fill="#8a8f98"/></marker></defs>', '<g class="edges">']
    sizes = {b.id: b.size for b in boxes}
    for (s, t), points in placed.routes.items():
        out.append(f'<path class="edge" data-from="{s}" data-to="{t}" marker-end="url(#{marker})" '
                   f'd="{_curve(points, sizes[s], sizes[t])}"/>')
    out.append('</g><g class="nodes">')
    for b in boxes:
        out.append(_box_svg(b, placed.centers[b.id], id_prefix))
    out.append("</g></svg>")
    return "\n".join(out)


def _curve(points, source_size, target_size):
    (x0, y0), (x1, y1) = points[0], points[-1]
    points = [(x0 + source_size[0] / 2, y0)] + points[1:-1] + [(x1 - target_size[0] / 2, y1)]
    d = [f"M{points[0][0]:.1f},{points[0][1]:.1f}"]
    for (ax, ay), (bx, by) in zip(points[:-1], points[1:]):
        mid = (ax + bx) / 2
        d.append(f"C{mid:.1f},{ay:.1f} {mid:.1f},{by:.1f} {bx:.1f},{by:.1f}")
    return " ".join(d)


def _box_svg(box, center, id_prefix):
    width, height = box.size
    x, y = center[0] - width / 2, center[1] - height / 2
    attrs = "".join(f' {k}="{html.escape(str(v))}"' for k, v in box.attrs.items())
    radius = 12 if box.kind == "op" else 4
    parts = [f'<g class="node {box.kind}" id="{id_prefix}{box.id}" data-node="{box.id}" '
             f'data-testid="{box.kind}-node"{attrs}>',
             f"<title>{html.escape(box.tooltip)}</title>",
             f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{height:.1f}" rx="{radius}"/>']
    for k, (text, cls) in enumerate(box.lines):
        anchor = ' text-anchor="middle"' if box.kind == "op" else ""
        tx = center[0] if box.kind == "op" else x + PAD
        parts.append(f'<text class="{cls}" x="{tx:.1f}" y="{y + PAD + 10 + k * LINE_HEIGHT:.1f}"{anchor}>'
                     f"{html.escape(text)}</text>")
    parts.append("</g>")
    return "".join(parts)
