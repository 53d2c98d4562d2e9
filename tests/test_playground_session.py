"""The playground's Python side: settings from the URL hash, its data and CSV checks, and the
Session that trains the network and computes what the page draws."""

import base64

import numpy as np
import pytest

from nnscratch.playground import datasets
from nnscratch.playground.session import Session, int8_base64, link_weights
from nnscratch.playground.settings import Settings, schema

torch = pytest.importorskip("torch")


def session(**hash_values):
    return Session(Settings.from_hash({k: str(v) for k, v in hash_values.items()}))


# ----- settings -------------------------------------------------------------------------------
EVERY_SETTING = {
    "dataset": "spiral", "classes": "3", "noise": "25", "ratio": "70", "batch": "17",
    "features": "x1,x2,x1sq,sinx2", "preprocess": "whiten", "layers": "5,2,3", "activation": "relu",
    "acts": "elu,tanh,maxout", "init": "kaiming", "optimizer": "adam", "lr": "0.003", "schedule": "warmup-step",
    "steps": "500", "reg": "l1", "rate": "0.001", "dropout": "0.1", "seed": "42",
}


def test_settings_round_trip_through_the_hash_strings():
    settings = Settings.from_hash(EVERY_SETTING)
    assert Settings.from_hash(settings.to_hash()) == settings
    assert settings.layers == [5, 2, 3] and settings.features == ["x1", "x2", "x1sq", "sinx2"]
    assert settings.layer_activations() == ["elu", "tanh", "maxout"]
    assert set(settings.to_hash()) == set(EVERY_SETTING)  # the hash holds every setting


def test_settings_defaults_are_what_the_page_is_told():
    assert schema()["defaults"] == Settings().to_hash()
    assert Settings.from_hash({"play": "1", "discretize": "1"}) == Settings()  # view keys are not settings


@pytest.mark.parametrize("key, value, says", [
    ("layers", "4,17", "from 1 to 16"),
    ("layers", "1,1,1,1,1,1,1", "at most 6"),
    ("noise", "60", "from 0 to 50"),
    ("lr", "0", "> 0.0"),
    ("lr", "nan", "> 0.0"),
    ("activation", "swish", "choose one of step, sigmoid, tanh"),
    ("features", "x1,x1", "twice"),
    ("features", "", "at least one"),
    ("seed", "-1", "from 0"),
    ("acts", "tanh", "give one per layer"),
])
def test_bad_settings_are_refused_naming_the_key_and_the_fix(key, value, says):
    with pytest.raises(ValueError) as error:
        Settings.from_hash({key: value})
    assert key in str(error.value) and says in str(error.value)


def test_every_bad_key_is_reported_at_once():
    with pytest.raises(ValueError) as error:
        Settings.from_hash({"noise": "x", "init": "zeros", "batch": "0"})
    assert all(k in str(error.value) for k in ("noise=", "init=", "batch="))


# ----- data -----------------------------------------------------------------------------------
def test_features_are_the_named_functions_of_x1_and_x2():
    points = np.array([[1.0, 2.0], [-0.5, 3.0]], np.float32)
    got = datasets.features(points, ["x1", "x2", "x1sq", "x2sq", "x1x2", "sinx1", "sinx2"])
    expected = [[1, 2, 1, 4, 2, np.sin(1), np.sin(2)], [-0.5, 3, 0.25, 9, -1.5, np.sin(-0.5), np.sin(3)]]
    np.testing.assert_allclose(got, expected, rtol=1e-6)


@pytest.mark.parametrize("name, classes", [("circle", 2), ("xor", 2), ("gauss", 4), ("spiral", 5), ("moons", 2),
                                           ("rings", 3)])
def test_each_classification_set_fills_the_square_with_its_classes(name, classes):
    X, y = datasets.generate(name, n_classes=classes, noise=0.2, rng=3)
    assert X.shape == (datasets.N_POINTS, 2) and X.dtype == np.float32
    assert np.abs(X).max() <= datasets.DOMAIN
    assert sorted(set(y.tolist())) == list(range(classes))
    X2, y2 = datasets.generate(name, n_classes=classes, noise=0.2, rng=3)
    np.testing.assert_array_equal(X, X2)  # the seed decides every point


