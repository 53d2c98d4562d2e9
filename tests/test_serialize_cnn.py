"""CNN model files (issue 18 item 2): nnscratch.load checks every Conv1d, Conv2d, BatchNorm1d and
BatchNorm2d array against the shape its architecture entry gives, before building anything, so a
tampered file is refused in one line naming the layer, as the Linear ones are."""

import numpy as np
import pytest

import nnscratch
from nnscratch import nn, runs
from nnscratch.model_check import PARAMETER_SHAPES
from nnscratch.serialize import MODEL_FORMAT, ModelFileError, read_container, write_container
from test_serialize_hostile import MiB, peak_bytes_of, refused, rewritten


def cnn():
    """cnn:4,8 on 12x12 images: 0 Unflatten, 1 Conv2d(1->4), 2 BatchNorm2d(4), ..., 5 Conv2d(4->8),
    6 BatchNorm2d(8), ..., 10 Linear(72 -> 3)."""
    return runs.build_model(runs.RunConfig(model="cnn:4,8"), (12, 12), 3)


def saved_cnn(tmp_path):
    path = tmp_path / "cnn.npz"
    nnscratch.save(cnn(), path)
    return path


def layer(index):
    return lambda header: header["architecture"]["layers"][index]


def test_every_conv_and_batch_norm_layer_has_a_shape_rule():
    assert {"Conv1d", "Conv2d", "BatchNorm1d", "BatchNorm2d"} <= set(PARAMETER_SHAPES)


@pytest.mark.parametrize("module", [
    nn.Conv2d(3, 5, (2, 4), stride=2, padding=1, rng=0), nn.Conv2d(2, 6, 3, bias=False, rng=1),
    nn.Conv1d(2, 7, 5, padding=2, rng=2), nn.Conv1d(1, 3, 1, bias=False, rng=3),
    nn.BatchNorm1d(6), nn.BatchNorm2d(4), nn.BatchNorm2d(3, affine=False)], ids=repr)
def test_the_shape_rule_gives_exactly_the_arrays_the_layer_allocates(module):
    entry = nn.architecture(module)
    expected = PARAMETER_SHAPES[entry.pop("type")](entry)
    assert expected == {name: value.shape for name, value in module.state_dict().items()}


def test_a_cnn_model_file_round_trips_and_predicts_the_same(tmp_path):
    model = cnn().eval()
    path = tmp_path / "cnn.npz"
    nnscratch.save(model, path)
    loaded = nnscratch.load(path).eval()
    x = np.random.default_rng(0).standard_normal((2, 12, 12)).astype(np.float32)
    np.testing.assert_array_equal(loaded(x).data, model(x).data)


def test_a_wrong_conv_weight_shape_is_refused_naming_the_layer(tmp_path):
    path = rewritten(saved_cnn(tmp_path), tmp_path / "m.npz",
                     lambda h, a: a.update({"param/5.weight": np.ones((8, 4, 5, 5), np.float32)}))
    refused(path, "parameter '5.weight' has shape (8, 4, 5, 5) but its layer needs (8, 4, 3, 3)")


def test_a_wrong_batch_norm_running_statistic_is_refused_naming_the_layer(tmp_path):
    path = rewritten(saved_cnn(tmp_path), tmp_path / "m.npz",
                     lambda h, a: a.update({"param/2.running_var": np.ones(5, np.float32)}))
    refused(path, "parameter '2.running_var' has shape (5,) but its layer needs (4,)")


def test_huge_declared_channels_are_refused_without_allocating(tmp_path):
    path = rewritten(saved_cnn(tmp_path), tmp_path / "m.npz",
                     lambda h, a: layer(5)(h).update(out_channels=10**6, in_channels=10**5))
    peak = peak_bytes_of(lambda: refused(path, "parameter '5.weight' has shape (8, 4, 3, 3) but its layer needs "
                                               "(1,000,000, 100,000, 3, 3)"))
    assert peak < 16 * MiB


def test_a_huge_batch_norm_is_refused_without_allocating(tmp_path):
    path = rewritten(saved_cnn(tmp_path), tmp_path / "m.npz", lambda h, a: layer(6)(h).update(num_features=10**9))
    peak = peak_bytes_of(lambda: refused(path, "parameter '6.weight' has shape (8,) but its layer needs "
                                               "(1,000,000,000,)"))
    assert peak < 16 * MiB


def test_a_conv1d_file_with_a_longer_kernel_declared_is_refused(tmp_path):
    path = tmp_path / "c1.npz"
    nnscratch.save(nn.Sequential(nn.Conv1d(2, 3, 5, rng=0), nn.BatchNorm1d(3, affine=False)), path)
    bigger = rewritten(path, tmp_path / "m.npz", lambda h, a: layer(0)(h).update(kernel_size=9))
    refused(bigger, "parameter '0.weight' has shape (3, 2, 5) but its layer needs (3, 2, 9)")
    learned = rewritten(path, tmp_path / "n.npz", lambda h, a: layer(1)(h).update(affine=True))
    refused(learned, "parameter '1.weight' (3,) is missing", "parameter '1.bias' (3,) is missing")


def test_a_conv_bias_dropped_from_the_architecture_leaves_an_array_with_no_place(tmp_path):
    path = tmp_path / "c.npz"
    nnscratch.save(nn.Sequential(nn.Conv2d(1, 2, 3, rng=0)), path)
    refused(rewritten(path, tmp_path / "m.npz", lambda h, a: layer(0)(h).update(bias=False)),
            "no place for: '0.bias'")


@pytest.mark.parametrize("kernel_size", [[3, 3, 3], "3", -3, [0, 3]])
def test_a_kernel_size_of_the_wrong_form_is_refused_naming_the_layer(tmp_path, kernel_size):
    path = rewritten(saved_cnn(tmp_path), tmp_path / "m.npz", lambda h, a: layer(1)(h).update(kernel_size=kernel_size))
    refused(path, "Conv2d at '1' has sizes that are not positive integers")


@pytest.mark.parametrize("change, message", [
    ({"affine": "yes"}, "BatchNorm2d at '2' has affine='yes' (it takes true or false)"),
    ({"momentum": "fast"}, "BatchNorm2d at '2' has momentum='fast' (it takes a number)"),
])
def test_a_batch_norm_argument_of_the_wrong_kind_is_refused(tmp_path, change, message):
    path = rewritten(saved_cnn(tmp_path), tmp_path / "m.npz", lambda h, a: layer(2)(h).update(change))
    refused(path, message)


def test_the_names_serialize_always_had_are_still_there():
    from nnscratch import errors, serialize

    assert serialize.PARAMETER_SHAPES is PARAMETER_SHAPES
    assert serialize.ModelFileError is errors.ModelFileError
    assert callable(serialize.check_architecture) and "Conv2d" in serialize.MODULES
    assert (serialize.MODEL_FORMAT, serialize.read_container, serialize.write_container) == \
        (MODEL_FORMAT, read_container, write_container)
    assert issubclass(ModelFileError, ValueError)
