"""Which `Module` call made which operation, and what the parameters are called.

`record_modules()` wraps `Module.__call__` for the duration of a `with` block (nn itself is not
changed): when a module's call returns, every operation on the way from its output back to its
inputs that no inner module claimed is stamped with that call's `Scope`. The stamps and the
parameters' dotted names (from `named_parameters` of each outermost module called) live in weak
tables, so they vanish with the graph; `viz.graph(..., collapse="modules")` reads them.
"""

from __future__ import annotations

import contextlib
import itertools
import weakref
from dataclasses import dataclass

from ..nn.module import Module
from ..tensor import Tensor

SCOPES = weakref.WeakKeyDictionary()  # Function instance -> Scope of the module call that made it
PARAMETER_NAMES = weakref.WeakKeyDictionary()  # Parameter -> dotted name in its outermost module
_counter = itertools.count()


@dataclass(frozen=True)
class Scope:
    """One call of one module: `key` is unique per call, `path` its dotted name ("0", "encoder.1")."""

    key: str
    path: str
    title: str  # what a box says: "0 · Linear(4 -> 8)"
    module_type: str


def _describe(module):
    extra = module.extra_repr()
    return f"{type(module).__name__}({extra})" if not list(module.named_children()) else type(module).__name__


def _child_path(parent, parent_path, module):
    for name, child in parent.named_children():
        if child is module:
            return f"{parent_path}.{name}" if parent_path else name
    return type(module).__name__


def _stamp(output, inputs, scope):
    """Stamp every unstamped op between `output` and `inputs` with `scope`."""
    stop = {id(t) for t in inputs if isinstance(t, Tensor)}
    roots = output if isinstance(output, (tuple, list)) else (output,)
    stack = [t for t in roots if isinstance(t, Tensor)]
    seen = set()
    while stack:
        t = stack.pop()
        fn = t._ctx
        if id(t) in stop or id(t) in seen or fn is None or not hasattr(fn, "inputs") or fn in SCOPES:
            continue
        seen.add(id(t))
        SCOPES[fn] = scope
        stack.extend(fn.inputs)


@contextlib.contextmanager
def record_modules():
    """Within this block, remember which module call made each operation (for collapse="modules").

        with viz.record_modules():
            loss = loss_fn(model(x), y)
        viz.graph(loss, collapse="modules")

    It swaps `Module.__call__` while the block runs (a nested block reuses the outer one's), so
    module calls made meanwhile in other threads are recorded too.
    """
    original = Module.__call__
    if getattr(original, "records_modules", False):
        yield
        return
    stack = []

    def call(module, *inputs, **kwargs):
        if stack:
            parent, parent_path = stack[-1]
            path = _child_path(parent, parent_path, module)
        else:
            path = ""
        stack.append((module, path))
        try:
            output = original(module, *inputs, **kwargs)
        finally:
            stack.pop()
        title = f"{path} · {_describe(module)}" if path else _describe(module)
        _stamp(output, inputs, Scope(f"s{next(_counter)}", path, title, type(module).__name__))
        if not stack:
            for name, p in module.named_parameters():
                PARAMETER_NAMES.setdefault(p, name)
        return output

    call.records_modules = True
    Module.__call__ = call
    try:
        yield
    finally:
        Module.__call__ = original
