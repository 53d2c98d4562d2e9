"""`Module`, the base of every layer, and `Parameter`, a tensor a module learns.

A module finds its parameters and sub-modules by looking at its own attributes (in the
order they were set), so a layer is just a class that assigns them in `__init__` and says
what it computes in `forward`. Names follow PyTorch: `0.weight`, `encoder.bias`.
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor


class Parameter(Tensor):
    """A tensor that a module learns: requires_grad is always on."""

    def __init__(self, data, dtype=None):
        super().__init__(data, requires_grad=True, dtype=dtype)

    def __repr__(self):
        return f"Parameter(shape={self.shape}, dtype={self.dtype})"


class Module:
    """Base class: subclasses set parameters and sub-modules as attributes and define `forward`."""

    training = True

    def forward(self, *inputs):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *inputs, **kwargs):
        return self.forward(*inputs, **kwargs)

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
        return [p for _, p in self.named_parameters()]

    def modules(self):
        """This module and every module inside it, depth first."""
        yield self
        for _, child in self.named_children():
            yield from child.modules()

    # ----- modes and gradients ----------------------------------------------------------
    def train(self, mode=True):
        for m in self.modules():
            m.training = mode
        return self

    def eval(self):
        return self.train(False)

    def zero_grad(self):
        for p in self.parameters():
            p.grad = None

    # ----- state ------------------------------------------------------------------------
    def state_dict(self):
        """{name: a copy of the parameter's array}, in a fixed order."""
        return {name: p.data.copy() for name, p in self.named_parameters()}

    def load_state_dict(self, state_dict, strict=True):
        """Copy arrays into the parameters (keeping their dtype). With `strict`, the keys must
        match exactly; a shape must always match."""
        own = dict(self.named_parameters())
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

    # ----- architecture -----------------------------------------------------------------
    def config(self):
        """The constructor arguments that rebuild this module (see nnscratch.save)."""
        raise TypeError(
            f"{type(self).__name__} does not describe its architecture, so nnscratch.save cannot rebuild it; "
            f"define config() (its constructor arguments), or save model.state_dict() and rebuild it in code"
        )

    # ----- printing ---------------------------------------------------------------------
    def extra_repr(self):
        return ""

    def __repr__(self):
        children = list(self.named_children())
        if not children:
            return f"{type(self).__name__}({self.extra_repr()})"
        lines = [f"  ({name}): " + repr(child).replace("\n", "\n  ") for name, child in children]
        return f"{type(self).__name__}(\n" + "\n".join(lines) + "\n)"


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
        self.layers.append(layer)
        return self

    def __getitem__(self, i):
        return Sequential(*self.layers[i]) if isinstance(i, slice) else self.layers[i]

    def __len__(self):
        return len(self.layers)

    def __iter__(self):
        return iter(self.layers)


def architecture(module):
    """{"type": class name, **constructor arguments}: a JSON description that rebuilds `module`."""
    return {"type": type(module).__name__, **module.config()}
