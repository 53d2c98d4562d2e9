import numpy as np
import pytest

from nnscratch import NotFittedError
from nnscratch.data import preprocess as P


@pytest.fixture
def correlated(rng):
    """Rows with strongly correlated, differently scaled features (float32)."""
    mix = rng.standard_normal((6, 6)) * np.array([5, 2, 1, 0.5, 0.2, 0.1])
    return (rng.standard_normal((2000, 6)) @ mix + 3).astype(np.float32)


def test_scale_maps_the_training_range_to_zero_one():
    X = np.array([[0, 51], [255, 102]], np.uint8)
    scaler = P.Scale().fit(X)
    np.testing.assert_allclose(scaler.transform(X), [[0, 0.2], [1, 0.4]], rtol=1e-6)
    assert scaler.transform(X).dtype == np.float32
    np.testing.assert_allclose(scaler.inverse_transform(scaler.transform(X)), X, atol=1e-4)


def test_standardize_hand_computed_and_applies_training_statistics_to_test_data():
    X_train = np.array([[1.0, 2.0], [3.0, 6.0]], np.float32)  # mean (2, 4), std (1, 2)
    s = P.Standardize().fit(X_train)
    np.testing.assert_allclose(s.transform(X_train), [[-1, -1], [1, 1]])
    np.testing.assert_allclose(s.transform(np.array([[2.0, 10.0]], np.float32)), [[0, 3]])  # no leakage
    np.testing.assert_allclose(s.inverse_transform(s.transform(X_train)), X_train)


def test_standardize_leaves_constant_features_centred_not_infinite():
    X = np.array([[1.0, 5.0], [3.0, 5.0]])
    np.testing.assert_allclose(P.Standardize().fit_transform(X), [[-1, 0], [1, 0]])


