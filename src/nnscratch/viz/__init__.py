"""`nnscratch.viz`: see backprop happen. The graph behind a tensor drawn as SVG (no Graphviz binary:
the layered layout is ours, see viz.layout), with every value and gradient; module calls collapsed
into boxes; and a self-contained HTML step-through of the forward and backward passes.

    from nnscratch import viz
    g = viz.graph(loss)              # before backward: backward frees the graph
    loss.backward()
    g.save("loss.svg")               # or "loss.html"; a notebook cell ending in `g` draws it
    viz.step_through(lambda x, y, z: (x + y) * z, -2.0, 5.0, -4.0).save("steps.html")
    viz.examples.EXAMPLES            # the lecture's worked examples, with hand-derived gradients
"""

from . import examples
from .command import add_graph_arguments
from .graph import Graph, graph
from .scopes import record_modules
from .walkthrough import model_graph, model_graph_html, step_through

__all__ = ["Graph", "add_graph_arguments", "examples", "graph", "model_graph", "model_graph_html",
           "record_modules", "step_through"]