def test_circle_classes_are_inside_and_outside_without_noise():
    X, y = datasets.generate("circle", noise=0.0, rng=0)
    radius = np.hypot(X[:, 0], X[:, 1])
    assert radius[y == 0].max() <= 0.5 * datasets.RADIUS + 1e-5 and radius[y == 1].min() >= 0.7 * datasets.RADIUS - 1e-5


def test_regression_plane_is_the_normalised_sum():
    X, y = datasets.generate("reg-plane", noise=0.0, rng=0)
    np.testing.assert_allclose(y, (X[:, 0] + X[:, 1]) / (2 * datasets.RADIUS), atol=1e-6)


def test_a_good_csv_maps_labels_to_classes_in_order():
    X, y, labels = datasets.parse_csv("x1,x2,label\n0,1,b\n2.5,-1,a\n\n3,3,b\n")
    np.testing.assert_array_equal(X, [[0, 1], [2.5, -1], [3, 3]])
    assert labels == ["a", "b"] and y.tolist() == [1, 0, 1]
    _, y, labels = datasets.parse_csv("1,1,10\n2,2,9\n3,3,10\n")  # numeric labels sort as numbers
    assert labels == ["9", "10"] and y.tolist() == [1, 0, 1]
    X, y, _ = datasets.parse_csv("\n\nx1,x2,label\n1,2,a\n3,4,b\n")  # blank lines before the header: was refused
    assert X.tolist() == [[1, 2], [3, 4]] and y.tolist() == [0, 1]


@pytest.mark.parametrize("text, names, y", [("0,0,1\n1,1,1.0\n2,2,0\n", ["0", "1"], [1, 1, 0]),
                                            ("0,0,2\n1,1,2e0\n2,2,02\n3,3,-1\n", ["-1", "2"], [1, 1, 1, 0])])
def test_labels_that_are_the_same_number_are_one_class(text, names, y):
    # "1" and "1.0" were two classes: a silent third output and a wrong loss
    _, got_y, labels = datasets.parse_csv(text)
    assert labels == names and got_y.tolist() == y


@pytest.mark.parametrize("text, says", [
    ("x1,x2\n1,2\n", "row 1 has 2 columns; the CSV needs exactly 3: x1, x2, label"),
    ("1,2,0\n3,4,1,9\n", "row 2 has 4 columns"),
    ("1,2,0\nabc,4,1\n", "row 2: x1 and x2 must be numbers, got 'abc', '4'"),
    # a header with other names said only "must be numbers": nothing told the user what header is read
    ("x,y,class\n1,2,0\n3,4,1\n", "row 1: x1 and x2 must be numbers, got 'x', 'y'; a header row must read x1,x2,label"),
    ("\n\nwidth,height,label\n1,2,0\n", "row 3: x1 and x2 must be numbers, got 'width', 'height'; a header row must read"),
    ("1,2,0\n3,inf,1\n", "row 2: x1 and x2 must be finite numbers"),
    # a semicolon- or tab-separated file said "has 1 columns", with nothing on the separator; inf gave no fix
    ("0;0;a\n1;1;b\n", "row 1 has 1 column; the CSV needs exactly 3: x1, x2, label; separate them with commas"),
    ("x1\tx2\tlabel\n1\t2\t0\n", "row 1 has 1 column; the CSV needs exactly 3: x1, x2, label; separate them"),
    ("1,2,0\n-inf,nan,1\n", "row 2: x1 and x2 must be finite numbers, got -inf, nan; give numbers or remove the row"),
    # beyond float32 (1e308 -> inf) the page got "Out of range float values are not JSON compliant"
    ("1,2,0\n1e308,4,1\n", "row 2: x1 and x2 must be from -1,000,000 to 1,000,000, got 1e308, 4; rescale"),
    ("1,-2.5e7,0\n3,4,1\n", "row 1: x1 and x2 must be from -1,000,000 to 1,000,000, got 1, -2.5e7"),
    ("x1,x2,label\n1,2,cat\n3,4,cat\n", "every row has the label 'cat': a classifier needs at least 2 classes"),
    ("x1,x2,label\n", "no data rows"),
    # an empty or NaN label became a class of its own
    ("1,2,\n3,4,1\n", "row 1 has no label; give every row a class in the third column"),
    ("1,2,0\n3,4,   \n", "row 2 has no label"),
    ("1,2,nan\n3,4,1\n", "row 1: the label 'nan' is a missing value, not a class"),
    ("1,2,0\n3,4,-inf\n", "row 2: the label '-inf' is a missing value"),
    ("".join(f"{i},{i},{i}\n" for i in range(11)), "11 distinct values; at most 10 classes"),
])
def test_a_bad_csv_is_refused_with_what_to_fix(text, says):
    with pytest.raises(datasets.CSVError) as error:
        datasets.parse_csv(text)
    assert says in str(error.value)


