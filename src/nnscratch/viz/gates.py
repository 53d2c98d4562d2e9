"""What a gate is called and how its backward works, in the lecture's words.

The engine's `Function` classes carry these as class attributes `name` and `rule`; this table
is the fallback for an engine that does not (yet): it is keyed by the class name, with and
without the `Function` suffix that `functional`'s classes take where they share a name with a
module (`ReLUFunction`). `gate_of(fn)` and `rule_of(fn)` prefer what the class says.
"""

from __future__ import annotations

# class name -> (gate name, backward rule in one sentence)
GATES = {
    "Add": ("add", "an add gate passes the upstream gradient to both inputs unchanged"),
    "Sub": ("sub", "a sub gate passes the upstream gradient to a and its negation to b"),
    "Mul": ("mul", "a mul gate swaps its inputs: da = g·b, db = g·a"),
    "Div": ("div", "a div gate: da = g/b, db = −g·a/b²"),
    "Neg": ("neg", "a neg gate flips the sign of the upstream gradient"),
    "Pow": ("pow", "a pow gate with constant p: da = g·p·a^(p−1)"),
    "MatMul": ("matmul", "a matmul gate: da = g @ bᵀ, db = aᵀ @ g"),
    "Exp": ("exp", "an exp gate multiplies the upstream gradient by its own output: da = g·exp(a)"),
    "Log": ("log", "a log gate divides the upstream gradient by its input: da = g/a"),
    "Sqrt": ("sqrt", "a sqrt gate: da = g / (2·sqrt(a))"),
    "Abs": ("abs", "an abs gate multiplies the upstream gradient by the sign of its input"),
    "Maximum": ("max", "a max gate routes the gradient to the winner (a tie splits it)"),
    "Where": ("where", "a where gate routes the gradient to whichever input was picked"),
    "AsType": ("astype", "a cast passes the gradient through, cast back to the input's dtype"),
    "Sum": ("sum", "a sum is a copy in reverse: every input element gets the whole upstream gradient"),
    "Mean": ("mean", "a mean gate gives every input element the upstream gradient divided by the count"),
    "Max": ("max", "a max gate routes the gradient to the winner (ties share it equally)"),
    "Reshape": ("reshape", "a reshape gate reshapes the upstream gradient back"),
    "Transpose": ("transpose", "a transpose gate permutes the upstream gradient back"),
    "GetItem": ("getitem", "an index gate scatters the gradient back to the picked elements (repeats add up)"),
    "Concatenate": ("concatenate", "a concatenate gate cuts the upstream gradient back into the inputs' pieces"),
    "Stack": ("stack", "a stack gate hands each input its slice of the upstream gradient"),
    "Step": ("step", "a step gate has derivative 0: no gradient flows through it"),
    "Sigmoid": ("sigmoid", "a sigmoid gate multiplies the upstream gradient by σ(1 − σ)"),
    "Tanh": ("tanh", "a tanh gate multiplies the upstream gradient by 1 − tanh²"),
    "ReLU": ("relu", "a relu gate is a max against 0: the gradient passes where the input was > 0"),
    "LeakyReLU": ("leaky_relu", "a leaky relu gate passes the gradient where x > 0 and scales it by the slope elsewhere"),
    "ELU": ("elu", "an elu gate passes the gradient where x > 0 and scales it by elu(x) + α elsewhere"),
    "Softmax": ("softmax", "a softmax gate: dx = s·(g − sum(g·s))"),
    "LogSoftmax": ("log_softmax", "a log-softmax gate: dx = g − softmax·sum(g)"),
    "Linear": ("linear", "a linear gate: dx = g @ Wᵀ, dW = xᵀ @ g, db = g summed over the batch (b was copied)"),
    "CrossEntropy": ("cross_entropy", "softmax and cross-entropy fused: dlogits = (softmax − onehot) / N"),
    "BinaryCrossEntropyWithLogits": ("bce_with_logits", "sigmoid and cross-entropy fused: dlogits = (σ − y) / N"),
    "MulticlassHinge": ("hinge", "a hinge loss: each violating class gets +1, the true class −(violations), / N"),
}


def _table_entry(fn):
    name = type(fn).__name__
    if name not in GATES and name.endswith("Function"):
        name = name[: -len("Function")]
    return GATES.get(name)


def gate_of(fn) -> str:
    """The short gate name of a Function instance ("add", "mul", "cross_entropy", ...)."""
    name = getattr(type(fn), "name", None)
    if isinstance(name, str) and name:
        return name
    entry = _table_entry(fn)
    return entry[0] if entry else type(fn).__name__.lower()


def rule_of(fn) -> str:
    """The backward rule of a Function instance in one sentence of the lecture's words ('' if unknown)."""
    rule = getattr(type(fn), "rule", None)
    if isinstance(rule, str) and rule:
        return rule
    entry = _table_entry(fn)
    return entry[1] if entry else ""
