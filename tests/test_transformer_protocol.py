"""Every preprocessor and feature extractor follows scikit-learn's transformer protocol (issue 20, item 4)."""

import numpy as np
import pytest

from nnscratch import NotFittedError
from nnscratch.data import preprocess as P
from nnscratch.features import HOG, BagOfVisualWords, ColorHistogram, FeaturePipeline, Pixels

sklearn = pytest.importorskip("sklearn")
from sklearn.base import clone  # noqa: E402
from sklearn.decomposition import PCA as SkPCA  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.pipeline import FeatureUnion, Pipeline, make_pipeline  # noqa: E402
from sklearn.preprocessing import FunctionTransformer, StandardScaler  # noqa: E402

ALL_STEPS = [P.Scale(), P.ZeroCenter(), P.Standardize(), P.PCA(2), P.Whiten(), P.Pipeline([P.Scale()]),
             Pixels(), HOG(cell=(4, 4)), ColorHistogram(), BagOfVisualWords(4, rng=0), FeaturePipeline([HOG()])]


@pytest.fixture
def rows(rng):
    return (rng.standard_normal((200, 5)) * [1, 2, 3, 4, 5] + [0, 1, 2, 3, 4]).astype(np.float64)


@pytest.fixture
def images(rng):
    return rng.integers(0, 256, (40, 16, 16), dtype=np.uint8)


def _input_for(step, rows, images, rng):
    if isinstance(step, ColorHistogram):
        return rng.integers(0, 256, (6, 16, 16, 3), dtype=np.uint8)
    return images if isinstance(step, (Pixels, HOG, BagOfVisualWords, FeaturePipeline)) else rows


def test_standardize_inside_sklearn_pipeline_before_logistic_regression_used_to_fail_with_fit_transform_arity(rows):
    # the example: fit_transform() takes 2 positional arguments (X, y) inside a Pipeline
    y = (rows[:, 0] > 0).astype(int)
    ours = make_pipeline(P.Standardize(), LogisticRegression()).fit(rows, y)
    theirs = make_pipeline(StandardScaler(), LogisticRegression()).fit(rows, y)
    np.testing.assert_allclose(ours.predict_proba(rows), theirs.predict_proba(rows), rtol=1e-6)


def test_standardize_then_pca_in_a_sklearn_pipeline_match_standardscaler_then_sklearn_pca(rows):
    ours = Pipeline([("std", P.Standardize()), ("pca", P.PCA(3))]).fit_transform(rows)
    theirs = Pipeline([("std", StandardScaler()), ("pca", SkPCA(3))]).fit_transform(rows)
    signs = np.sign((ours * theirs).sum(axis=0))  # a principal direction's sign is arbitrary
    np.testing.assert_allclose(ours * signs, theirs, atol=1e-10)


def test_hog_then_bag_of_words_in_a_feature_union_are_their_features_side_by_side(images):
    union = FeatureUnion([("hog", HOG(cell=(4, 4))), ("bow", BagOfVisualWords(4, patch=8, stride=4, rng=0))])
    combined = union.fit_transform(images)
    expected = np.concatenate([HOG(cell=(4, 4)).fit_transform(images),
                               BagOfVisualWords(4, patch=8, stride=4, rng=0).fit_transform(images)], axis=1)
    np.testing.assert_array_equal(combined, expected)


def test_hog_matches_skimage_inside_a_sklearn_pipeline(images):
    skimage_feature = pytest.importorskip("skimage.feature")
    flatten = FunctionTransformer(lambda X: X)  # a sklearn step between ours: sklearn passes X, y along
    features = make_pipeline(flatten, HOG(cell=(4, 4))).fit_transform(images)
    theirs = np.stack([skimage_feature.hog(image, orientations=9, pixels_per_cell=(4, 4), cells_per_block=(2, 2),
                                           block_norm="L2-Hys") for image in images])
    np.testing.assert_allclose(features, theirs, atol=1e-4)


def test_whiten_inside_a_sklearn_pipeline_gives_identity_covariance(rows):
    Z = make_pipeline(P.Standardize(), P.Whiten("pca", eps=1e-10)).fit_transform(rows)
    np.testing.assert_allclose(np.cov(Z, rowvar=False), np.eye(5), atol=1e-6)