@pytest.mark.parametrize("text, rows", [("1,2,0\r3,4,1\r", [[1, 2], [3, 4]]),
                                        ("x1,x2,label\r0,0,a\r-1,1.5,b", [[0, 0], [-1, 1.5]])])
def test_a_csv_with_old_mac_line_ends_is_read(text, rows):
    # csv.reader raised csv.Error ("new-line character seen in unquoted field"): a 500 for the upload
    X, y, labels = datasets.parse_csv(text)
    np.testing.assert_array_equal(X, rows)
    assert y.tolist() == [0, 1] and len(labels) == 2


@pytest.mark.parametrize("text", ["1" * 200_000 + ",2,0\n3,4,1\n", "1,2,0\n3,4," + "b" * 140_000 + "\n"])
def test_a_csv_the_csv_module_cannot_read_is_refused_with_the_row(text):
    # a cell over the csv module's field limit raised csv.Error (not a CSVError): a 500 for the upload
    row = "1" if text.startswith("1111") else "2"
    with pytest.raises(datasets.CSVError, match=f"row {row} cannot be read as CSV .*field larger than field limit"):
        datasets.parse_csv(text)


def test_a_csv_over_the_row_limit_is_refused():
    text = "".join(f"{i},{-i},{i % 2}\n" for i in range(datasets.MAX_CSV_ROWS + 1))
    with pytest.raises(datasets.CSVError, match="more than 10,000 rows"):
        datasets.parse_csv(text)
    assert len(datasets.parse_csv(text.rsplit("\n", 2)[0] + "\n")[1]) == datasets.MAX_CSV_ROWS
    with pytest.raises(datasets.CSVError, match="more than 5 rows"):
        datasets.parse_csv("".join(f"{i},0,{i % 2}\n" for i in range(6)), max_rows=5)


# ----- the session ----------------------------------------------------------------------------
def test_circle_with_two_tanh_layers_of_four_reaches_test_loss_below_005():
    s = session(dataset="circle", noise=0, layers="4,4", activation="tanh", lr=0.03, seed=1)
    assert s.history["test"][-1] > 0.5  # untrained: about ln 2
    for _ in range(8000):
        s.step()
        if s.step_count % 500 == 0 and s.loss(s.X_test, s.y_test) < 0.05:
            break
    assert s.loss(s.X_test, s.y_test) < 0.05


def torch_mlp(s):
    """The same MLP in PyTorch with the session's weights (Linear + tanh blocks)."""
    layers = []
    for layer in s._linear_layers():
        lin = torch.nn.Linear(*layer.weight.shape, dtype=torch.float64)
        with torch.no_grad():
            lin.weight.copy_(torch.tensor(layer.weight.data.T, dtype=torch.float64))
            lin.bias.copy_(torch.tensor(layer.bias.data, dtype=torch.float64))
        layers += [lin, torch.nn.Tanh()]
    return torch.nn.Sequential(*layers[:-1])


