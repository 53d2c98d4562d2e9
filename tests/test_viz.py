"""nnscratch.viz: the drawn graph matches the engine's graph node for node, every gradient it shows is
the engine's `.grad`, the step-through ends at backward's result, and the lecture's worked examples
give the lecture's numbers (checked against PyTorch too)."""

import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from nnscratch import Tensor, nn, viz
from nnscratch.viz import examples
from nnscratch.viz import format as fmt
from nnscratch.viz.capture import topological_order
from nnscratch.viz.layout import layout

SVG = "{http://www.w3.org/2000/svg}"
NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?")


def nodes(svg_text, testid):
    root = ET.fromstring(svg_text)
    return [g for g in root.iter(f"{SVG}g") if g.get("data-testid") == testid]


def text_of(node, cls):
    """The texts of `node`'s <text class=cls> elements."""
    return [t.text for t in node.iter(f"{SVG}text") if t.get("class") == cls]


def shown_numbers(line, prefix):
    assert line.startswith(prefix), line
    return np.array([float(n) for n in NUMBER.findall(line[len(prefix):])])


def engine_nodes(output):
    """Every tensor and every Function behind `output`, walked here independently of viz."""
    tensors, functions, stack = {}, {}, [output]
    while stack:
        t = stack.pop()
        if id(t) in tensors:
            continue
        tensors[id(t)] = t
        if t._ctx is not None:
            functions[id(t._ctx)] = t._ctx
            stack.extend(t._ctx.inputs)
    return tensors, functions


# ----- the drawing matches the graph ---------------------------------------------------------------
@pytest.mark.parametrize("name, n_values, n_ops", [("add-mul", 5, 2), ("sigmoid-neuron", 15, 8),
                                                   ("gate-patterns", 9, 4), ("fan-out", 4, 2)])
def test_svg_parses_and_has_one_node_per_tensor_and_per_operation(name, n_values, n_ops):
    output, _ = examples.EXAMPLES[name].build()
    tensors, functions = engine_nodes(output)
    assert (len(tensors), len(functions)) == (n_values, n_ops)  # the hand count of the lecture's circuit
    g = viz.graph(output)
    svg = g.svg()
    values, ops = nodes(svg, "value-node"), nodes(svg, "op-node")
    assert len(values) == n_values and len(ops) == n_ops
    drawn = {v.get("data-node"): v for v in values}
    assert {id(g.values[k].tensor) for k in drawn} == set(tensors)
    assert {id(g.ops[o.get("data-node")].fn) for o in ops} == set(functions)


def test_op_nodes_show_the_gate_and_its_backward_rule_in_words():
    output, _ = examples.sigmoid_neuron()
    svg = viz.graph(output).svg()
    gates = sorted(text_of(o, "gate")[0] for o in nodes(svg, "op-node"))
    assert gates == ["add", "add", "add", "div", "exp", "mul", "mul", "neg"]
    mul = next(o for o in nodes(svg, "op-node") if text_of(o, "gate") == ["mul"])
    assert " ".join(text_of(mul, "rule")) == "a mul gate swaps its inputs: da = g·b, db = g·a"


