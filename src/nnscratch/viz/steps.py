"""The frames of the step-through: the forward pass node by node, then the backward pass op by op
in the order the engine actually ran it, each frame with the local computation and its numbers.

A frame is a dict: `phase` ("forward" | "backward"), `focus` (node ids to highlight), `show_data`
and `show_grad` (value ids whose value / gradient appear from this frame on) and `text` (lines).
The numbers in backward frames are what the engine handed back (recorded by viz.capture), so the
last frame shows exactly the result of `backward()`.
"""

from __future__ import annotations

import numpy as np

from . import format as fmt

INFIX = {"add": "+", "sub": "-", "mul": "·", "div": "/", "matmul": "@"}


def _small(a):
    return np.size(a) <= fmt.SHOWN_ELEMENTS


def forward_frames(graph):
    """One frame per leaf (its value appears) and per op (its output's value, with the computation)."""
    frames = []
    for nid in graph.order:
        if nid in graph.values:
            v = graph.values[nid]
            if v.producer is None:
                frames.append({"phase": "forward", "focus": [nid], "show_data": [nid], "show_grad": [],
                               "text": [f"{v.kind} {graph.name_of(nid)} = {fmt.array(v.tensor.data)}"]})
            continue
        op = graph.ops[nid]
        names = [graph.name_of(i) for i in op.inputs]
        arrays = [graph.values[i].tensor.data for i in op.inputs]
        out = graph.values[op.output]
        symbol = INFIX.get(op.gate)
        if symbol and len(names) == 2:
            formula, numbers = f" {symbol} ".join(names), f" {symbol} ".join(fmt.array(a) for a in arrays)
        else:
            formula = f"{op.gate}({', '.join(names)})"
            numbers = f"{op.gate}({', '.join(fmt.array(a) for a in arrays)})"
        line = f"{graph.name_of(out.id)} = {formula}"
        if all(_small(a) for a in arrays):
            line += f" = {numbers}"
        frames.append({"phase": "forward", "focus": [nid, out.id], "show_data": [out.id], "show_grad": [],
                       "text": [line + f" = {fmt.array(out.tensor.data)}"]})
    return frames


def _latest_run(graph):
    """The BackwardSteps of the most recent backward: from the last visit to the root's op on."""
    steps = graph.steps
    root_op = graph.values[graph.root].producer
    starts = [k for k, s in enumerate(steps) if s.op == root_op]
    return steps[starts[-1]:] if starts else steps


def backward_frames(graph):
    """The output's frame (dL/dL = 1), then one frame per op in the engine's order of its latest
    backward, with the chain rule for each input; an input's gradient appears when its last use is in."""
    run = _latest_run(graph)
    if not run:
        return []
    loss = graph.name_of(graph.root)
    root_grad = run[0].upstream if run[0].op == graph.values[graph.root].producer else graph.grad_of(graph.root)
    frames = [{"phase": "backward", "focus": [graph.root], "show_data": [], "show_grad": [graph.root],
               "text": [f"d{loss}/d{loss} = {fmt.array(root_grad)}: the backward pass starts at the output"]}]
    expected, arrived = {}, {}
    for step in run:
        for inp, g in zip(graph.ops[step.op].inputs, step.handed):
            if g is not None:
                expected[inp] = expected.get(inp, 0) + 1
    for step in run:
        op = graph.ops[step.op]
        out = graph.name_of(op.output)
        lines, complete = [f"{op.gate} gate: {op.rule}"], []
        for inp, g in zip(op.inputs, step.handed):
            if g is None:
                continue
            x = graph.name_of(inp)
            lines.append(_chain_rule(loss, out, x, step.upstream, g))
            arrived.setdefault(inp, []).append(g)
            if len(arrived[inp]) == expected[inp]:
                complete.append(inp)
                if expected[inp] > 1:
                    lines.append(_sum_line(loss, x, arrived[inp]))
            else:
                lines.append(f"  ({expected[inp] - len(arrived[inp])} more use of {x} still to come)")
        frames.append({"phase": "backward", "focus": [op.id] + complete, "show_data": [], "show_grad": complete,
                       "text": lines})
    return frames


def _chain_rule(loss, out, x, upstream, handed):
    """dL/dx = dL/dq · dq/dx = upstream · local = handed, with numbers where all are scalars."""
    head = f"d{loss}/d{x} = d{loss}/d{out} · d{out}/d{x}"
    if np.size(upstream) == 1 and np.size(handed) == 1:
        up, down = float(np.reshape(upstream, ())), float(np.reshape(handed, ()))
        local = fmt.number(down / up) if up != 0 else "…"
        return f"{head} = {fmt.number(up)} · {local} = {fmt.number(down)}"
    return f"{head}: {fmt.shape_dtype(handed)} {fmt.array(handed)}"


def _sum_line(loss, x, parts):
    total = np.sum(parts, axis=0)
    if all(np.size(p) == 1 for p in parts):
        return f"d{loss}/d{x} = {fmt.terms(parts)} = {fmt.number(np.reshape(total, ()))}: {x} was used {len(parts)} times, a copy sums"
    return f"d{loss}/d{x} = the sum of {len(parts)} gradients (a copy sums): {fmt.array(total)}"


def frames(graph):
    """Every frame of the step-through: forward frames, then backward frames (none before backward)."""
    return forward_frames(graph) + backward_frames(graph)
