"""MaxPool2d, AvgPool2d, MaxPool1d and BatchNorm1d/2d (issue 18): values and gradients against
PyTorch, float64 gradient checks, the max gate's routing, running statistics in train()/eval()."""

import numpy as np
import pytest
import torch

import nnscratch as ns
from nnscratch import Tensor, nn
from nnscratch.gradcheck import gradcheck
from nnscratch.nn import functional as F


def _distinct(rng, shape):
    """Values with no ties (a tie makes max pooling's gradient ambiguous)."""
    return rng.permutation(np.prod(shape)).reshape(shape) / 7.0 + rng.standard_normal(shape) * 1e-3


def _check_against_torch(ours, theirs, x):
    rng = np.random.default_rng(11)
    X = Tensor(x, requires_grad=True)
    out = ours(X)
    grad = rng.standard_normal(out.shape)
    (out * Tensor(grad)).sum().backward()
    tx = torch.tensor(x, requires_grad=True)
    t_out = theirs(tx)
    t_out.backward(torch.tensor(grad))
    np.testing.assert_allclose(out.numpy(), t_out.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(X.grad, tx.grad.numpy(), rtol=1e-10, atol=1e-12)


POOL_CASES = [((2, 3, 6, 6), 2, None), ((1, 2, 7, 5), (3, 2), (2, 1)), ((2, 1, 5, 5), 3, 1)]  # overlapping windows


@pytest.mark.parametrize("shape, kernel, stride", POOL_CASES)
def test_max_pool2d_matches_pytorch(shape, kernel, stride):
    x = _distinct(np.random.default_rng(12), shape)
    _check_against_torch(lambda t: F.max_pool2d(t, kernel, stride),
                         lambda t: torch.nn.functional.max_pool2d(t, kernel, stride), x)


@pytest.mark.parametrize("shape, kernel, stride", POOL_CASES)
def test_avg_pool2d_matches_pytorch(shape, kernel, stride):
    x = np.random.default_rng(13).standard_normal(shape)
    _check_against_torch(lambda t: F.avg_pool2d(t, kernel, stride),
                         lambda t: torch.nn.functional.avg_pool2d(t, kernel, stride), x)


@pytest.mark.parametrize("shape, kernel, stride", [((2, 3, 10), 2, None), ((1, 2, 9), 3, 2)])
def test_max_pool1d_matches_pytorch(shape, kernel, stride):
    x = _distinct(np.random.default_rng(14), shape)
    _check_against_torch(lambda t: F.max_pool1d(t, kernel, stride),
                         lambda t: torch.nn.functional.max_pool1d(t, kernel, stride), x)


def test_max_gate_routes_the_gradient_to_the_winner_only():
    x = Tensor(np.array([[[[1.0, 5.0], [3.0, 2.0]]]]), requires_grad=True)
    nn.MaxPool2d(2)(x).sum().backward()
    np.testing.assert_array_equal(x.grad, [[[[0.0, 1.0], [0.0, 0.0]]]])


def test_avg_pool_spreads_the_gradient_evenly():
    x = Tensor(np.arange(16.0).reshape(1, 1, 4, 4), requires_grad=True)
    out = nn.AvgPool2d(2)(x)
    np.testing.assert_array_equal(out.numpy(), [[[[2.5, 4.5], [10.5, 12.5]]]])
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, np.full((1, 1, 4, 4), 0.25))


@pytest.mark.parametrize("layer, shape", [(nn.MaxPool2d(2), (2, 2, 4, 6)), (nn.AvgPool2d((2, 3), stride=1), (1, 2, 4, 5)),
                                          (nn.MaxPool1d(3, stride=2), (2, 2, 9))])
def test_pooling_layers_pass_gradient_check(layer, shape):
    x = Tensor(_distinct(np.random.default_rng(15), shape), requires_grad=True)
    assert gradcheck(layer, x)


def test_pooling_rejects_inputs_without_channels():
    with pytest.raises(ValueError, match=r"x.reshape\(N, 1, H, W\)"):
        nn.MaxPool2d(2)(np.zeros((4, 28, 28), np.float32))
    with pytest.raises(ValueError, match="smaller kernel_size"):
        nn.AvgPool2d(5)(np.zeros((1, 1, 3, 3), np.float32))


# ----- batch normalisation -----------------------------------------------------------------------
BN_CASES = [(nn.BatchNorm1d, torch.nn.BatchNorm1d, (6, 4)), (nn.BatchNorm1d, torch.nn.BatchNorm1d, (3, 4, 5)),
            (nn.BatchNorm2d, torch.nn.BatchNorm2d, (2, 3, 4, 5)), (nn.BatchNorm2d, torch.nn.BatchNorm2d, (1, 3, 3, 2))]


