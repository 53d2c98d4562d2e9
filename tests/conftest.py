import numpy as np
import pytest

from nnscratch import Tensor


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def param(rng, *shape, low=None):
    """A float64 tensor that requires grad, for gradient checks. `low` keeps values away from 0."""
    data = rng.standard_normal(shape)
    if low is not None:
        data = np.sign(data) * (np.abs(data) + low)
    return Tensor(data, requires_grad=True)
