"""Every lab experiment, in its quick form: the measured numbers point the way the claim says.

A claim the data does not support would be reported as such by the lab; these tests check that on
this code the measurements come out as the lecture predicts, and that the lab writes its files.
"""

import json

import pytest

from nnscratch import lab
from nnscratch.cli import main


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    pytest.importorskip("matplotlib")
    out = tmp_path_factory.mktemp("lab")
    return out, {name: lab.run(name, quick=True, seed=0, out=out) for name in lab.EXPERIMENTS}


def measured(results, name):
    return results[1][name]["measured"]


def test_every_experiment_writes_its_result_and_figures(results):
    out, all_results = results
    assert len(all_results) == 14
    for name, result in all_results.items():
        saved = json.loads((out / name / "result.json").read_text())
        assert set(saved) >= {"claim", "measured", "verdict", "reason"}
        assert saved["verdict"] in ("supported", "not supported")
        assert saved["figures"] and all((out / name / f).stat().st_size > 1000 for f in saved["figures"])
        assert saved["seconds"] < 60  # --quick is meant to stay under 30 s on 2 cores


def test_linear_limits(results):
    m = measured(results, "linear-limits")
    for name in ("rings", "spirals", "xor"):
        assert m[name]["mlp"] > m[name]["linear"] + 0.2
    assert m["rings_polar_linear"] > 0.95


def test_space_warping(results):
    m = measured(results, "space-warping")
    assert m["hidden_space_linear_accuracy"] >= 0.95 > m["input_space_linear_accuracy"] + 0.2


def test_universal_approximation(results):
    for errors in measured(results, "universal-approximation").values():
        widths = sorted(errors, key=int)
        assert errors[widths[-1]] < 0.1 * errors[widths[0]]


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
    assert set(m["ms_forward_backward"]) == {"sigmoid", "tanh", "relu", "leaky-relu", "elu"}


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


def test_augmentation(results):
    m = measured(results, "augmentation")
    assert m["with augmentation"]["gap"] < m["without"]["gap"]


def test_loss_functions(results):
    m = measured(results, "loss-functions")
    assert abs(m["MAE_slope"] - 2) < abs(m["MSE_slope"] - 2)
    assert m["cross-entropy_test_accuracy"] > m["MSE on softmax_test_accuracy"]
    assert m["gaussian_nll_minus_half_mse_plus_constant"] < 1e-5


def test_templates(results):
    assert measured(results, "templates")["templates_most_like_their_own_class"] >= 0.7


def test_lecture_network(results):
    assert measured(results, "lecture-network")["max_relative_difference"] < 1e-9


def test_features_vs_end_to_end(results):
    m = measured(results, "features-vs-end-to-end")
    assert m["linear on HoG"] > m["linear on pixels"]


def test_lab_command_lists_runs_and_indexes(results, capsys):
    out, _ = results
    assert main(["lab", "list"]) == 0
    listing = capsys.readouterr().out
    assert all(name in listing for name in lab.EXPERIMENTS)
    assert main(["lab", "run", "lecture-network", "--quick", "--out", str(out)]) == 0
    assert "lecture-network: supported" in capsys.readouterr().out
    index = (out / "index.html").read_text()
    assert all(f'id="{name}"' in index for name in lab.EXPERIMENTS)
    with pytest.raises(SystemExit) as exit_:
        main(["lab", "run"])
    assert exit_.value.code == 2
    assert main(["lab", "run", "no-such-thing", "--out", str(out)]) == 1