def test_step_once_shows_the_gradients_pytorch_computes_for_the_same_batch():
    s = session(dataset="xor", layers="3", activation="tanh", batch=8, reg="l2", rate=0.01, seed=2)
    reference = torch_mlp(s)
    X, y = s.X_train[s.order[:8]], s.y_train[s.order[:8]]  # the batch step_once will take
    loss = torch.nn.functional.cross_entropy(reference(torch.tensor(X, dtype=torch.float64)), torch.tensor(y))
    loss = loss + 0.01 * sum(0.5 * (m.weight ** 2).sum() for m in reference if isinstance(m, torch.nn.Linear))
    loss.backward()
    s.step_once()
    expected = [m.weight.grad.numpy().T for m in reference if isinstance(m, torch.nn.Linear)]
    for got, want in zip(s.grads, expected):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)


def test_l1_penalty_is_rate_times_the_sum_of_absolute_weights():
    s = session(layers="3,2", reg="l1", rate=0.05)
    weights = [layer.weight.data for layer in s._linear_layers()]
    assert s.penalty().item() == pytest.approx(0.05 * sum(np.abs(w).sum() for w in weights), rel=1e-5)
    assert session(layers="3", reg="l2", rate=0).penalty() is None


def test_the_output_map_is_the_class_1_probability_on_the_grid():
    s = session(layers="3", activation="tanh", seed=4)
    grid = s.grid()
    logits = torch_mlp(s)(torch.tensor(datasets.features(grid, ["x1", "x2"]), dtype=torch.float64))
    p1 = torch.softmax(logits, 1)[:, 1].detach().numpy()
    got = np.frombuffer(base64.b64decode(s.frame()["output"]["value"]), np.int8) / 127
    np.testing.assert_allclose(got, 2 * p1 - 1, atol=1 / 127 + 1e-6)
    assert grid[0].tolist() == [-6, 6] and grid[-1].tolist() == [6, -6]  # top-left to bottom-right


def test_the_space_view_maps_data_and_grid_into_the_2_unit_layer():
    s = session(layers="4,2,3", activation="tanh", seed=5)
    view = s.frame()["space"]
    assert view["layer"] == 1
    h = s.hidden_outputs(s.train_xy[0][:3])[1]
    np.testing.assert_allclose(view["points"][:3], h, atol=6e-4)
    assert len(view["lines"]) == 22 and len(view["lines"][0]) == 25
    assert session(layers="4,3").frame()["space"] is None


def test_histograms_count_every_training_activation_per_layer():
    s = session(layers="4,3", activation="tanh", init="large")
    frame = s.frame()
    assert [sum(h["counts"]) for h in frame["histograms"]] == [len(s.X_train) * 4, len(s.X_train) * 3]
    saturated = frame["histograms"][1]["counts"]
    assert saturated[0] + saturated[-1] > 0.5 * sum(saturated)  # large init: tanh saturates at ±1
    xavier = session(layers="4,3", activation="tanh", init="xavier").frame()["histograms"][1]["counts"]
    assert xavier[0] + xavier[-1] < 0.5 * sum(xavier)
    collapsed = session(layers="4,3", activation="tanh", init="small").frame()["histograms"][1]["counts"]
    middle = len(collapsed) // 2
    assert collapsed[middle - 1] + collapsed[middle] == sum(collapsed)  # small init: collapses to about 0


@pytest.mark.parametrize("act", ["step", "sigmoid", "relu", "leaky-relu", "elu", "maxout", "identity"])
def test_every_activation_trains_and_draws(act):
    s = session(dataset="gauss", classes=3, layers="4,4", activation=act, optimizer="momentum", dropout=0.2,
                preprocess="standardize", features="x1,x2,x1x2")
    for _ in range(5):
        s.train_for(0.01)
    frame = s.frame()
    assert len(frame["neurons"]) == 2 and len(frame["weights"]) == 3
    assert np.asarray(frame["weights"][0]).shape == (3, 4)
    assert frame["output"]["kind"] == "classes" and np.isfinite(frame["test_loss"])


def test_maxout_links_show_the_largest_piece_with_its_sign():
    s = session(layers="2", activation="maxout")
    layer = s.blocks[0].layers[0]
    layer.weight.data[:] = np.array([[[1, -3]], [[-2, 0.5]]], np.float32).reshape(2, 1, 2).repeat(2, axis=1)
    np.testing.assert_array_equal(link_weights(layer), [[-2, -3], [-2, -3]])