def test_every_gradient_shown_equals_grad_and_pytorch():
    output, leaves = examples.two_layer_net()
    g = viz.graph(output)
    output.backward()
    svg = g.svg()
    checked = 0
    for node in nodes(svg, "value-node"):
        v = g.values[node.get("data-node")]
        grads = text_of(node, "grad")
        if not v.tensor.requires_grad:
            assert grads == []  # inputs and targets get no gradient
            continue
        assert v.tensor.grad is not None  # intermediates keep theirs (retain_grad)
        shown = shown_numbers(grads[0], "grad ")
        np.testing.assert_allclose(shown, np.ravel(v.tensor.grad), rtol=1e-3, atol=1e-12)
        checked += 1
    assert checked == len(g.ops) + 2  # every op's output and both weights
    torch = pytest.importorskip("torch")
    x, y, w1, w2 = (torch.tensor(a, requires_grad=True) for a in examples._two_layer_arrays())
    torch_loss = ((torch.sigmoid(x @ w1) @ w2 - y) ** 2).sum()
    torch_loss.backward()
    np.testing.assert_allclose(leaves["w1"].grad, w1.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(leaves["w2"].grad, w2.grad.numpy(), rtol=1e-10)


def test_large_tensors_show_statistics_and_small_ones_their_values():
    x = Tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
    out = (x * 2.0).sum()
    g = viz.graph(out, labels={x: "x"})
    out.backward()
    node = next(n for n in nodes(g.svg(), "value-node") if text_of(n, "title") == ["x"])
    assert text_of(node, "data") == ["data mean 5.5 std 3.452 min 0 max 11"]
    assert text_of(node, "grad") == ["grad mean 2 std 0 min 2 max 2"]
    root = next(n for n in nodes(g.svg(), "value-node") if n.get("data-node") == g.root)
    assert text_of(root, "meta") == ["scalar float64"] and text_of(root, "data") == ["data 132"]


@pytest.mark.parametrize("build, name, terms, total", [
    (examples.fan_out, "x", "= -4 + 1 (sum of 2 uses)", -3.0),  # the lecture's copy: x·y + x
    (lambda: ((lambda x: (x * x, {"x": x}))(examples._leaf(3.0, "x"))), "x", "= 3 + 3 (sum of 2 uses)", 6.0),
])
def test_a_node_used_twice_shows_its_gradient_is_the_sum_of_what_came_back(build, name, terms, total):
    output, leaves = build()
    g = viz.graph(output)
    output.backward()
    node = next(n for n in nodes(g.svg(), "value-node") if text_of(n, "title") == [name])
    assert text_of(node, "fanout") == [terms]
    assert shown_numbers(text_of(node, "grad")[0], "grad ") == pytest.approx([total])
    assert float(leaves[name].grad) == total


# ----- the step-through ------------------------------------------------------------------------------
def test_step_through_writes_the_chain_rule_with_the_lectures_numbers():
    g = viz.step_through(lambda x, y, z: (x + y) * z, -2.0, 5.0, -4.0)
    lines = [line for frame in g.frames() for line in frame["text"]]
    assert "v2 = x + y = -2 + 5 = 3" in lines
    assert "L = v2 · z = 3 · -4 = -12" in lines  # an unnamed output is the loss L
    assert "dL/dv2 = dL/dL · dL/dv2 = 1 · -4 = -4" in lines
    assert "dL/dx = dL/dv2 · dv2/dx = -4 · 1 = -4" in lines
    named = examples.EXAMPLES["add-mul"].run()
    lines = [line for frame in named.frames() for line in frame["text"]]
    assert "df/dx = df/dq · dq/dx = -4 · 1 = -4" in lines and "df/dz = df/df · df/dz = 1 · 3 = 3" in lines


def test_backward_frames_follow_the_engines_real_order_and_end_at_its_result():
    output, leaves = examples.sigmoid_neuron()
    expected_order = [t._ctx for t in reversed(topological_order(output)) if t._ctx is not None]
    g = viz.graph(output)
    output.backward()
    frames = g.frames()
    backward = [f for f in frames if f["phase"] == "backward"]
    op_frames = [g.ops[f["focus"][0]].fn for f in backward[1:]]
    assert op_frames == expected_order
    shown_grad, shown_data = set(), set()
    for frame in frames:  # replay to the last frame, as the page does
        shown_grad.update(frame["show_grad"])
        shown_data.update(frame["show_data"])
    assert shown_data == set(g.values)
    assert shown_grad == {vid for vid, v in g.values.items() if v.tensor.requires_grad}
    for vid in shown_grad:
        np.testing.assert_array_equal(g.grad_of(vid), g.values[vid].tensor.grad)
    assert [round(float(leaves[k].grad), 2) for k in ("w0", "w1", "w2")] == [-0.20, -0.39, 0.20]


def test_step_through_needs_a_scalar_and_a_backward():
    with pytest.raises(ValueError, match=r"scalar Tensor.*returned \(2,\).*\.sum\(\)"):
        viz.step_through(lambda a: a * 2.0, [1.0, 2.0])
    x = Tensor(2.0, requires_grad=True)
    g = viz.graph(x * x)
    with pytest.raises(ValueError, match="call backward"):
        g.html(step_through=True)


# ----- the lecture's numbers -----------------------------------------------------------------------
def grads(example):
    g = example.run()
    return g, example.measured(g)


def test_worked_examples_give_the_lectures_numbers():
    _, add_mul = grads(examples.EXAMPLES["add-mul"])
    assert add_mul == {"output": -12.0, "x": -4.0, "y": -4.0, "z": 3.0}
    _, neuron = grads(examples.EXAMPLES["sigmoid-neuron"])
    assert [round(neuron[k], 2) for k in ("w0", "w1", "w2", "x0", "x1")] == [-0.20, -0.39, 0.20, 0.39, -0.59]
    assert round(neuron["output"], 2) == 0.73
    _, patterns = grads(examples.EXAMPLES["gate-patterns"])
    assert patterns == {"output": -20.0, "x": -8.0, "y": 6.0, "z": 2.0, "w": 0.0}  # max routes to z only
    _, fan = grads(examples.EXAMPLES["fan-out"])
    assert fan == {"output": -9.0, "x": -3.0, "y": 3.0}
    for example in examples.EXAMPLES.values():
        assert example.matches(example.run()), example.name


def test_the_two_layer_net_matches_the_lectures_hand_written_backward():
    _, measured = grads(examples.EXAMPLES["two-layer-net"])
    by_hand = examples.two_layer_by_hand()
    np.testing.assert_allclose(measured["w1"], by_hand["w1"], rtol=1e-12)
    np.testing.assert_allclose(measured["w2"], by_hand["w2"], rtol=1e-12)


def test_sigmoid_neuron_intermediate_gradients_match_pytorch():
    torch = pytest.importorskip("torch")
    output, _ = examples.sigmoid_neuron()
    g = viz.graph(output)
    output.backward()
    w0, x0, w1, x1, w2 = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (2, -1, -3, -2, -3))
    s = w0 * x0 + w1 * x1 + w2
    e = torch.exp(-s)
    for t in (s, e):
        t.retain_grad()
    (1.0 / (1.0 + e)).backward()
    by_label = {v.label: vid for vid, v in g.values.items() if v.label}
    assert g.grad_of(by_label["s"]) == pytest.approx(s.grad.item(), rel=1e-12)
    assert g.grad_of(by_label["e"]) == pytest.approx(e.grad.item(), rel=1e-12)


