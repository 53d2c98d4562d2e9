# %% [markdown]
# # 05 · Backpropagation on a computational graph
#
# Every expression the engine computes is a graph of gates; backward walks it in reverse, each gate
# turning the upstream gradient into its inputs' gradients by one local rule. This notebook draws
# the lecture's worked examples with `nnscratch.viz`, checks the engine's gradients against the
# lecture's hand-derived ones, lists the backward order and the rule each gate applied, and opens
# the forward/backward step-through.

# %%
import os

import numpy as np

import nnscratch as ns
from nnscratch import nn, viz
from nnscratch.tensor import topological_order

QUICK = os.environ.get("NNSCRATCH_QUICK") == "1"

# %% [markdown]
# ## f(x, y, z) = (x + y)·z at x = -2, y = 5, z = -4

# %%
g = viz.step_through(lambda x, y, z: (x + y) * z, -2.0, 5.0, -4.0)
g

# %%
example = viz.examples.EXAMPLES["add-mul"]
graph = example.run()
measured = example.measured(graph)
for name in ("output", "x", "y", "z"):
    print(f"RESULT add_mul_{name}={measured[name]:.1f}")
print("engine matches the lecture's hand-derived gradients:", example.matches(graph))

# %% [markdown]
# The add gate passed the upstream gradient `z = -4` to both `x` and `y`; the mul gate swapped its
# inputs, giving `z` the gradient `q = x + y = 3`.
#
# ## The order of backward, and each gate's rule
# `backward()` visits `reversed(topological_order(root))`: every node after everything that uses it.

# %%
x = ns.Tensor(3.0, dtype=np.float64, requires_grad=True, name="x")
y = ns.Tensor(-4.0, dtype=np.float64, requires_grad=True, name="y")
z = ns.Tensor(2.0, dtype=np.float64, requires_grad=True, name="z")
w = ns.Tensor(-1.0, dtype=np.float64, requires_grad=True, name="w")
f = 2.0 * (x * y + ns.maximum(z, w))
for node in reversed(topological_order(f)):
    if node._ctx is not None:
        print(f"{node._ctx.name:>8}: {node._ctx.rule}")
f.backward()
for t in (x, y, z, w):
    print(f"RESULT gate_patterns_d{t.name}={float(t.grad):.1f}")

# %% [markdown]
# ## The sigmoid neuron, gate by gate

# %%
print("worked examples:", sorted(viz.examples.EXAMPLES))
neuron = viz.examples.EXAMPLES["sigmoid-neuron"]
neuron_graph = neuron.run()
print("matches the lecture:", neuron.matches(neuron_graph))
neuron_graph

# %% [markdown]
# ## A model's graph, collapsed by module

# %%
model = nn.Sequential(nn.Linear(4, 3, rng=0), nn.ReLU(), nn.Linear(3, 2, rng=1))
viz.model_graph(model, np.ones((1, 4), np.float32), target=1)

# %% [markdown]
# ## Exercises
# 1. Step through `lambda x, y: x * y + x` and explain why `x`'s gradient is a sum.
# 2. Draw the graph of `F.cross_entropy` on a (2, 3) batch and find the fused gate.
# 3. Change `max(z, w)` so that `w` wins. Which input receives the gradient now?
