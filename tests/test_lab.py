"""Every lab experiment, in its quick form: each verdict is the one its own numbers give, the measured
numbers point the way the lecture says where they robustly do, the figures teach (no text of any
figure overlaps another; captions), and the lab writes its files and index."""

import json

import numpy as np
import pytest

from nnscratch import lab
from nnscratch.cli import main
from nnscratch.lab import base
from nnscratch.report import plots

EXPECTED = {"activations", "initialization", "learning-rate", "linear-limits", "space-warping",
            "universal-approximation", "depth-without-nonlinearity", "preprocessing", "augmentation",
            "loss-functions", "templates", "lecture-network", "features-vs-end-to-end", "backprop"}


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """Every experiment's --quick run, with every figure it draws checked for overlapping text."""
    pytest.importorskip("matplotlib")
    out = tmp_path_factory.mktemp("lab")
    overlaps, drawn = {}, []
    original_png = plots.png

    def checked_png(fig):
        drawn.append(fig)
        found = plots.text_overlaps(fig)
        if found:
            overlaps[f"figure {len(drawn)} ({fig._suptitle.get_text() if fig._suptitle else fig.axes[0].get_title()})"] = found
        return original_png(fig)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(plots, "png", checked_png)
        all_results = {name: lab.run(name, quick=True, seed=0, out=out) for name in lab.EXPERIMENTS}
    return out, all_results, overlaps, len(drawn)


def measured(results, name):
    return results[1][name]["measured"]


def test_every_experiment_writes_its_result_figures_and_captions(results):
    out, all_results, _, _ = results
    assert set(all_results) == EXPECTED
    for name, result in all_results.items():
        saved = json.loads((out / name / "result.json").read_text())
        assert set(saved) >= {"claim", "parts", "measured", "verdict", "reason", "key_number", "figures", "captions"}
        assert saved["figures"] and all((out / name / f).stat().st_size > 1000 for f in saved["figures"])
        assert all(len(saved["captions"][f]) > 20 for f in saved["figures"]), f"{name}: a figure without a caption"


def test_every_verdict_is_the_one_its_own_parts_give(results):
    out, all_results, _, _ = results
    for name in all_results:
        saved = json.loads((out / name / "result.json").read_text())
        parts = saved["parts"]
        assert parts and all(set(p) == {"claim", "holds", "numbers", "why_not"} for p in parts)
        held = [p["holds"] for p in parts]
        expected = "supported" if all(held) else "not supported" if not any(held) else "mixed"
        assert saved["verdict"] == expected == lab.verdict_from_parts(parts), name
        for part in parts:
            assert part["numbers"] in saved["reason"]
            assert any(ch.isdigit() for ch in part["numbers"]), f"{name}: a part decided without numbers"
            if not part["holds"]:
                assert part["why_not"], f"{name}: a failing part says nothing of why"


def test_no_text_overlaps_in_any_lab_figure(results):
    _, _, overlaps, drawn = results
    assert drawn >= 15
    assert not overlaps, f"overlapping text: {overlaps}"


def test_verdict_rule_all_some_none():
    part = lambda holds: base.Part("p", holds, "1.0")  # noqa: E731
    assert base.verdict_from_parts([part(True), part(True)]) == "supported"
    assert base.verdict_from_parts([part(True), part(False)]) == "mixed"
    assert base.verdict_from_parts([{"holds": False}, {"holds": False}]) == "not supported"
    with pytest.raises(ValueError, match="at least one part"):
        base.verdict_from_parts([])


def test_a_claim_with_one_failing_part_is_mixed_and_says_why(tmp_path, monkeypatch):
    monkeypatch.setattr(base, "EXPERIMENTS", {})

    @base.experiment("two-parts", "A holds and B holds.")
    def two_parts(ctx):
        return base.Verdict([base.Part("A", True, "a = 0.91"),
                             base.Part("B", False, "b = 0.42", "too few epochs to learn B")], {"a": 0.91, "b": 0.42})

    result = base.run("two-parts", out=tmp_path)
    assert result["verdict"] == "mixed"
    assert result["reason"] == "A: holds (a = 0.91); B: does not hold (b = 0.42); why: too few epochs to learn B"


def test_text_overlaps_finds_overlapping_titles_and_passes_apart_ones():
    plt = plots.pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(6, 2.5))
    axes[0].set_title("a long title that runs into its neighbour's")
    axes[1].set_title("the neighbour", loc="left")
    assert plots.text_overlaps(fig)
    fig.suptitle("on top")
    axes[0].set_title("apart")
    axes[1].set_title("")
    fig.set_layout_engine("constrained")
    assert plots.text_overlaps(fig) == []
    plt.close(fig)


