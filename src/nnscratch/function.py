"""`Function`, the protocol of every differentiable operation, and how `apply` records it in the graph.

An operation is a subclass with `forward` (arrays in, array out, saving what backward needs) and
`backward` (the output's gradient in, one gradient per input out), each beside the other, plus a
`name` and a `rule` a learner reads. `Function.apply` runs it on tensors and, when grad mode is on
and an input requires a gradient, makes the output's `_ctx` the Function instance, recording the
versions of the tensors whose arrays it saved (see `tensor_inplace`).
"""

from __future__ import annotations

import numbers

import numpy as np

from .grad_mode import _grad_mode
from .tensor import Tensor


class Function:
    """One differentiable operation: `forward` on arrays, `backward` from the output's gradient.

    `apply` turns its positional arguments into tensors (a Python number takes the dtype of the
    tensor beside it, as in NumPy 2 and PyTorch), runs `forward` on their arrays and, when some
    input requires a gradient, records itself as the output's creator. Keyword arguments are
    constants of the operation (an axis, an exponent), kept in `.constants` and passed to forward.

    After forward an instance has `.inputs` (tuple of Tensors), `.needs_grad` (one bool per input;
    all False under `no_grad`), `.saved` (the arrays backward reads) and `.constants`. `backward(grad)`
    returns one gradient per input, shaped like the output's broadcast if need be (the engine sums
    it back down), or None where none is needed. Subclasses name themselves for a learner: `name`
    (the gate, "mul") and `rule` (its backward in the lecture's words).
    """

    name = "function"
    rule = "each input's gradient is the upstream gradient times the local derivative (the chain rule)"
    inputs, needs_grad, saved, constants = (), (), (), {}
    _saved_versions = ()

    def save(self, *arrays):
        """Keep `arrays` for backward (as `.saved`); their tensors' versions are checked then."""
        self.saved = arrays

    @classmethod
    def apply(cls, *args, **constants):
        """Run the operation on tensors (or numbers/arrays/lists); returns the output Tensor."""
        inputs = args if all(isinstance(a, Tensor) for a in args) else _as_tensors(args)
        fn = cls()
        fn.constants = constants
        enabled = _grad_mode.enabled
        fn.needs_grad = needs = tuple([t.requires_grad for t in inputs]) if enabled else (False,) * len(inputs)
        data = fn.forward(*[t.data for t in inputs], **constants)
        if True in needs:
            fn.inputs = inputs
            if fn.saved:
                fn._saved_versions = _versions_of(fn.saved, inputs, data)
            return Tensor._from_op(data, fn)
        return Tensor._from_op(data, None)

    def check_saved_versions(self, output):
        """RuntimeError, in PyTorch's words, when a tensor whose array backward reads was changed
        in place since forward (its `_version` moved on)."""
        for index, version in self._saved_versions:
            tensor = output if index < 0 else self.inputs[index]
            if tensor._version != version:
                which = "output" if index < 0 else f"input {index}"
                raise RuntimeError(
                    f"one of the tensors needed for the backward of {self.name} ({which}, shape "
                    f"{tuple(tensor.shape)}) was modified in place: it is at version {tensor._version}, the graph "
                    f"saved version {version}; clone it before modifying (t.clone()), or modify it after backward"
                )

    def forward(self, *arrays, **constants):
        """The output array from the input arrays; subclasses define it."""
        raise NotImplementedError

    def backward(self, grad):
        """One gradient (array or None) per input, from the output's gradient; subclasses define it."""
        raise NotImplementedError


def _versions_of(saved, inputs, output):
    """(input index, or -1 for the output; its version now) for each saved array that is a tensor's data."""
    versions = []
    for array in saved:
        if array is output:
            versions.append((-1, 0))
            continue
        for i, t in enumerate(inputs):
            if t.data is array:
                versions.append((i, t._version))
                break
    return tuple(versions)


def _as_tensors(args):
    weak_dtype = next(
        (a.data.dtype for a in args if isinstance(a, Tensor) and a.data.dtype.kind == "f"),
        None,
    )
    out = []
    for a in args:
        if isinstance(a, Tensor):
            out.append(a)
        elif isinstance(a, (bool, numbers.Number)) and not isinstance(a, np.generic):
            out.append(Tensor(np.asarray(a, dtype=weak_dtype) if weak_dtype else np.asarray(a)))
        else:
            out.append(Tensor(np.asarray(a) if isinstance(a, (np.ndarray, np.generic)) else a))
    return out