def test_zero_center_per_feature_and_per_channel(rng):
    images = rng.integers(0, 256, (50, 4, 4, 3)).astype(np.uint8)
    centred = P.ZeroCenter().fit_transform(images)
    np.testing.assert_allclose(centred.mean(axis=0), 0, atol=1e-4)
    per_channel = P.ZeroCenter(per="channel").fit(images)
    assert per_channel.mean_.shape == (3,)
    np.testing.assert_allclose(per_channel.mean_, images.reshape(-1, 3).mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(per_channel.transform(images).reshape(-1, 3).mean(axis=0), 0, atol=1e-3)
    grey = P.Standardize(per="channel").fit(images[..., 0])
    assert grey.mean_.shape == () and grey.std_.shape == ()


def test_pca_matches_the_svd_and_reconstruction_error_falls_to_zero(correlated):
    X = correlated.astype(np.float64)
    singular = np.linalg.svd(X - X.mean(axis=0), compute_uv=False)
    pca = P.PCA().fit(X)
    np.testing.assert_allclose(pca.explained_variance_, singular**2 / (len(X) - 1), rtol=1e-8)
    errors = []
    for k in range(1, 7):
        model = P.PCA(k).fit(X)
        errors.append(np.mean((model.inverse_transform(model.transform(X)) - X) ** 2))
    assert all(a > b for a, b in zip(errors, errors[1:]))
    assert errors[-1] < 1e-20


def test_pca_keeps_enough_components_for_a_variance_fraction(correlated):
    pca = P.PCA(0.9).fit(correlated)
    kept = np.cumsum(pca.explained_variance_ratio_)
    assert kept[-1] >= 0.9 and (len(kept) == 1 or kept[-2] < 0.9)
    assert pca.transform(correlated).shape == (2000, len(kept))


@pytest.mark.parametrize("method", ["pca", "zca"])
def test_whitened_training_data_has_identity_covariance(correlated, method):
    # eps well below the smallest variance (~1e-3 here), so no direction is damped
    white = P.Whiten(method=method, eps=1e-8).fit(correlated)
    Z = white.transform(correlated)
    assert Z.dtype == np.float32 and Z.shape == correlated.shape
    np.testing.assert_allclose(np.cov(Z, rowvar=False), np.eye(6), atol=1e-3)
    np.testing.assert_allclose(white.inverse_transform(Z), correlated, rtol=1e-3, atol=1e-3)


def test_eps_damps_low_variance_directions_by_l_over_l_plus_eps(correlated):
    white = P.Whiten("pca", eps=1e-2).fit(correlated)
    variances = np.var(white.transform(correlated).astype(np.float64), axis=0, ddof=1)
    l = white.eigenvalues_
    np.testing.assert_allclose(variances, l / (l + 1e-2), rtol=1e-3)


def test_zca_keeps_images_as_images(rng):
    images = rng.standard_normal((300, 3, 3)).astype(np.float32)
    assert P.Whiten("zca").fit_transform(images).shape == (300, 3, 3)


def test_state_dict_rebuilds_an_identical_preprocessor(correlated):
    for original in (P.Scale(), P.ZeroCenter(), P.Standardize(per="channel"), P.PCA(3), P.Whiten("pca", eps=1e-3),
                     P.Pipeline([P.Scale(), P.PCA(4), P.Standardize()])):
        original.fit(correlated)
        rebuilt = P.from_state_dict(original.state_dict())
        np.testing.assert_array_equal(rebuilt.transform(correlated), original.transform(correlated))
        assert repr(rebuilt) == repr(original)


def test_misuse_is_explained(correlated):
    with pytest.raises(NotFittedError, match=r"Standardize.transform called before fit: .*call fit\(X_train\)"):
        P.Standardize().transform(correlated)
    scaler = P.Standardize().fit(correlated)
    with pytest.raises(ValueError, match=r"fitted on samples of shape \(6,\) but got \(5,\)"):
        scaler.transform(correlated[:, :5])
    with pytest.raises(ValueError, match=r"expects a batch of samples \(N, ...\)"):
        P.PCA().fit(np.zeros(5))
    with pytest.raises(ValueError, match="n_components=0"):
        P.PCA(0).fit(correlated)  # parameters are checked by fit, as scikit-learn's are
    with pytest.raises(ValueError, match="method='pcb'"):
        P.Whiten("pcb").fit(correlated)
    with pytest.raises(ValueError, match="unknown preprocessor type 'Normalize'"):
        P.from_state_dict({"type": "Normalize"})


def test_pipeline_fits_each_step_on_the_previous_output(correlated):
    pipeline = P.Pipeline([P.PCA(2), P.Standardize()]).fit(correlated)
    Z = pipeline.transform(correlated)
    assert Z.shape == (2000, 2)
    np.testing.assert_allclose(Z.mean(axis=0), 0, atol=1e-4)
    np.testing.assert_allclose(Z.std(axis=0), 1, rtol=1e-4)
    back = pipeline.inverse_transform(Z)
    np.testing.assert_allclose(back, P.PCA(2).fit(correlated).inverse_transform(P.PCA(2).fit_transform(correlated)),
                               rtol=1e-4, atol=1e-4)


# ----- issue 13, item 9: fitted statistics keep the data's precision ----------------------------------

def test_standardize_on_float64_data_offset_by_1e4_matches_standardscaler_to_1e_10(rng):
    # before: mean_ and std_ were stored as float32, the transformed mean was far from 0 (29.3 in the issue)
    sklearn_preprocessing = pytest.importorskip("sklearn.preprocessing")
    X = 1e4 + rng.standard_normal((1000, 4)) * 1e-3
    Z = P.Standardize().fit_transform(X)
    assert Z.dtype == np.float64
    np.testing.assert_allclose(Z.mean(axis=0), 0, atol=1e-6)
    np.testing.assert_allclose(Z, sklearn_preprocessing.StandardScaler().fit_transform(X), atol=1e-10)


def test_every_statistic_is_kept_in_the_datas_float_dtype(rng):
    X64 = 1e6 + rng.standard_normal((300, 5)) * np.array([1e-3, 1e-2, 1e-1, 1, 10])
    centred = P.ZeroCenter().fit(X64)
    assert centred.mean_.dtype == np.float64
    np.testing.assert_allclose(centred.transform(X64), X64 - X64.mean(axis=0), atol=1e-9)
    for step in (P.Standardize(per="channel"), P.PCA(3), P.Whiten("pca"), P.Scale()):
        step.fit(X64)
        assert all(getattr(step, name).dtype == np.float64 for name in step.arrays), type(step).__name__
        assert step.transform(X64).dtype == np.float64
    sklearn_decomposition = pytest.importorskip("sklearn.decomposition")
    # svd_solver="full": sklearn's "covariance_eigh" forms X.T @ X before centring, losing digits at 1e6
    ours, theirs = P.PCA(3).fit_transform(X64), sklearn_decomposition.PCA(3, svd_solver="full").fit_transform(X64)
    np.testing.assert_allclose(np.abs(ours), np.abs(theirs), atol=1e-9)  # up to each component's sign
    X32 = X64.astype(np.float32)
    for step in (P.Standardize(), P.ZeroCenter(), P.PCA(2), P.Whiten(), P.Scale()):
        step.fit(X32)
        assert step.transform(X32).dtype == np.float32
        assert all(getattr(step, name).dtype == np.float32 for name in step.arrays), type(step).__name__
    images = rng.integers(0, 256, (20, 4, 4), dtype=np.uint8)
    assert P.Standardize().fit_transform(images).dtype == np.float32
    assert P.Standardize().fit(images).mean_.dtype == np.float32