# ----- modules, labels, errors -----------------------------------------------------------------------
def mlp_and_loss():
    model = nn.Sequential(nn.Linear(4, 5, rng=0), nn.ReLU(), nn.Linear(5, 5, rng=1), nn.ReLU(), nn.Linear(5, 3, rng=2))
    x = np.random.default_rng(0).standard_normal((1, 4)).astype(np.float32)
    return model, x


def test_a_three_layer_mlp_with_its_loss_collapses_to_eight_boxes():
    model, x = mlp_and_loss()
    g = viz.model_graph(model, x, 2)
    svg = g.svg()
    boxes = nodes(svg, "module-node")
    assert [text_of(b, "title")[0] for b in boxes] == [
        "0 · Linear(4 -> 5)", "1 · ReLU()", "2 · Linear(5 -> 5)", "3 · ReLU()", "4 · Linear(5 -> 3)",
        "CrossEntropyLoss(reduction='mean')"]
    assert len(boxes) + len(nodes(svg, "value-node")) + len(nodes(svg, "op-node")) == 8  # + x and the target
    first = boxes[0]
    weight_line = next(t for t in text_of(first, "param") if t.startswith("weight"))
    assert weight_line.endswith("grad " + fmt.array(model[0].weight.grad))
    expanded = g.svg(collapse=None)
    assert len(nodes(expanded, "module-node")) == 0 and len(nodes(expanded, "op-node")) == 6
    assert {v.label for v in g.values.values()} >= {"0.weight", "0.bias", "4.weight", "x", "target"}


def test_collapse_needs_recorded_modules_and_a_known_mode():
    model, x = mlp_and_loss()
    out = model(x).sum()
    with pytest.raises(ValueError, match="record_modules"):
        viz.graph(out, collapse="modules")
    with pytest.raises(ValueError, match="collapse='layers' is not one of"):
        viz.graph(out, collapse="layers")


def test_labels_name_tensors_either_way_round_or_from_a_module():
    model = nn.Linear(2, 1, rng=0)
    x = Tensor(np.ones((1, 2), np.float32))
    out = model(x).sum()
    for labels in ({x: "input"}, {"input": x}, [model, {x: "input"}]):
        names = {v.label for v in viz.graph(out, labels=labels).values.values()}
        assert "input" in names
    assert {"weight", "bias"} <= {v.label for v in viz.graph(out, labels=model).values.values()}
    with pytest.raises(TypeError, match="labels= takes a dict"):
        viz.graph(out, labels="x")


def test_a_graph_freed_by_backward_says_to_draw_it_before():
    x = Tensor(3.0, requires_grad=True)
    y = (x * x).exp()
    y.backward()
    with pytest.raises(RuntimeError, match=r"before calling backward\(\).*retain_graph=True"):
        viz.graph(y)
    z = x * 2.0 + 1.0
    z.backward(retain_graph=True)
    assert len(viz.graph(z).ops) == 2