def _paired(ours_cls, theirs_cls, channels, momentum=0.1, eps=1e-5):
    rng = np.random.default_rng(16)
    ours = ours_cls(channels, momentum=momentum, eps=eps).double()
    theirs = theirs_cls(channels, momentum=momentum, eps=eps).double()
    gamma, beta = rng.uniform(0.5, 1.5, channels), rng.standard_normal(channels)
    ours.weight.data[...], ours.bias.data[...] = gamma, beta
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(gamma))
        theirs.bias.copy_(torch.tensor(beta))
    return ours, theirs


@pytest.mark.parametrize("ours_cls, theirs_cls, shape", BN_CASES)
def test_batch_norm_training_matches_pytorch_outputs_gradients_and_running_stats(ours_cls, theirs_cls, shape):
    ours, theirs = _paired(ours_cls, theirs_cls, shape[1], momentum=0.3, eps=1e-3)
    rng = np.random.default_rng(17)
    for step in range(2):  # two steps: the running statistics compound
        x = rng.standard_normal(shape) * 2 + 1
        _check_against_torch(ours, theirs, x)
    np.testing.assert_allclose(ours.running_mean.data, theirs.running_mean.numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours.running_var.data, theirs.running_var.numpy(), rtol=1e-12)


@pytest.mark.parametrize("ours_cls, theirs_cls, shape", BN_CASES[:3])
def test_batch_norm_eval_uses_running_statistics_as_pytorch(ours_cls, theirs_cls, shape):
    ours, theirs = _paired(ours_cls, theirs_cls, shape[1])
    rng = np.random.default_rng(18)
    for _ in range(3):
        x = rng.standard_normal(shape) * 3 - 2
        ours(x)
        theirs(torch.tensor(x))
    ours.eval(), theirs.eval()
    _check_against_torch(ours, theirs, rng.standard_normal((1,) + shape[1:]))  # a batch of one is fine in eval
    before = ours.running_mean.data.copy()
    ours(rng.standard_normal(shape))
    np.testing.assert_array_equal(ours.running_mean.data, before)  # eval never moves them


@pytest.mark.parametrize("layer, shape", [(nn.BatchNorm1d(3), (5, 3)), (nn.BatchNorm1d(2), (3, 2, 4)),
                                          (nn.BatchNorm2d(2), (2, 2, 3, 3))])
def test_batch_norm_passes_gradient_check_in_training_and_eval(layer, shape):
    x = Tensor(np.random.default_rng(19).standard_normal(shape), requires_grad=True)
    assert gradcheck(layer.train(), x)
    assert gradcheck(layer.eval(), x)


def test_batch_norm_weight_and_bias_gradients_match_pytorch():
    ours, theirs = _paired(nn.BatchNorm2d, torch.nn.BatchNorm2d, 3)
    x = np.random.default_rng(20).standard_normal((4, 3, 2, 2))
    grad = np.random.default_rng(21).standard_normal(x.shape)
    (ours(x) * Tensor(grad)).sum().backward()
    theirs(torch.tensor(x)).backward(torch.tensor(grad))
    np.testing.assert_allclose(ours.weight.grad, theirs.weight.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(ours.bias.grad, theirs.bias.grad.numpy(), rtol=1e-10)


def test_batch_norm_with_one_value_per_channel_in_training_says_what_to_do():
    with pytest.raises(ValueError, match=r"model.eval\(\)"):
        nn.BatchNorm1d(4)(np.zeros((1, 4), np.float32))
    with pytest.raises(ValueError, match=r"\(N, 3, H, W\)"):
        nn.BatchNorm2d(3)(np.zeros((2, 3, 4), np.float32))


def test_running_statistics_are_buffers_in_the_state_dict_not_parameters():
    model = nn.Sequential(nn.Linear(3, 4, rng=0), nn.BatchNorm1d(4))
    assert [name for name, _ in model.named_parameters()] == ["0.weight", "0.bias", "1.weight", "1.bias"]
    assert list(model.state_dict())[-2:] == ["1.running_mean", "1.running_var"]
    model(np.random.default_rng(22).standard_normal((8, 3)).astype(np.float32))
    fresh = nn.Sequential(nn.Linear(3, 4, rng=1), nn.BatchNorm1d(4))
    fresh.load_state_dict(model.state_dict())
    np.testing.assert_array_equal(fresh[1].running_var.data, model[1].running_var.data)
    assert model.double()[1].running_mean.dtype == np.float64


def test_batchnorm_model_round_trips_through_save(tmp_path):
    model = nn.Sequential(nn.Linear(3, 4, rng=0), nn.BatchNorm1d(4, momentum=0.2, eps=1e-3), nn.ReLU())
    model(np.random.default_rng(23).standard_normal((8, 3)).astype(np.float32))
    ns.save(model.eval(), tmp_path / "bn.npz")
    loaded = ns.load(tmp_path / "bn.npz").eval()
    assert loaded[1].momentum == 0.2 and loaded[1].eps == 1e-3
    x = np.ones((2, 3), np.float32)
    np.testing.assert_array_equal(loaded(x).numpy(), model(x).numpy())
