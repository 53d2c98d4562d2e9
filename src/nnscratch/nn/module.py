"""`Module`, the base of every layer, and `Parameter`, a tensor a module learns.

A module finds its parameters and sub-modules by looking at its own attributes (in the
order they were set), so a layer is just a class that assigns them in `__init__` and says
what it computes in `forward`. Names follow PyTorch: `0.weight`, `encoder.bias`.
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor


class Parameter(Tensor):
    """A tensor that a module learns: requires_grad is always on.

    data: an array (keeps its float dtype) or numbers (float32); raises ValueError for a non-float dtype."""

    def __init__(self, data, dtype=None, name=None):
        super().__init__(data, requires_grad=True, dtype=dtype, name=name)

    def __repr__(self):
        return f"Parameter(shape={self.shape}, dtype={self.dtype})"


class Buffer(Tensor):
    """A tensor a module keeps and saves but does not learn (BatchNorm's running statistics), as
    PyTorch's `nn.Buffer`: requires_grad is off; `state_dict` and `load_state_dict` include it."""

    def __init__(self, data, dtype=None, name=None):
        super().__init__(data, requires_grad=False, dtype=dtype, name=name)

    def __repr__(self):
        return f"Buffer(shape={self.shape}, dtype={self.dtype})"


class Module:
    """Base class: subclasses set parameters and sub-modules as attributes and define `forward`.

    Calling a module calls `forward`; a list or tuple of numbers given as an input becomes an array
    first (`model([[0.0] * 784])` works as `model(np.array(...))` does).
    """

    training = True

    def forward(self, *inputs):
        """What the module computes; every subclass defines it."""
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *inputs, **kwargs):
        return self.forward(*[_as_array(x) for x in inputs], **kwargs)

    # ----- what a module holds ----------------------------------------------------------
    def named_children(self):
        """(name, module) for each direct sub-module, in the order the attributes were set."""
        for name, value in vars(self).items():
            if isinstance(value, Module):
                yield name, value
            elif isinstance(value, (list, tuple)):
                for i, item in enumerate(value):
                    if isinstance(item, Module):
                        yield f"{name}.{i}", item

    def named_parameters(self, prefix=""):
        """(dotted name, Parameter) for this module's parameters, then its children's."""
        seen = set()
        for name, p in self._named_parameters_with_repeats(prefix):
            if id(p) not in seen:  # a parameter shared by two layers is listed (and updated) once
                seen.add(id(p))
                yield name, p

    def _named_parameters_with_repeats(self, prefix):
        for name, value in vars(self).items():
            if isinstance(value, Parameter):
                yield prefix + name, value
        for name, child in self.named_children():
            yield from child._named_parameters_with_repeats(f"{prefix}{name}.")

    def parameters(self):
        """Every Parameter of this module and its sub-modules, once each, in a fixed order (a list)."""
        return [p for _, p in self.named_parameters()]

    def named_buffers(self, prefix=""):
        """(dotted name, Buffer) for this module's buffers, then its children's."""
        for name, value in vars(self).items():
            if isinstance(value, Buffer):
                yield prefix + name, value
        for name, child in self.named_children():
            yield from child.named_buffers(f"{prefix}{name}.")

    def children(self):
        """The direct sub-modules, in the order they were set (an iterator), as PyTorch's."""
        return (child for _, child in self.named_children())

    def modules(self):
        """This module and every module inside it, depth first (an iterator)."""
        yield self
        for _, child in self.named_children():
            yield from child.modules()

    def apply(self, fn):
        """Call fn(module) on every sub-module, then on this one (PyTorch's order); returns self.
        E.g. `model.apply(lambda m: m.weight.data.fill(0) if isinstance(m, nn.Linear) else None)`."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    def float(self):
        """Every parameter cast to float32 in place (gradients dropped); returns self."""
        return self._cast(np.float32)

    def double(self):
        """Every parameter cast to float64 in place (gradients dropped); returns self."""
        return self._cast(np.float64)

    def _cast(self, dtype):
        for p in self.parameters() + [b for _, b in self.named_buffers()]:
            if p.data.dtype != dtype:
                p.data, p.grad = p.data.astype(dtype), None
                p._version += 1
        return self

    # ----- modes and gradients ----------------------------------------------------------
    def train(self, mode=True):
        """Training mode (dropout active) for this module and all inside it; returns self."""
        for m in self.modules():
            m.training = mode
        return self

    def eval(self):
        """Evaluation mode (`train(False)`): dropout passes its input through; returns self."""
        return self.train(False)

    def zero_grad(self):
        """Every parameter's `.grad` becomes None."""
        for p in self.parameters():
            p.grad = None

    # ----- state ------------------------------------------------------------------------
    def state_dict(self):
        """{name: a copy of the parameter's (then the buffer's) array}, in a fixed order."""
        state = {name: p.data.copy() for name, p in self.named_parameters()}
        state.update((name, b.data.copy()) for name, b in self.named_buffers())
        return state

    def load_state_dict(self, state_dict, strict=True):
        """Copy arrays into the parameters (keeping their dtype). With `strict`, the keys must
        match exactly; a shape must always match."""
        own = dict(self.named_parameters())
        own.update(self.named_buffers())
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        if strict and (missing or unexpected):
            raise ValueError(
                f"load_state_dict: missing keys {missing}, unexpected keys {unexpected}; the state was saved "
                f"from a different architecture than {type(self).__name__} (or pass strict=False)"
            )
        for name, value in state_dict.items():
            if name not in own:
                continue
            value = np.asarray(value.data if isinstance(value, Tensor) else value)
            if value.shape != own[name].shape:
                raise ValueError(
                    f"load_state_dict: {name!r} has shape {own[name].shape} in the model but "
                    f"{value.shape} in the state dict"
                )
            np.copyto(own[name].data, value, casting="same_kind")
            own[name]._version += 1

    # ----- architecture -----------------------------------------------------------------
    def config(self):
        """The constructor arguments that rebuild this module (see nnscratch.save)."""
        raise TypeError(
            f"{type(self).__name__} does not describe its architecture, so nnscratch.save cannot rebuild it; "
            f"define config() (its constructor arguments), or save model.state_dict() and rebuild it in code"
        )

    # ----- printing ---------------------------------------------------------------------
    def extra_repr(self):
        """The settings shown inside the parentheses of repr(module) (a string)."""
        return ""

    def __repr__(self):
        children = list(self.named_children())
        if not children:
            return f"{type(self).__name__}({self.extra_repr()})"
        lines = [f"  ({name}): " + repr(child).replace("\n", "\n  ") for name, child in children]
        return f"{type(self).__name__}(\n" + "\n".join(lines) + "\n)"

    def _repr_html_(self):
        """Jupyter's display: a Keras-style summary (layer, output shape, parameters, total)."""
        from ..display import module_html

        return module_html(self)