def test_save_writes_svg_or_html_and_refuses_other_names(tmp_path):
    g = examples.EXAMPLES["add-mul"].run()
    ET.parse(g.save(tmp_path / "g.svg"))
    page = g.save(tmp_path / "g.html", step_through=True).read_text()
    assert page.startswith("<!DOCTYPE html>") and "http://" not in page.replace("http://www.w3.org", "")
    assert "data-testid=\"step-slider\"" in page
    with pytest.raises(ValueError, match="writes .svg or .html"):
        g.save(tmp_path / "g.png")
    with pytest.raises(ValueError, match="save it as .html"):
        g.save(tmp_path / "g.svg", step_through=True)
    assert g._repr_svg_().startswith("<svg") and "nnscratchViz.init" in g._repr_html_()


def test_model_graph_html_is_a_fragment_and_leaves_the_gradients_alone():
    model, x = mlp_and_loss()
    before = [p.grad for p in model.parameters()]
    fragment = viz.model_graph_html(model, (x, 1))
    assert "<svg" in fragment and "<html" not in fragment and 'data-testid="module-node"' in fragment
    assert [p.grad for p in model.parameters()] == before


# ----- layout --------------------------------------------------------------------------------------
def random_dag(n, rng):
    sizes = {f"n{i}": (float(rng.integers(40, 200)), float(rng.integers(20, 80))) for i in range(n)}
    edges = [(f"n{j}", f"n{i}") for i in range(1, n) for j in rng.choice(i, size=min(i, 2), replace=False)]
    return sizes, edges


def test_layout_draws_every_edge_left_to_right_and_no_two_nodes_overlap():
    sizes, edges = random_dag(200, np.random.default_rng(0))
    placed = layout(sizes, edges)
    for s, t in edges:
        assert placed.centers[s][0] < placed.centers[t][0]
    boxes = [(placed.centers[n][0], placed.centers[n][1], *sizes[n]) for n in sizes]
    for i, (x1, y1, w1, h1) in enumerate(boxes):
        for x2, y2, w2, h2 in boxes[i + 1:]:
            apart = abs(x1 - x2) >= (w1 + w2) / 2 or abs(y1 - y2) >= (h1 + h2) / 2
            assert apart
    assert all(0 <= x <= placed.width and 0 <= y <= placed.height for x, y in placed.centers.values())


def test_crossing_count_equals_the_pairs_out_of_order():
    from itertools import combinations

    from nnscratch.viz.layout import _inversions

    rng = np.random.default_rng(1)
    for n in (0, 1, 2, 7, 31, 64):
        seq = rng.integers(0, 6, n).tolist()
        assert _inversions(seq) == sum(seq[i] > seq[j] for i, j in combinations(range(n), 2))
    assert _inversions([3, 2, 1]) == 3 and _inversions([1, 1, 2]) == 0


def test_layout_names_an_edge_to_a_missing_node():
    with pytest.raises(ValueError, match="'b' that has no size"):
        layout({"a": (10, 10)}, [("a", "b")])


def test_a_two_hundred_node_graph_renders_as_valid_svg():
    x = Tensor(np.float64(0.5), requires_grad=True)
    y = x
    for k in range(66):  # three nodes a step: the op, its output, and a constant
        y = y * 1.01 + 0.001 * k
    g = viz.graph(y)
    y.backward()
    assert len(g.values) + len(g.ops) >= 200
    svg = g.svg()
    assert len(nodes(svg, "op-node")) == len(g.ops)
    ns_grad = float(x.grad)
    assert ns_grad == pytest.approx(1.01 ** 66)


def test_jupyter_gets_both_an_svg_and_an_html_form():
    formatters = pytest.importorskip("IPython.core.formatters")
    g = examples.EXAMPLES["fan-out"].run()
    data, _ = formatters.DisplayFormatter().format(g)
    ET.fromstring(data["image/svg+xml"])
    assert 'data-testid="step-slider"' in data["text/html"]  # an example steps through in the notebook


def test_unnamed_values_are_called_in_the_text_what_the_drawing_calls_them():
    g = viz.step_through(lambda a, b: a * b + a, 3.0, -4.0)
    titles = {text_of(n, "title")[0] for n in nodes(g.svg(), "value-node")}
    assert titles == {"a", "b", "v2", "L"}
    lines = [line for frame in g.frames() for line in frame["text"]]
    assert "dL/da = 1 + (-4) = -3: a was used 2 times, a copy sums"  # the engine's order in lines