@pytest.mark.parametrize("step", ALL_STEPS, ids=lambda s: type(s).__name__)
def test_every_step_survives_sklearn_clone_unfitted_with_the_same_params(step, rows, images, rng):
    step = clone(step)  # a fresh copy each run: the parametrised instances are shared
    step.fit(_input_for(step, rows, images, rng))
    copy = clone(step)
    assert type(copy) is type(step) and copy is not step
    assert repr(copy.get_params(deep=False)) == repr(step.get_params(deep=False))
    with pytest.raises(NotFittedError):
        copy.transform(_input_for(step, rows, images, rng))


@pytest.mark.parametrize("step", ALL_STEPS, ids=lambda s: type(s).__name__)
def test_every_step_raises_one_not_fitted_error_naming_it_before_fit(step, rows, images, rng):
    step = clone(step)
    with pytest.raises(NotFittedError, match=rf"{type(step).__name__}\.transform called before fit.*call fit\(") as e:
        step.transform(_input_for(step, rows, images, rng))
    assert isinstance(e.value, ValueError) and isinstance(e.value, AttributeError)
    with pytest.raises(NotFittedError, match=rf"{type(step).__name__}\.state_dict called before fit"):
        step.state_dict()


@pytest.mark.parametrize("step", ALL_STEPS, ids=lambda s: type(s).__name__)
def test_fit_returns_self_and_fit_transform_takes_y(step, rows, images, rng):
    step = clone(step)
    X = _input_for(step, rows, images, rng)
    assert step.fit(X, None) is step
    np.testing.assert_array_equal(clone(step).fit_transform(X, np.zeros(len(X))), step.transform(X))
    assert hasattr(step, "sample_shape_")


def test_get_params_reads_init_and_set_params_reaches_nested_steps():
    pipeline = P.Pipeline([P.PCA(3), P.Standardize()])
    assert P.Standardize(per="channel", eps=0.5).get_params() == {"eps": 0.5, "per": "channel"}
    assert HOG().set_params(cell=(4, 4), orientations=6).get_params() == {
        "block": (2, 2), "block_norm": "L2-Hys", "cell": (4, 4), "orientations": 6}
    union = FeatureUnion([("hog", HOG())])
    union.set_params(hog__cell=(2, 2))
    assert union.transformer_list[0][1].cell == (2, 2)
    assert pipeline.get_params()["steps"] is pipeline.steps
    with pytest.raises(ValueError, match="Standardize has no parameter 'std'; valid parameters: eps, per"):
        P.Standardize().set_params(std=2)


def test_bad_parameters_are_reported_by_fit_naming_the_parameter(rows, images):
    # scikit-learn's rule: __init__ only stores, so set_params and clone see exactly what was passed
    with pytest.raises(ValueError, match="per='pixel'"):
        P.Standardize(per="pixel").fit(rows)
    with pytest.raises(ValueError, match="block_norm='L3'"):
        HOG().set_params(block_norm="L3").fit(images)
    with pytest.raises(ValueError, match="n_words >= 2"):
        BagOfVisualWords(n_words=1).fit(images)
    with pytest.raises(ValueError, match="non-empty list of steps"):
        P.Pipeline([]).fit(rows)
    with pytest.raises(ValueError, match="block_norm='L0'"):
        FeaturePipeline([HOG(block_norm="L0")]).validate_params()
    with pytest.raises(ValueError, match=r"cell and block are \(rows, cols\) pairs, e.g. cell=\(8, 8\); got cell=4"):
        HOG(cell=4).fit(images)


def test_a_fitted_grid_search_over_our_hog_picks_a_cell_size(images):
    model_selection = pytest.importorskip("sklearn.model_selection")
    y = (images[:, :8].mean(axis=(1, 2)) > images[:, 8:].mean(axis=(1, 2))).astype(int)
    search = model_selection.GridSearchCV(make_pipeline(HOG(), LogisticRegression(max_iter=200)),
                                          {"hog__cell": [(4, 4), (8, 8)]}, cv=2).fit(images, y)
    assert search.best_params_["hog__cell"] in [(4, 4), (8, 8)]
    assert search.best_estimator_.steps[0][1].cell == search.best_params_["hog__cell"]


def test_saved_configs_are_json_even_for_numpy_parameters(images):
    import json

    bow = BagOfVisualWords(np.int64(4), patch=np.int64(8), rng=np.random.default_rng(0)).fit(images)
    config = json.loads(json.dumps(bow.state_dict()["config"]))
    assert config["n_words"] == 4 and config["rng"] is None  # a Generator is used up by fit; not saved
    rebuilt = P.from_state_dict(bow.state_dict())
    np.testing.assert_array_equal(rebuilt.transform(images), bow.transform(images))
    assert json.dumps(HOG(cell=(np.int64(4), 4)).fit(images).state_dict()["config"])
