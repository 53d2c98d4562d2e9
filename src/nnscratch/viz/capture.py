"""The structure of a computation, captured from a tensor before backward frees it.

`capture(output)` walks `output._ctx` back to the leaves and makes one `ValueNode` per tensor
(parameters, inputs, constants, intermediate results) and one `OpNode` per `Function` call.
Nothing here computes a gradient: `watch_backward` lets the engine's own backward run and
writes down, for each operation, in the order the engine visits them, the upstream gradient it
received and what it handed to each input; the intermediate tensors are asked to
`retain_grad()` so their `.grad` is the engine's too.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .. import tensor as engine
from ..nn.module import Parameter
from ..tensor import Tensor
from .gates import gate_of, rule_of
from .scopes import PARAMETER_NAMES, SCOPES

RELEASED_MESSAGE = ("this graph was already freed by backward(): build the picture before calling backward() "
                    "(g = viz.graph(loss); loss.backward(); g.save(...)), or pass retain_graph=True to backward()")


@dataclass
class ValueNode:
    """A tensor in the graph. `kind` is "parameter", "input" (a leaf that requires grad),
    "constant" (a leaf that does not) or "result" (made by the op `producer`)."""

    id: str
    tensor: Tensor
    label: str
    kind: str
    producer: str | None = None
    consumers: list = field(default_factory=list)  # op ids, one entry per use (x * x lists the mul twice)
    scope: object = None


@dataclass
class OpNode:
    """One call of a Function: its gate name, backward rule and constants, its inputs and output."""

    id: str
    fn: object
    gate: str
    rule: str
    constants: dict
    inputs: list  # value ids, in argument order
    output: str
    scope: object = None


@dataclass
class BackwardStep:
    """What the engine did at one op during backward: the upstream gradient of the op's output
    and, per input (None where it needed none), the gradient it handed back, summed to the
    input's shape."""

    op: str
    upstream: np.ndarray
    handed: list


def _released(fn):
    return fn is getattr(engine, "_RELEASED", object()) or (fn is not None and not hasattr(fn, "forward"))


def topological_order(root):
    """The engine's order: every node after its inputs (the contract's public name, or the old private one)."""
    order = getattr(engine, "topological_order", None) or engine._topological_order
    return order(root)


def _constants(fn):
    constants = getattr(fn, "constants", None)
    if isinstance(constants, dict):
        return dict(constants)
    # an engine without `.constants`: the attributes an op set in forward that read as constants
    known = ("axis", "keepdims", "exponent", "axes", "reduction", "negative_slope", "alpha", "margin")
    return {k: getattr(fn, k) for k in known
            if hasattr(fn, k) and isinstance(getattr(fn, k), (int, float, str, tuple, type(None)))}


def _label_table(labels):
    """{id(tensor): label} from labels given as {Tensor: str}, {str: Tensor}, a Module, or a list of these."""
    table = {}
    items = labels if isinstance(labels, (list, tuple)) else [labels]
    for item in items:
        if item is None:
            continue
        if hasattr(item, "named_parameters"):
            table.update({id(p): name for name, p in item.named_parameters()})
            continue
        if not isinstance(item, dict):
            raise TypeError(f"labels= takes a dict ({{tensor: 'name'}} or {{'name': tensor}}), a Module, or a "
                            f"list of these; got {type(item).__name__}")
        for key, value in item.items():
            tensor_, name = (key, value) if isinstance(key, Tensor) else (value, key)
            if not isinstance(tensor_, Tensor) or not isinstance(name, str):
                raise TypeError(f"labels= pairs a Tensor with a str; got {type(key).__name__}: {type(value).__name__}")
            table[id(tensor_)] = name
    return table


def _label(t, table):
    if id(t) in table:
        return table[id(t)]
    name = getattr(t, "name", None)
    if isinstance(name, str) and name:
        return name
    if isinstance(t, Parameter):
        return PARAMETER_NAMES.get(t, "")
    return ""


