"""Conv2d and Conv1d (issue 18): values and gradients against PyTorch (stride, padding, non-square
kernels, a batch of one), float64 gradient checks, the reused im2col buffer, errors, save/load."""

import numpy as np
import pytest
import torch

import nnscratch as ns
from nnscratch import Tensor, nn
from nnscratch.functional.conv import ColumnBuffer, col2im, im2col
from nnscratch.gradcheck import gradcheck
from nnscratch.nn import functional as F

CONV2D_CASES = [  # (x shape, weight shape, stride, padding)
    ((2, 3, 7, 6), (4, 3, 3, 3), 1, 0),
    ((2, 3, 7, 6), (4, 3, 3, 2), 2, 1),            # non-square kernel, stride and padding
    ((1, 2, 8, 5), (3, 2, 2, 4), (2, 1), (0, 2)),  # batch of one, per-axis stride and padding
    ((3, 1, 5, 5), (2, 1, 5, 5), 1, 2),            # kernel as large as the image
]


def _compare_with_torch(ours, theirs, x, weight, bias, grad):
    tensors = [Tensor(a, requires_grad=True) for a in (x, weight, bias)]
    out = ours(*tensors)
    (out * Tensor(grad)).sum().backward()
    torch_tensors = [torch.tensor(a, requires_grad=True) for a in (x, weight, bias)]
    torch_out = theirs(*torch_tensors)
    torch_out.backward(torch.tensor(grad))
    np.testing.assert_allclose(out.numpy(), torch_out.detach().numpy(), rtol=1e-10, atol=1e-12)
    for mine, reference in zip(tensors, torch_tensors):
        np.testing.assert_allclose(mine.grad, reference.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("x_shape, w_shape, stride, padding", CONV2D_CASES)
def test_conv2d_values_and_gradients_match_pytorch(x_shape, w_shape, stride, padding):
    rng = np.random.default_rng(1)
    x, w, b = rng.standard_normal(x_shape), rng.standard_normal(w_shape), rng.standard_normal(w_shape[0])
    expected_shape = torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), None, stride, padding).shape
    grad = rng.standard_normal(expected_shape)
    _compare_with_torch(lambda a, c, d: F.conv2d(a, c, d, stride, padding),
                        lambda a, c, d: torch.nn.functional.conv2d(a, c, d, stride, padding), x, w, b, grad)


@pytest.mark.parametrize("x_shape, w_shape, stride, padding",
                         [((2, 3, 11), (4, 3, 3), 1, 0), ((1, 2, 9), (5, 2, 4), 2, 3), ((3, 1, 6), (2, 1, 6), 1, 0)])
def test_conv1d_values_and_gradients_match_pytorch(x_shape, w_shape, stride, padding):
    rng = np.random.default_rng(2)
    x, w, b = rng.standard_normal(x_shape), rng.standard_normal(w_shape), rng.standard_normal(w_shape[0])
    expected_shape = torch.nn.functional.conv1d(torch.tensor(x), torch.tensor(w), None, stride, padding).shape
    grad = rng.standard_normal(expected_shape)
    _compare_with_torch(lambda a, c, d: F.conv1d(a, c, d, stride, padding),
                        lambda a, c, d: torch.nn.functional.conv1d(a, c, d, stride, padding), x, w, b, grad)


def test_conv2d_layer_passes_gradient_check_in_float64():
    layer = nn.Conv2d(2, 3, (3, 2), stride=(1, 2), padding=1, rng=0)
    x = Tensor(np.random.default_rng(3).standard_normal((2, 2, 5, 6)), requires_grad=True)
    assert gradcheck(layer, x)


def test_conv1d_layer_passes_gradient_check_in_float64():
    layer = nn.Conv1d(2, 3, 3, stride=2, padding=1, rng=0)
    x = Tensor(np.random.default_rng(4).standard_normal((2, 2, 9)), requires_grad=True)
    assert gradcheck(layer, x)


def test_conv2d_module_matches_torch_module_with_copied_weights():
    ours = nn.Conv2d(3, 5, 3, stride=2, padding=1, rng=0)
    theirs = torch.nn.Conv2d(3, 5, 3, stride=2, padding=1)
    with torch.no_grad():
        theirs.weight.copy_(torch.from_numpy(ours.weight.data))
        theirs.bias.copy_(torch.from_numpy(ours.bias.data))
    x = np.random.default_rng(5).standard_normal((4, 3, 9, 9)).astype(np.float32)
    y = ours(x)
    assert y.dtype == np.float32 and y.shape == (4, 5, 5, 5)
    np.testing.assert_allclose(y.numpy(), theirs(torch.from_numpy(x)).detach().numpy(), rtol=1e-4, atol=1e-5)