def test_regression_uses_squared_error_and_a_value_map():
    s = session(dataset="reg-plane", layers="3", activation="tanh", optimizer="adam", lr=0.01)
    first = s.history["train"][-1]
    for _ in range(20):
        s.train_for(0.01)
    frame = s.frame()
    assert frame["output"]["kind"] == "value" and frame["train_loss"] < first
    assert s.data()["regression"] is True


def test_warmup_step_schedule_rises_then_decays():
    s = session(schedule="warmup-step", steps=100, lr=0.1)
    rates = []
    for _ in range(90):
        s.step()
        rates.append(s.optimizer.lr)
    assert rates[0] < rates[4] == pytest.approx(0.1) and rates[60] == pytest.approx(0.01) and rates[80] == pytest.approx(0.001)


def test_whitening_makes_the_training_features_uncorrelated():
    s = session(dataset="gauss", features="x1,x2,x1x2", preprocess="whiten")
    np.testing.assert_allclose(np.cov(s.X_train.T.astype(np.float64)), np.eye(3), atol=1e-3)


def test_a_csv_upload_trains_like_a_generated_set():
    rng = np.random.default_rng(0)
    X = rng.uniform(-20, 20, (200, 2)).astype(np.float32)
    upload = (X, (X[:, 0] > 0).astype(np.int64), ["left", "right"])
    s = Session(Settings.from_hash({"dataset": "csv", "layers": "2"}), upload)
    assert s.domain[0] < -6 and s.domain[1] > 6  # data beyond the square widens the view
    assert s.data()["class_names"] == ["left", "right"]
    with pytest.raises(ValueError, match="needs an uploaded CSV"):
        Session(Settings.from_hash({"dataset": "csv"}))


@pytest.mark.parametrize("text, hash_", [("1,2,0\n3,4,1\n", {"preprocess": "standardize"}),
                                         ("1,2,0\n3,4,1\n5,6,0\n", {"preprocess": "whiten", "ratio": "10"})])
def test_preprocessing_a_one_row_training_part_says_what_to_change(text, hash_):
    # it said "Standardize.fit needs at least 2 samples, got 1": Python names the page does not show
    upload = datasets.parse_csv(text)
    with pytest.raises(ValueError, match=f"the training part has only 1 row; preprocess={hash_['preprocess']} needs "
                                         f"at least 2: raise the train % or upload more rows"):
        Session(Settings.from_hash({"dataset": "csv", **hash_}), upload)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_a_diverging_run_names_the_step_and_the_fix():
    s = session(layers="8,8", init="large", lr=10, activation="identity", dataset="reg-gauss")
    with pytest.raises(FloatingPointError, match="lower the learning rate"):
        for _ in range(500):
            s.step()


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("weight", [np.inf, 1e20])  # inf itself; finite weights whose products overflow float32
def test_a_frame_of_a_diverged_network_names_the_fix(weight):
    # a last step can leave inf weights (or weights so large that the grid's activations overflow) while the
    # batch loss was finite: the frame raised "supplied range of [-inf, inf] is not finite" (np.histogram)
    s = session(layers="4,4", activation="relu", seed=1)
    s.step()
    for block in s.blocks:
        block.layers[0].weight.data[...] = weight
    with pytest.raises(FloatingPointError, match=r"overflowed at step 1 \(lr=0.03\); lower the learning rate"):
        s.frame()


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("weight", [np.inf, 1e20])
def test_a_frame_that_overflows_before_training_blames_the_start_not_the_learning_rate(weight):
    s = session(layers="4,4", activation="identity", init="large", seed=1)
    for block in s.blocks:
        block.layers[0].weight.data[...] = weight
    with pytest.raises(FloatingPointError, match=r"overflow before training \(init=large\); choose a smaller init"):
        s.frame()


def test_int8_maps_clip_to_plus_minus_one():
    got = np.frombuffer(base64.b64decode(int8_base64(np.array([-3.0, -1, 0, 0.5, 2]))), np.int8)
    assert got.tolist() == [-127, -127, 0, 64, 127]
