"""The speed paths of the CNN layers (issue 18, item 5): batch-last memory between conv, batch norm,
ReLU and pooling, the max-pool winner stored in forward (ties, large windows), batch norm's
centred-x backward, each against PyTorch or against the same layer on an ordinary NCHW array."""

import numpy as np
import pytest
import torch

from nnscratch import Tensor, nn
from nnscratch.functional.conv import in_layout_of
from nnscratch.nn import functional as F


def _batch_last(x):
    """The same values as x: (N, C, H, W), stored batch last (C, H, W, N) as a conv's output is."""
    return np.ascontiguousarray(np.moveaxis(x, 0, -1)).transpose(3, 0, 1, 2)


def _value_and_grad(layer, x, grad):
    X = Tensor(x, requires_grad=True)
    out = layer(X)
    (out * Tensor(grad)).sum().backward()
    return out.numpy(), X.grad


def test_conv2d_output_is_a_batch_last_view_with_pytorchs_values():
    rng = np.random.default_rng(30)
    layer = nn.Conv2d(3, 4, 3, padding=1, rng=0)
    x = rng.standard_normal((5, 3, 6, 7)).astype(np.float32)
    y = layer(x).numpy()
    assert y.shape == (5, 4, 6, 7) and y.strides[0] == y.itemsize  # the image index moves fastest in memory
    expected = torch.nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(layer.weight.data),
                                          torch.from_numpy(layer.bias.data), padding=1).numpy()
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("make_layer", [lambda: nn.BatchNorm2d(3).double(), lambda: nn.ReLU(), lambda: nn.MaxPool2d(2),
                                        lambda: nn.MaxPool2d(3, stride=1), lambda: nn.AvgPool2d(2),
                                        lambda: nn.Conv2d(3, 2, 3, padding=1, rng=0).double()])
def test_layers_give_the_same_values_and_gradients_for_batch_last_and_nchw_memory(make_layer):
    rng = np.random.default_rng(31)
    x = rng.standard_normal((4, 3, 6, 6))
    grad_shape = make_layer()(x).shape
    grad = rng.standard_normal(grad_shape)
    for g in (grad, _batch_last(grad)):  # the gradient arriving in either layout too
        value, dx = _value_and_grad(make_layer(), x, g)
        value_bl, dx_bl = _value_and_grad(make_layer(), _batch_last(x), g)
        np.testing.assert_allclose(value_bl, value, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(dx_bl, dx, rtol=1e-12, atol=1e-12)


def test_a_conv_block_chain_matches_pytorch_values_and_every_gradient():
    rng = np.random.default_rng(32)
    ours = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1, bias=False, rng=0), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(4, 3, 3, padding=1, rng=1), nn.BatchNorm2d(3), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten()).double()
    t = torch.nn
    theirs = t.Sequential(t.Conv2d(2, 4, 3, padding=1, bias=False), t.BatchNorm2d(4), t.ReLU(), t.MaxPool2d(2),
                          t.Conv2d(4, 3, 3, padding=1), t.BatchNorm2d(3), t.ReLU(), t.MaxPool2d(2), t.Flatten()).double()
    with torch.no_grad():
        for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
            q.copy_(torch.from_numpy(p.data))
    x = rng.standard_normal((5, 2, 8, 8))
    grad = rng.standard_normal((5, 3 * 2 * 2))
    X = Tensor(x, requires_grad=True)
    out = ours(X)
    (out * Tensor(grad)).sum().backward()
    tx = torch.tensor(x, requires_grad=True)
    t_out = theirs(tx)
    t_out.backward(torch.tensor(grad))
    np.testing.assert_allclose(out.numpy(), t_out.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(X.grad, tx.grad.numpy(), rtol=1e-9, atol=1e-12)
    for p, q in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.grad, q.grad.numpy(), rtol=1e-9, atol=1e-12)