def test_im2col_rows_are_receptive_fields_and_col2im_is_its_adjoint():
    x = np.arange(2 * 1 * 3 * 4, dtype=np.float64).reshape(2, 1, 3, 4)
    cols = im2col(x, (2, 2), (1, 1), (0, 0))
    assert cols.shape == (4, 2 * 3 * 2)  # columns ordered (window row, window column, image): batch last
    np.testing.assert_array_equal(cols[:, 0], [0, 1, 4, 5])       # the window at the top-left corner
    np.testing.assert_array_equal(cols[:, 1], [12, 13, 16, 17])   # the same window of the second image
    np.testing.assert_array_equal(cols[:, 10], [6, 7, 10, 11])    # the last window (row 1, column 2) of the first image
    # <im2col(x), c> == <x, col2im(c)> for any c: col2im is the gradient of im2col
    rng = np.random.default_rng(6)
    x, c = rng.standard_normal((2, 3, 6, 5)), rng.standard_normal((3 * 3 * 2, 3 * 2 * 2))  # C·kh·kw rows, Ho·Wo·N columns
    lhs = (im2col(x, (3, 2), (2, 2), (1, 0)) * c).sum()
    rhs = (x * col2im(c, x.shape, (3, 2), (2, 2), (1, 0))).sum()
    assert lhs == pytest.approx(rhs, rel=1e-12)


def test_column_buffer_is_reused_across_batches_not_reallocated():
    layer = nn.Conv2d(1, 4, 3, rng=0)
    rng = np.random.default_rng(7)
    layer(rng.standard_normal((8, 1, 10, 10)).astype(np.float32))
    memory = layer.columns.array
    for n in (8, 5, 8):  # a smaller last batch takes a view of the same memory
        out = layer(rng.standard_normal((n, 1, 10, 10)).astype(np.float32))
        out.sum().backward()
        assert layer.columns.array is memory
    assert memory.size == 8 * 8 * 8 * 9


def test_backward_after_a_later_forward_reused_the_buffer_still_gives_the_right_gradient():
    layer = nn.Conv2d(2, 3, 3, padding=1, rng=0).double()
    rng = np.random.default_rng(8)
    x1, x2 = rng.standard_normal((2, 2, 5, 5)), rng.standard_normal((2, 2, 5, 5))
    out1 = layer(x1)
    layer(x2)  # overwrites the shared columns
    out1.sum().backward()
    tw = torch.tensor(layer.weight.data, requires_grad=True)
    torch.nn.functional.conv2d(torch.tensor(x1), tw, padding=1).sum().backward()
    np.testing.assert_allclose(layer.weight.grad, tw.grad.numpy(), rtol=1e-10)


def test_conv2d_initialiser_uses_fan_in_of_channels_times_kernel():
    layer = nn.Conv2d(16, 64, 3, rng=0)  # kaiming: std = sqrt(2 / (16 * 9))
    assert layer.weight.shape == (64, 16, 3, 3)
    assert layer.weight.data.std() == pytest.approx(np.sqrt(2 / 144), rel=0.03)


@pytest.mark.parametrize("layer, x, message", [
    (nn.Conv2d(1, 4, 3), np.zeros((2, 28, 28), np.float32), "x.reshape(len(x), 1, H, W)"),
    (nn.Conv2d(3, 4, 3), np.zeros((2, 1, 8, 8), np.float32), "(N, 3, H, W)"),
    (nn.Conv2d(1, 4, 5), np.zeros((2, 1, 3, 3), np.float32), "does not fit"),
    (nn.Conv1d(1, 4, 3), np.zeros((2, 40), np.float32), "x.reshape(len(x), 1, L)"),
])
def test_wrong_input_shapes_raise_errors_naming_the_fix(layer, x, message):
    with pytest.raises(ValueError) as error:
        layer(x)
    assert message in str(error.value)


def test_bad_constructor_arguments_are_named():
    with pytest.raises(ValueError, match="kernel_size must be an int or a pair"):
        nn.Conv2d(1, 2, (3, 3, 3))
    with pytest.raises(ValueError, match="padding"):
        nn.Conv2d(1, 2, 3, padding=-1)
    with pytest.raises(ValueError, match="out_channels"):
        nn.Conv1d(1, 0, 3)


