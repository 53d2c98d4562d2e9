"""nnscratch.sklearn: the estimators' maths against hand-written NumPy, their stopping rules, and their
life inside scikit-learn (Pipeline, GridSearchCV, cross_val_score, pickle)."""

import pickle
import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.datasets import load_iris, make_regression  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score  # noqa: E402
from sklearn.pipeline import Pipeline, make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from nnscratch.data import preprocess  # noqa: E402
from nnscratch.sklearn import MLPClassifier, MLPRegressor  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # short fits on purpose


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def weights(model):
    """(W1, b1, W2, b2) of a one-hidden-layer model_ as float64 arrays."""
    return [p.data.astype(np.float64).copy() for p in model.parameters()]


def sgd_step_by_hand(X, targets, W1, b1, W2, b2, lr, alpha, kind):
    """One full-batch SGD step (no momentum) of relu MLP, written out: the independent reference.
    Weight decay adds alpha·w to every parameter's gradient, as nnscratch's SGD does."""
    a = X @ W1 + b1
    h = np.maximum(a, 0)
    z = h @ W2 + b2
    if kind == "classifier":
        p = np.exp(z - z.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        dz = (p - np.eye(z.shape[1])[targets]) / len(X)  # softmax + cross-entropy: (p - y) / N
    else:
        dz = 2 * (z - targets) / z.size  # mean squared error
    dW2, db2 = h.T @ dz, dz.sum(axis=0)
    dh = (dz @ W2.T) * (a > 0)
    dW1, db1 = X.T @ dh, dh.sum(axis=0)
    return [w - lr * (g + alpha * w) for w, g in ((W1, dW1), (b1, db1), (W2, dW2), (b2, db2))]


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_one_partial_fit_epoch_is_one_sgd_step_computed_by_hand(kind, iris):
    X, y = iris
    if kind == "classifier":
        est, targets = MLPClassifier((5,), optimizer="sgd", momentum=0.0, batch_size=len(X), alpha=0.01,
                                     learning_rate_init=0.1, dtype="float64", random_state=0), y
        first = lambda: est.partial_fit(X, y, classes=[0, 1, 2])  # noqa: E731
    else:
        targets = np.column_stack([X[:, 0] - X[:, 1], X[:, 2] * 0.5])
        est = MLPRegressor((5,), optimizer="sgd", momentum=0.0, batch_size=len(X), alpha=0.01,
                           learning_rate_init=0.1, dtype="float64", random_state=0)
        first = lambda: est.partial_fit(X, targets)  # noqa: E731
    first()
    before = weights(est.model_)
    est.partial_fit(X, y if kind == "classifier" else targets)
    expected = sgd_step_by_hand(X, targets, *before, lr=0.1, alpha=0.01, kind=kind)
    for got, want in zip(weights(est.model_), expected):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    assert est.n_iter_ == 2 and len(est.loss_curve_) == 2


def test_predict_proba_is_the_softmax_of_the_model_and_predict_its_argmax(iris):
    X, y = iris
    est = MLPClassifier((8,), max_iter=20, random_state=0).fit(X, y)
    W1, b1, W2, b2 = weights(est.model_)
    z = np.maximum(X @ W1 + b1, 0) @ W2 + b2
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(est.predict_proba(X), p, rtol=1e-4, atol=1e-6)
    np.testing.assert_array_equal(est.predict(X), est.classes_[p.argmax(axis=1)])


def test_string_labels_come_back_as_labels(iris):
    X, y = iris
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    est = MLPClassifier((16,), max_iter=100, learning_rate_init=0.01, random_state=0).fit(X, names)
    assert list(est.classes_) == ["setosa", "versicolor", "virginica"]
    assert set(est.predict(X)) <= set(names) and est.score(X, names) > 0.9


def test_float32_by_default_and_float64_on_request(iris):
    X, y = iris
    est = MLPClassifier((4,), max_iter=2, random_state=0).fit(X, y)
    assert {p.data.dtype for p in est.model_.parameters()} == {np.dtype(np.float32)}
    assert est.predict_proba(X).dtype == np.float32
    est64 = MLPClassifier((4,), max_iter=2, random_state=0, dtype="float64").fit(X, y)
    assert {p.data.dtype for p in est64.model_.parameters()} == {np.dtype(np.float64)}


def test_same_random_state_same_model_and_numpys_global_state_untouched(iris):
    X, y = iris
    state = np.random.get_state()[1].copy()
    a = MLPClassifier((8,), max_iter=5, random_state=3, dropout=0.2).fit(X, y)
    b = MLPClassifier((8,), max_iter=5, random_state=3, dropout=0.2).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert a.loss_curve_ == b.loss_curve_
    np.testing.assert_array_equal(np.random.get_state()[1], state)


def test_tol_stops_when_the_training_loss_stops_improving(iris):
    X, y = iris
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est = MLPClassifier((8,), max_iter=100, tol=10.0, n_iter_no_change=3, random_state=0).fit(X, y)
    assert est.n_iter_ == 1 + 3  # epoch 1 sets the best loss; no later one beats it by 10


def test_reaching_max_iter_warns_as_scikit_learn_does(iris):
    X, y = iris
    with pytest.warns(ConvergenceWarning, match="max_iter=3 epochs reached"):
        MLPClassifier((8,), max_iter=3, tol=0.0, random_state=0).fit(X, y)


def test_early_stopping_stops_after_patience_and_restores_the_best_epoch(iris):
    X, y = iris
    est = MLPClassifier((64,), max_iter=300, early_stopping=True, n_iter_no_change=4, tol=0.0,
                        learning_rate_init=0.05, random_state=0).fit(X, y)
    best = int(np.argmax(est.validation_scores_)) + 1
    assert est.n_iter_ == best + 4 < 300
    assert est.best_validation_score_ == max(est.validation_scores_)


def test_warm_start_continues_and_a_plain_fit_starts_afresh(iris):
    X, y = iris
    est = MLPClassifier((8,), max_iter=5, tol=0.0, random_state=0, warm_start=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
        first = est.loss_curve_[-1]
        est.fit(X, y)
        assert est.n_iter_ == 10 and len(est.loss_curve_) == 10 and est.loss_curve_[-1] < first
        est.set_params(warm_start=False).fit(X, y)
    assert est.n_iter_ == 5


def test_every_bad_parameter_is_named_in_one_error(iris):
    X, y = iris
    with pytest.raises(ValueError) as error:
        MLPClassifier(hidden_layer_sizes=(0,), activation="swish", learning_rate_init=-1.0, batch_size=0).fit(X, y)
    message = str(error.value)
    for part in ("hidden_layer_sizes=(0,)", "activation='swish': choose one of relu", "learning_rate_init=-1.0",
                 "batch_size=0"):
        assert part in message


def test_first_partial_fit_of_a_classifier_needs_classes(iris):
    X, y = iris
    with pytest.raises(ValueError, match="the first partial_fit needs classes="):
        MLPClassifier().partial_fit(X, y)


def test_pickled_estimator_predicts_and_trains_on_the_same(iris):
    X, y = iris
    est = MLPClassifier((8,), max_iter=3, random_state=0).fit(X, y)
    copy = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(copy.predict_proba(X), est.predict_proba(X))
    est.partial_fit(X, y)
    copy.partial_fit(X, y)  # optimiser state (Adam's moments) and random generators travel too
    np.testing.assert_array_equal(copy.predict_proba(X), est.predict_proba(X))


def test_in_a_pipeline_with_scikit_learn_transformers(iris):
    X, y = iris
    pipe = make_pipeline(StandardScaler(), PCA(3), MLPClassifier((16,), max_iter=200, learning_rate_init=0.01,
                                                                 random_state=0))
    assert pipe.fit(X, y).score(X, y) > 0.9


def test_in_a_pipeline_with_nnscratchs_transformers(iris):
    if "y" not in preprocess.Standardize.fit.__code__.co_varnames:
        pytest.skip("nnscratch's preprocessors take fit(X, y=None) with the data branch's transformer protocol")
    X, y = iris
    pipe = Pipeline([("standardize", preprocess.Standardize()),
                     ("mlp", MLPClassifier((16,), max_iter=200, learning_rate_init=0.01, random_state=0))])
    assert pipe.fit(X * 100 + 5, y).score(X * 100 + 5, y) > 0.9
    assert cross_val_score(pipe, X, y, cv=3).mean() > 0.8  # clone() needs get_params on every step


def test_cross_val_score_equals_fitting_each_fold_by_hand(iris):
    X, y = iris
    est = MLPClassifier((8,), max_iter=30, learning_rate_init=0.01, random_state=0)
    folds = KFold(3, shuffle=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        scores = cross_val_score(est, X, y, cv=folds)
        by_hand = [MLPClassifier((8,), max_iter=30, learning_rate_init=0.01, random_state=0)
                   .fit(X[train], y[train]).score(X[test], y[test]) for train, test in folds.split(X)]
    np.testing.assert_array_equal(scores, by_hand)


def test_grid_search_with_two_jobs_picks_the_better_setting(iris):
    X, y = iris
    grid = GridSearchCV(MLPClassifier(max_iter=60, random_state=0),
                        {"hidden_layer_sizes": [(16,)], "learning_rate_init": [1e-5, 0.02]}, cv=3, n_jobs=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        grid.fit(X, y)
    assert grid.best_params_["learning_rate_init"] == 0.02  # 60 epochs at 1e-5 barely move the weights
    assert grid.best_score_ > 0.85 and len(grid.cv_results_["params"]) == 2


def test_regressor_fits_a_linear_target_and_keeps_ys_shape():
    X, y = make_regression(n_samples=200, n_features=5, noise=0.1, random_state=0)
    y = (y - y.mean()) / y.std()
    est = MLPRegressor((32,), max_iter=200, learning_rate_init=0.01, random_state=0).fit(X, y)
    assert est.predict(X).shape == (200,) and est.score(X, y) > 0.95
    two = MLPRegressor((32,), max_iter=5, random_state=0).fit(X, np.column_stack([y, -y]))
    assert two.predict(X).shape == (200, 2)


@pytest.mark.parametrize("make, fit", [
    (lambda: MLPRegressor(max_iter=2), lambda m, X: m.fit(X * 1e200, [1.0, 2.0, 3.0])),
    (lambda: MLPClassifier(max_iter=2), lambda m, X: m.fit(X * 1e300, [0, 1, 1])),
    (lambda: MLPRegressor(max_iter=2), lambda m, X: m.fit(X, [1e100, 2.0, 3.0])),
    (lambda: MLPRegressor(max_iter=2), lambda m, X: m.fit(X, [1.0, 2.0, 3.0]).predict(X * 1e60)),
])
def test_values_beyond_float32_are_named_not_blamed_on_an_inf_in_the_data(make, fit):
    X = np.random.default_rng(0).normal(size=(3, 4)) + 2.0
    with pytest.raises(ValueError, match=r"holds values beyond float32's range .*pass dtype='float64'"):
        fit(make(), X)