def test_the_lab_trains_through_fit_and_the_run_factory(monkeypatch):
    """The lab has no training loop or model factory of its own: train() calls train.fit, model() runs.build_model."""
    calls = []
    import nnscratch.lab.base as lab_base

    real_fit, real_build = lab_base.fit, lab_base.runs.build_model
    monkeypatch.setattr(lab_base, "fit", lambda *a, **k: calls.append("fit") or real_fit(*a, **k))
    monkeypatch.setattr(lab_base.runs, "build_model", lambda *a, **k: calls.append("build_model") or real_build(*a, **k))
    X = np.random.default_rng(0).standard_normal((32, 2)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    net = base.model(2, [4], 2, seed=0)
    curve = base.train(net, X, y, steps=5, lr=0.1)
    assert calls == ["build_model", "fit"] and len(curve.losses) == 5 and len(curve.lrs) == 5


def test_a_diverging_run_is_cut_and_marked_at_its_step():
    X = np.random.default_rng(1).standard_normal((64, 2)).astype(np.float32) * 100
    y = (X[:, 0] > 0).astype(int)
    curve = base.train(base.model(2, [8], 2, seed=0), X, y, steps=50, lr=1e6, optimizer="sgd")
    # stopped at the step whose loss (or parameters) left the finite range: the last loss is inf, nan or huge
    assert curve.diverged and curve.diverged_at == len(curve.losses) and not abs(curve.losses[-1]) < 1e6 * curve.losses[0]
    plt = plots.pyplot()
    fig, ax = plt.subplots()
    base.plot_curve(ax, curve, "huge", clip=5.0)
    assert ax.lines[0].get_label() == f"huge: diverged at step {curve.diverged_at}"
    assert np.max(ax.lines[0].get_ydata(), initial=0) <= 5.0
    plt.close(fig)


def test_space_warping_separates_xor_and_shows_rings_need_width_3(results):
    out, all_results, _, _ = results
    m = measured(results, "space-warping")
    assert m["hidden_space_linear_accuracy"] >= 0.95 > m["input_space_linear_accuracy"] + 0.2
    assert all(acc < 1.0 for acc in m["rings_width_2_accuracy_by_depth"].values())  # a homeomorphism can't untangle
    figures = all_results["space-warping"]["figures"]
    assert {"chevrons-warped-step-by-step.png", "rings-width-2-vs-3.png"} <= set(figures)
    if pytest.importorskip("PIL"):
        from PIL import Image

        with Image.open(out / "space-warping" / "chevrons-warped.gif") as gif:
            assert gif.format == "GIF" and gif.n_frames > 10


def test_the_gif_is_skipped_cleanly_without_pillow(monkeypatch):
    from nnscratch.lab import warping

    monkeypatch.setattr(warping.importlib.util, "find_spec", lambda name: None)
    assert warping.animation_gif(plots.pyplot(), [np.zeros((3, 2))] * 4, [np.zeros((2, 5, 2))] * 4, np.zeros(3, int)) is None


def test_linear_limits(results):
    m = measured(results, "linear-limits")
    for name in ("rings", "spirals", "xor"):
        assert m[name]["mlp"] > m[name]["linear"] + 0.2
    assert m["rings_polar_linear"] > 0.95


def test_universal_approximation(results):
    m = measured(results, "universal-approximation")
    for name in ("sin", "abs"):
        widths = sorted(m[name], key=int)
        assert m[name][widths[-1]] < 0.1 * m[name][widths[0]]
    assert m["sum_of_bumps_minus_output"] < 1e-4


def test_depth_without_nonlinearity(results):
    m = measured(results, "depth-without-nonlinearity")
    assert m["max_difference_deep_vs_collapsed"] < 1e-9
    assert abs(m["accuracy_deep_linear"] - m["accuracy_single_linear"]) < 0.1
    assert m["accuracy_same_depth_with_relu"] > m["accuracy_deep_linear"] + 0.2


def test_activations(results):
    m = measured(results, "activations")
    norms = m["gradient_norm_per_layer"]
    assert norms["sigmoid"][0] * 10 <= norms["relu"][0]  # sigmoid's first-layer gradient vanishes
    assert m["zigzag_same_sign_fraction"] == 1.0
    assert all(0 <= f <= 1 for f in m["dead_relu_fraction_per_layer"])


def test_initialization(results):
    m = measured(results, "initialization")
    assert m["tanh/small 0.01"]["std_per_layer"][-1] < 1e-3
    kaiming = m["relu/kaiming"]["std_per_layer"]
    assert 0.5 <= kaiming[-1] / kaiming[0] <= 2
    assert m["tanh/large 1.0"]["saturated_fraction_last"] > 0.5


def test_learning_rate(results):
    m = measured(results, "learning-rate")
    good = m["good (0.02)"]["final_loss"]
    assert m["too large (1.0)"]["diverged"] or m["too large (1.0)"]["final_loss"] > good
    assert m["too small (1e-4)"]["final_loss"] > good


def test_preprocessing(results):
    m = measured(results, "preprocessing")
    assert m["standardised"]["test_accuracy"] > m["raw (0-255)"]["test_accuracy"]


def test_loss_functions(results):
    m = measured(results, "loss-functions")
    assert abs(m["MAE_slope"] - 2) < abs(m["MSE_slope"] - 2)
    assert m["gaussian_nll_minus_half_mse_plus_constant"] < 1e-5


def test_templates(results):
    assert measured(results, "templates")["templates_most_like_their_own_class"] >= 0.7


def test_lecture_network(results):
    assert measured(results, "lecture-network")["max_relative_difference"] < 1e-9


def test_features_vs_end_to_end(results):
    m = measured(results, "features-vs-end-to-end")
    assert m["linear on HoG"] > m["linear on pixels"]


def test_features_vs_end_to_end_has_the_cnn_as_its_end_to_end_row(results):
    out = results[0]
    saved = json.loads((out / "features-vs-end-to-end" / "result.json").read_text())
    m = saved["measured"]
    assert (m["cnn_model"], m["cnn_epochs"]) == lab.practice.CNN_ROW["quick"] == ("cnn:8,16", 2)
    assert 0.5 < m["CNN on pixels"] <= 1  # chance is 0.1: the CNN learned from the pixels
    others = [m[f"{kind} on {name}"] for kind, name in [("linear", "pixels"), ("linear", "HoG"), ("linear", "BoW"),
                                                        ("linear", "HoG + BoW"), ("MLP", "pixels"), ("MLP", "HoG")]]
    cnn_part = saved["parts"][2]
    assert len(saved["parts"]) == 3 and cnn_part["claim"].startswith("a convolutional network")
    assert cnn_part["holds"] == (m["CNN on pixels"] > max(others))
    assert f"on pixels {m['CNN on pixels']:.3f} vs the best other row" in cnn_part["numbers"]
    assert saved["verdict"] == base.verdict_from_parts(saved["parts"])
    assert "CNN" in saved["key_number"] and "green: a CNN" in saved["captions"]["features-vs-end-to-end.png"]



@pytest.mark.parametrize("cnn, holds", [(0.871, True), (0.869, False)])
def test_the_cnn_part_holds_only_when_the_cnn_beats_every_other_row(cnn, holds):
    accuracies = {"linear on pixels": 0.80, "linear on HoG": 0.85, "linear on BoW": 0.70, "linear on HoG + BoW": 0.86,
                  "MLP on pixels": 0.84, "MLP on HoG": 0.87, "CNN on pixels": cnn}
    parts = lab.practice._features_vs_end_to_end_parts(accuracies, 3000, 5, "cnn:8,16", 2, quick=True)
    assert [p.holds for p in parts] == [True, False, holds]
    assert f"vs the best other row (MLP on HoG) 0.870 ({cnn - 0.87:+.3f})" in parts[2].numbers
    assert base.verdict_from_parts(parts) == "mixed"
    assert lab.practice._features_key_number(accuracies).endswith(f"CNN {cnn - 0.87:+.3f} vs best other")

def test_lab_command_lists_runs_and_indexes(results, capsys):
    out, all_results, _, _ = results
    assert main(["lab", "list"]) == 0
    listing = capsys.readouterr().out
    assert all(name in listing for name in lab.EXPERIMENTS)
    # the cheapest experiment: what is checked is the verb's run-one-and-reindex path, not the experiment
    assert main(["lab", "run", "backprop", "--quick", "--out", str(out)]) == 0
    assert "backprop: supported" in capsys.readouterr().out
    index = (out / "index.html").read_text()
    assert all(f'id="{name}"' in index and f'href="#{name}"' in index for name in lab.EXPERIMENTS)
    assert index.index("<table>") < index.index("<section")  # the claims table opens the page
    for name, result in all_results.items():
        assert all(f'src="{name}/{f}"' in index for f in result["figures"])
    with pytest.raises(SystemExit) as exit_:
        main(["lab", "run"])
    assert exit_.value.code == 2
    assert main(["lab", "run", "no-such-thing", "--out", str(out)]) == 1