def test_cnn_saves_and_loads_without_pickle(tmp_path):
    model = nn.Sequential(nn.Unflatten(1, (1, 12, 12)), nn.Conv2d(1, 4, 3, padding=1, rng=0), nn.BatchNorm2d(4),
                          nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 6, (3, 2), stride=(1, 2), rng=1), nn.AvgPool2d(2),
                          nn.Flatten(), nn.Linear(6 * 2 * 1, 3, rng=2))
    x = np.random.default_rng(9).standard_normal((5, 144)).astype(np.float32)
    model(x)  # one training step's forward moves the running statistics
    model.eval()
    ns.save(model, tmp_path / "cnn.npz")
    loaded = ns.load(tmp_path / "cnn.npz").eval()
    np.testing.assert_array_equal(loaded[2].running_mean.data, model[2].running_mean.data)
    np.testing.assert_array_equal(loaded(x).numpy(), model(x).numpy())
    assert loaded[5].kernel_size == (3, 2) and loaded[5].stride == (1, 2)


def test_conv1d_model_saves_and_loads(tmp_path):
    model = nn.Sequential(nn.Unflatten(1, (1, 20)), nn.Conv1d(1, 4, 5, padding=2, rng=0), nn.BatchNorm1d(4),
                          nn.ReLU(), nn.MaxPool1d(2), nn.Flatten(), nn.Linear(40, 3, rng=1)).eval()
    x = np.random.default_rng(10).standard_normal((3, 20)).astype(np.float32)
    ns.save(model, tmp_path / "m.npz")
    np.testing.assert_array_equal(ns.load(tmp_path / "m.npz").eval()(x).numpy(), model(x).numpy())


def test_conv_functions_name_their_gate_and_rule():
    x = Tensor(np.ones((1, 1, 3, 3)), requires_grad=True)
    out = F.conv2d(x, Tensor(np.ones((1, 1, 2, 2))))
    assert out._ctx.name == "conv2d" and "col2im" in out._ctx.rule
    assert out._ctx.constants["stride"] == (1, 1)
    assert ColumnBuffer().generation == 0


# ----- the model factory and the CLI -------------------------------------------------------------
from nnscratch.runs import RunConfig, build_model, parse_model  # noqa: E402
from test_cli import fake_fashion  # noqa: E402, F401  (the fixture with a tiny Fashion-MNIST)


def test_cnn_specs_build_conv_bn_relu_pool_blocks_from_the_sample_shape():
    model = build_model(RunConfig(model="cnn:8,16,fc32"), (28, 28), 10)
    kinds = [type(m).__name__ for m in model]
    assert kinds == ["Unflatten", "Conv2d", "BatchNorm2d", "ReLU", "MaxPool2d", "Conv2d", "BatchNorm2d", "ReLU",
                     "MaxPool2d", "Flatten", "Linear", "ReLU", "Linear"]
    assert model[10].in_features == 16 * 7 * 7 and model(np.zeros((2, 28, 28), np.float32)).shape == (2, 10)
    colour = build_model(RunConfig(model="cnn:4"), (32, 32, 3), 10)
    assert type(colour[0]).__name__ == "Permute" and colour(np.zeros((1, 32, 32, 3), np.float32)).shape == (1, 10)
    signal = build_model(RunConfig(model="cnn1d:8,8"), (40,), 10)
    assert type(signal[1]).__name__ == "Conv1d" and signal(np.zeros((3, 40), np.float32)).shape == (3, 10)


@pytest.mark.parametrize("spec, shape, message", [
    ("cnn:", (28, 28), "'cnn:32,64'"), ("cnn:32,fc", (28, 28), "fcN"), ("cnn:fc64,32", (28, 28), "conv widths"),
    ("cnn:8", (1296,), "use an mlp for feature vectors"), ("cnn1d:8", (32, 32, 3), "signals (N, L)"),
    ("cnn:8,8,8,8,8", (28, 28), "fewer conv widths"),
])
def test_bad_cnn_specs_and_shapes_are_explained(spec, shape, message):
    with pytest.raises(ValueError) as error:
        parse_model(spec)
        build_model(RunConfig(model=spec), shape, 10)
    assert message in str(error.value)


def test_train_cnn_writes_a_run_whose_model_reloads_and_whose_report_shows_the_filters(fake_fashion, tmp_path):  # noqa: F811
    from nnscratch import data
    from nnscratch.cli import main

    folder, entry = fake_fashion
    run = tmp_path / "cnn"
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(data.DATASETS, "fashion-mnist", entry)
        mp.setenv("NNSCRATCH_DATA", str(folder.parent))
        mp.setenv("HOME", str(tmp_path / "home"))
        assert main(["train", "--model", "cnn:4,8", "--epochs", "1", "--out", str(run), "--offline", "--quiet"]) == 0
    model = ns.load(run / "model.npz")
    assert isinstance(model[1], nn.Conv2d) and model[1].weight.shape == (4, 1, 3, 3)
    assert "<h2>What the convolutions see</h2>" in (run / "report.html").read_text()