class Sequential(Module):
    """Layers applied one after another: Sequential(Linear(784, 256), ReLU(), Linear(256, 10))."""

    def __init__(self, *layers):
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise TypeError(f"Sequential takes modules; item {i} is a {type(layer).__name__}")
        self.layers = list(layers)

    def named_children(self):
        for i, layer in enumerate(self.layers):
            yield str(i), layer

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def config(self):
        return {"layers": [architecture(layer) for layer in self.layers]}

    def append(self, layer):
        """Add a layer at the end; returns self."""
        self.layers.append(layer)
        return self

    def __getitem__(self, i):
        return Sequential(*self.layers[i]) if isinstance(i, slice) else self.layers[i]

    def __len__(self):
        return len(self.layers)

    def __iter__(self):
        return iter(self.layers)


class ModuleList(Module):
    """A list of modules whose parameters the parent module finds, as PyTorch's `nn.ModuleList`:
    `self.blocks = nn.ModuleList([nn.Linear(8, 8) for _ in range(3)])`, then iterate in forward.
    Raises TypeError for an item that is not a Module."""

    def __init__(self, modules=()):
        self.items = []
        self.extend(modules)

    def named_children(self):
        for i, module in enumerate(self.items):
            yield str(i), module

    def append(self, module):
        """Add a module at the end; returns self."""
        if not isinstance(module, Module):
            raise TypeError(f"ModuleList holds modules; got a {type(module).__name__}")
        self.items.append(module)
        return self

    def extend(self, modules):
        """Add each of `modules` at the end; returns self."""
        for module in modules:
            self.append(module)
        return self

    def forward(self, *inputs):
        raise NotImplementedError("a ModuleList has no forward of its own: iterate over it in your module's forward")

    def __getitem__(self, i):
        return ModuleList(self.items[i]) if isinstance(i, slice) else self.items[i]

    def __setitem__(self, i, module):
        if not isinstance(module, Module):
            raise TypeError(f"ModuleList holds modules; got a {type(module).__name__}")
        self.items[i] = module

    def __len__(self):
        return len(self.items)

    def __iter__(self):
        return iter(self.items)


def _as_array(x):
    """A list or tuple of numbers as an array (numpy's dtype: int targets stay integers); anything else as is."""
    if isinstance(x, (list, tuple)) and not any(isinstance(item, Tensor) for item in x):
        array = np.asarray(x)
        if array.dtype != object:
            return array
    return x


def architecture(module):
    """{"type": class name, **constructor arguments}: a JSON description that rebuilds `module`."""
    return {"type": type(module).__name__, **module.config()}
