"""scikit-learn's own estimator checks (parametrize_with_checks) on MLPClassifier and MLPRegressor."""

import pytest

pytest.importorskip("sklearn")

from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from nnscratch.sklearn import MLPClassifier, MLPRegressor  # noqa: E402

# each check that cannot pass, with its reason (kept short on purpose)
ONE_ULP = ("float32 matrix products differ in the last bit with the batch's row count (BLAS picks another "
           "kernel), and the check asks for rtol=1e-7; with dtype='float64' it passes")
EXPECTED_FAILED = {name: {"check_methods_subset_invariance": ONE_ULP} for name in ("MLPClassifier", "MLPRegressor")}


def expected_failed_checks(estimator):
    return EXPECTED_FAILED.get(type(estimator).__name__, {})


@parametrize_with_checks([MLPClassifier(hidden_layer_sizes=(16,), max_iter=300, random_state=0),
                          MLPRegressor(hidden_layer_sizes=(16,), max_iter=300, random_state=0)],
                         expected_failed_checks=expected_failed_checks)
def test_estimator_passes_sklearn_checks(estimator, check):
    check(estimator)