def capture(output, labels=None):
    """(values, ops, order): the nodes that produced `output`, `order` listing every node id after
    its inputs (a forward order). Raises RuntimeError if backward already freed the graph."""
    if not isinstance(output, Tensor):
        raise TypeError(f"viz.graph draws the graph behind a Tensor; got {type(output).__name__}")
    if _released(output._ctx):
        raise RuntimeError(RELEASED_MESSAGE)
    table = _label_table(labels)
    values, ops, order, ids = {}, {}, [], {}

    def value_id(t):
        if id(t) not in ids:
            ids[id(t)] = f"v{len(ids)}"
        return ids[id(t)]

    stack, visited = [(output, False)], set()
    while stack:  # iterative post-order depth-first search, as the engine's own sort
        t, inputs_done = stack.pop()
        fn = t._ctx
        if inputs_done:
            _add_nodes(t, fn, values, ops, order, value_id, table)
            continue
        if id(t) in visited:
            continue
        visited.add(id(t))
        if _released(fn):
            raise RuntimeError(RELEASED_MESSAGE)
        stack.append((t, True))
        if fn is not None:
            stack.extend((inp, False) for inp in reversed(fn.inputs) if id(inp) not in visited)
    _place_parameters(values, ops)
    return values, ops, order


def _add_nodes(t, fn, values, ops, order, value_id, table):
    vid = value_id(t)
    if fn is None:
        kind = "parameter" if isinstance(t, Parameter) else ("input" if t.requires_grad else "constant")
        values[vid] = ValueNode(vid, t, _label(t, table), kind)
        order.append(vid)
        return
    oid = "o" + vid[1:]
    inputs = [value_id(inp) for inp in fn.inputs]
    scope = SCOPES.get(fn)
    ops[oid] = OpNode(oid, fn, gate_of(fn), rule_of(fn), _constants(fn), inputs, vid, scope)
    for inp in inputs:
        values[inp].consumers.append(oid)
    values[vid] = ValueNode(vid, t, _label(t, table), "result", producer=oid, scope=scope)
    order.extend([oid, vid])


def _place_parameters(values, ops):
    """A parameter belongs to the module call that alone uses it (inputs and constants stay outside)."""
    for v in values.values():
        if v.kind == "parameter" and v.consumers and v.scope is None:
            scopes = {ops[o].scope for o in v.consumers}
            if len(scopes) == 1 and None not in scopes:
                v.scope = scopes.pop()


def _as_array(g):
    return g.evaluate() if hasattr(g, "evaluate") and not isinstance(g, np.ndarray) else np.asarray(g)


def watch_backward(ops, values, steps):
    """Make each op's backward append a `BackwardStep` to `steps` when the engine calls it, and ask
    each intermediate tensor to keep its gradient. The gradients are the engine's own."""
    for op in ops.values():
        out = values[op.output].tensor
        if hasattr(out, "retain_grad"):
            out.retain_grad()
        fn = op.fn
        original = fn.backward
        input_tensors = [values[i].tensor for i in op.inputs]
        needs = getattr(fn, "needs_grad", (True,) * len(input_tensors))

        def backward(grad, _original=original, _op=op.id, _inputs=input_tensors, _needs=needs):
            handed = _original(grad)
            copies = []
            for inp, wanted, g in zip(_inputs, _needs, handed):
                if g is None or not wanted:  # the engine drops what an input does not need
                    copies.append(None)
                    continue
                g = _as_array(g)
                if g.shape != inp.shape:
                    g = engine.unbroadcast(g, inp.shape, g.dtype)
                copies.append(np.array(g, copy=True))
            steps.append(BackwardStep(_op, np.array(_as_array(grad), copy=True), copies))
            return handed

        try:
            fn.backward = backward
        except AttributeError:  # a Function with __slots__: gradients then come from retain_grad alone
            return