# ----- max pooling: the winner stored in forward ----------------------------------------------------
@pytest.mark.parametrize("kernel, stride", [(2, None), (3, 1), ((2, 3), (2, 1))])  # tiling, overlapping, uneven
def test_max_pool_ties_route_to_the_first_offset_as_pytorch(kernel, stride):
    x = np.maximum(np.random.default_rng(33).integers(-2, 3, (3, 2, 6, 7)), 0).astype(np.float64)  # zeros: many ties
    x = _batch_last(x)
    X = Tensor(x, requires_grad=True)
    out = F.max_pool2d(X, kernel, stride)
    grad = np.random.default_rng(34).standard_normal(out.shape)
    (out * Tensor(grad)).sum().backward()
    tx = torch.tensor(np.ascontiguousarray(x), requires_grad=True)
    t_out = torch.nn.functional.max_pool2d(tx, kernel, stride)
    t_out.backward(torch.tensor(grad))
    np.testing.assert_array_equal(out.numpy(), t_out.detach().numpy())
    np.testing.assert_allclose(X.grad, tx.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_max_pool_tie_in_a_hand_made_window_goes_to_the_top_left():
    x = Tensor(np.array([[[[2.0, 2.0, 0.0, 1.0], [2.0, 1.0, 1.0, 1.0]]]]), requires_grad=True)
    F.max_pool2d(x, 2).sum().backward()
    np.testing.assert_array_equal(x.grad, [[[[1.0, 0.0, 0.0, 1.0], [0.0, 0.0, 0.0, 0.0]]]])


def test_max_pool_with_more_than_256_offsets_matches_pytorch():
    x = np.random.default_rng(35).standard_normal((2, 2, 18, 19))  # a 17x17 window: 289 offsets need 16-bit winners
    X = Tensor(x, requires_grad=True)
    out = F.max_pool2d(X, 17, 1)
    grad = np.random.default_rng(36).standard_normal(out.shape)
    (out * Tensor(grad)).sum().backward()
    tx = torch.tensor(x, requires_grad=True)
    t_out = torch.nn.functional.max_pool2d(tx, 17, 1)
    t_out.backward(torch.tensor(grad))
    np.testing.assert_array_equal(out.numpy(), t_out.detach().numpy())
    np.testing.assert_allclose(X.grad, tx.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_max_pool_of_a_window_holding_nan_is_nan():
    x = np.zeros((1, 1, 2, 4))
    x[0, 0, 1, 1] = np.nan
    np.testing.assert_array_equal(np.isnan(F.max_pool2d(Tensor(x), 2).numpy()), [[[[True, False]]]])


# ----- batch normalisation in float32 ----------------------------------------------------------------
@pytest.mark.parametrize("layout", [np.ascontiguousarray, _batch_last])
def test_batch_norm_float32_stays_near_a_float64_reference_when_the_mean_dwarfs_the_spread(layout):
    rng = np.random.default_rng(37)
    x64 = 50 + 0.1 * rng.standard_normal((64, 8, 10, 10))  # mean / std = 500: float32 sums must not lose x̂
    grad = rng.standard_normal(x64.shape)
    y, dx = _value_and_grad(nn.BatchNorm2d(8), layout(x64.astype(np.float32)), grad.astype(np.float32))
    reference = torch.nn.BatchNorm2d(8).double()
    tx = torch.tensor(x64.astype(np.float32).astype(np.float64), requires_grad=True)
    reference(tx).backward(torch.tensor(grad.astype(np.float32).astype(np.float64)))
    assert y.dtype == np.float32 and dx.dtype == np.float32
    np.testing.assert_allclose(y, reference(tx).detach().numpy(), atol=5e-4)   # y is of order 1
    np.testing.assert_allclose(dx, tx.grad.numpy(), atol=5e-4 * np.abs(tx.grad.numpy()).max())


# ----- the layout helper -----------------------------------------------------------------------------
def test_in_layout_of_copies_only_when_the_memory_orders_differ():
    a = np.arange(24.0).reshape(2, 3, 4)
    assert in_layout_of(a, np.zeros((2, 3, 4))) is a
    template = np.zeros((4, 3, 2)).transpose(2, 1, 0)  # the same shape, axes reversed in memory
    b = in_layout_of(a, template)
    assert b is not a and b.strides == template.strides
    np.testing.assert_array_equal(b, a)
    c = np.zeros((2, 1, 4))  # an axis of length one carries no order: its stride is ignored, no copy
    assert in_layout_of(c, np.zeros((1, 2, 4)).transpose(1, 0, 2)) is c
