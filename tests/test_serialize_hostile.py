"""nnscratch.load and load_checkpoint against hostile, absurd, damaged and foreign files (issue 13
items 2, 4 and 11): each is refused with one ModelFileError naming the file, before any large
allocation, and never with NumPy's or zipfile's own words."""

import io
import json
import pickle
import struct
import tracemalloc
import zipfile
import zlib

import numpy as np
import pytest

import nnscratch
from nnscratch import nn, optim
from nnscratch.serialize import MAX_MEMBER_BYTES, MODEL_FORMAT, ModelFileError, read_container, write_container
from nnscratch.train import CHECKPOINT_NAME, load_checkpoint, save_checkpoint

MiB = 2**20


def small_model():
    return nn.Sequential(nn.Linear(4, 3, rng=0), nn.ReLU(), nn.Linear(3, 2, rng=1))


def saved(tmp_path, name="model.npz"):
    path = tmp_path / name
    nnscratch.save(small_model(), path, meta={"classes": ["a", "b"]})
    return path


def rewritten(path, new_path, change):
    """A copy of the model file at `path` with `change(header, arrays)` applied to its contents."""
    header, arrays = read_container(path, MODEL_FORMAT, "model file")
    change(header, arrays)
    write_container(new_path, header, arrays)
    return new_path


def refused(path, *fragments, error=ModelFileError):
    """Load `path` expecting `error` whose one-line message names the file and every fragment."""
    with pytest.raises(error) as caught:
        nnscratch.load(path)
    message = str(caught.value)
    assert str(path) in message and "\n" not in message
    for fragment in fragments:
        assert fragment in message, message
    for leak in ("allow_pickle", "[Errno", "Traceback"):
        assert leak not in message
    return message


def peak_bytes_of(action):
    """The peak Python + NumPy allocation while `action()` runs (NumPy reports to tracemalloc)."""
    tracemalloc.start()
    try:
        action()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


def npy_header(shape, dtype="<f8"):
    out = io.BytesIO()
    np.lib.format.write_array_header_1_0(out, {"descr": dtype, "fortran_order": False, "shape": shape})
    return out.getvalue()


def model_header(architecture):
    return json.dumps({"format": MODEL_FORMAT, "version": 1, "architecture": architecture, "preprocess": None,
                       "meta": {}})


def write_raw_npz(path, members):
    """An .npz from {member name: raw .npy bytes}."""
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return path


def header_member(architecture):
    text = model_header(architecture)
    array = np.array(text)
    out = io.BytesIO()
    np.lib.format.write_array(out, array)
    return out.getvalue()


# ----- item 4: absurd sizes are refused before anything is allocated -------------------------------
def deflated_zeros(head, mebibytes):
    """(raw deflate stream, CRC-32) of `head` + `mebibytes` MiB of zeros, made in milliseconds: after a
    full flush the compressor starts afresh, so every MiB of zeros compresses to the same ~1 KB."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    start = compressor.compress(head) + compressor.flush(zlib.Z_FULL_FLUSH)
    chunk = compressor.compress(bytes(MiB)) + compressor.flush(zlib.Z_FULL_FLUSH)
    crc = zlib.crc32(head)
    for _ in range(mebibytes):
        crc = zlib.crc32(bytes(MiB), crc)
    return start + chunk * mebibytes + compressor.flush(), crc


def test_a_zip_bomb_member_is_refused_from_the_zip_directory_without_inflating_it(tmp_path):
    arch = {"type": "Sequential", "layers": [{"type": "Linear", "in_features": 8 * MiB, "out_features": 8}]}
    head = npy_header((64 * MiB,))  # 64 Mi float64 zeros: 512 MiB
    raw, crc = deflated_zeros(head, 512)
    path = tmp_path / "bomb.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("header.npy", header_member(arch))
        info = zipfile.ZipInfo("param/0.weight.npy")
        info.compress_type, info.CRC = zipfile.ZIP_DEFLATED, crc
        info.file_size, info.compress_size = len(head) + 512 * MiB, len(raw)
        info.header_offset = archive.fp.tell()
        archive.fp.write(info.FileHeader(zip64=False) + raw)
        archive.start_dir = archive.fp.tell()
        archive.filelist.append(info)
        archive.NameToInfo[info.filename] = info
    assert path.stat().st_size < MiB  # a 0.5 MB file ...
    assert zipfile.ZipFile(path).getinfo("param/0.weight.npy").file_size > 512 * MiB  # ... that inflates to 512 MiB
    peak = peak_bytes_of(lambda: refused(path, "'param/0.weight.npy' would inflate", "100x", "zip bomb"))
    assert peak < 16 * MiB


def test_a_member_declaring_more_than_the_size_limit_is_refused(tmp_path):
    path = tmp_path / "huge.npz"
    np.savez(path, header=np.array(model_header({"type": "Identity"})), **{"param/w": np.zeros(4)})
    data = bytearray(path.read_bytes())
    directory = data.find(b"PK\x01\x02", data.find(b"param/w") - 80)  # central-directory entry of param/w
    while data[directory + 46: directory + 46 + 11] != b"param/w.npy":
        directory = data.find(b"PK\x01\x02", directory + 4)
    struct.pack_into("<I", data, directory + 24, 3 * 2**30)  # its declared uncompressed size: 3 GiB
    path.write_bytes(bytes(data))
    refused(path, "'param/w.npy'", f"{3 * 2**30:,} bytes", f"{MAX_MEMBER_BYTES // 2**30} GiB limit")


def test_an_architecture_declaring_linear_1e9_by_1e9_is_refused_without_allocating(tmp_path):
    arch = {"type": "Sequential", "layers": [{"type": "Linear", "in_features": 10**9, "out_features": 10**9}]}
    path = tmp_path / "absurd.npz"
    write_container(path, {"format": MODEL_FORMAT, "version": 1, "architecture": arch, "preprocess": None,
                           "meta": {}}, {"param/0.weight": np.zeros((2, 2), np.float32),
                                         "param/0.bias": np.zeros(2, np.float32)})
    peak = peak_bytes_of(lambda: refused(path, "'0.weight' has shape (2, 2)", "(1,000,000,000, 1,000,000,000)",
                                         "'0.bias' has shape (2,)"))
    assert peak < 16 * MiB
    write_container(path, {"format": MODEL_FORMAT, "version": 1, "architecture": arch, "preprocess": None,
                           "meta": {}}, {})
    refused(path, "'0.weight' (1,000,000,000, 1,000,000,000) is missing")


@pytest.mark.parametrize("size", [-3, 3.5, 0, True, "4"])
def test_an_architecture_with_a_negative_zero_or_non_integer_size_is_refused(tmp_path, size):
    path = rewritten(saved(tmp_path), tmp_path / "bad.npz",
                     lambda header, arrays: header["architecture"]["layers"][0].update(in_features=size))
    refused(path, "Linear at '0' has sizes that are not positive integers")


def test_a_npy_header_claiming_more_data_than_the_member_holds_is_refused_before_reading(tmp_path):
    arch = {"type": "Identity"}
    member = npy_header((10**12,)) + np.zeros(2).tobytes()  # claims 8 TB, holds 16 bytes
    path = write_raw_npz(tmp_path / "liar.npz", {"header.npy": header_member(arch), "param/w.npy": member})
    peak = peak_bytes_of(lambda: refused(path, "'param/w.npy' declares shape (1000000000000,)", "holds 16 bytes"))
    assert peak < 16 * MiB


def test_a_generic_layer_with_a_size_beyond_every_array_is_refused(tmp_path):
    # Dropout has no shape rule: an integer argument larger than any array in the file is refused
    path = rewritten(saved(tmp_path), tmp_path / "odd.npz",
                     lambda header, arrays: header["architecture"]["layers"].append({"type": "Softmax", "axis": 10**9}))
    refused(path, "Softmax at '3' has a size (1,000,000,000) larger than any array in the file")


# ----- item 2: a valid but wrong architecture, named by file -------------------------------------
def test_a_missing_weight_is_named_with_the_file(tmp_path):
    path = rewritten(saved(tmp_path), tmp_path / "m.npz", lambda h, a: a.pop("param/2.weight"))
    refused(path, "parameter '2.weight' (3, 2) is missing", "save the model again")


def test_a_wrong_shape_weight_is_named_with_the_file(tmp_path):
    path = rewritten(saved(tmp_path), tmp_path / "m.npz", lambda h, a: a.update({"param/0.weight": np.ones((5, 3))}))
    refused(path, "parameter '0.weight' has shape (5, 3) but its layer needs (4, 3)")


def test_an_unknown_layer_type_is_named_with_the_file(tmp_path):
    path = rewritten(saved(tmp_path), tmp_path / "m.npz",
                     lambda h, a: h["architecture"]["layers"].__setitem__(1, {"type": "Swish"}))
    refused(path, "unknown layer type 'Swish' at '1'")


def test_extra_arrays_are_named_with_the_file(tmp_path):
    path = rewritten(saved(tmp_path), tmp_path / "m.npz", lambda h, a: a.update({"param/9.weight": np.ones(2)}))
    refused(path, "no place for: '9.weight'")


def test_an_argument_the_layer_does_not_take_is_named_with_the_file(tmp_path):
    path = rewritten(saved(tmp_path), tmp_path / "m.npz",
                     lambda h, a: h["architecture"]["layers"][0].update(colour="red"))
    refused(path, "Linear at '0' cannot take", "colour")


def test_integer_weights_are_refused(tmp_path):
    path = rewritten(saved(tmp_path), tmp_path / "m.npz",
                     lambda h, a: a.update({"param/0.bias": np.ones(3, dtype=np.int64)}))
    refused(path, "'0.bias' holds int64, not floating-point numbers")


def test_a_missing_model_file_is_a_sentence_naming_it(tmp_path):
    message = refused(tmp_path / "nowhere.npz", "no model file at", "no such file", error=FileNotFoundError)
    assert message.startswith("no model file at")


# ----- item 11: files that are not ours, in the library's own terms -------------------------------
def test_a_python_script_is_not_a_model_file_and_numpys_pickle_hint_is_not_passed_on(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "script.py").write_text("print('hello')\n")
    with pytest.raises(ModelFileError) as caught:
        nnscratch.load("script.py")
    message = str(caught.value)
    assert message.startswith("script.py is not an nnscratch model file (.npz written by nnscratch.save): ")
    assert "text file" in message and "allow_pickle" not in message


def test_a_pickle_is_refused_and_never_unpickled(tmp_path):
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps({"weights": [1, 2, 3]}))
    refused(path, "is not an nnscratch model file", "pickle", "never loads")


def test_an_npz_with_a_pickled_object_member_is_refused(tmp_path):
    path = tmp_path / "objects.npz"
    np.savez(path, header=np.array(model_header({"type": "Identity"})),
             **{"param/w": np.array([{"a": 1}, None], dtype=object)})
    refused(path, "is not an nnscratch model file", "'param/w.npy' holds Python objects", "never unpickles")


def test_a_single_npy_array_or_an_empty_file_is_not_a_model_file(tmp_path):
    np.save(tmp_path / "weights.npy", np.ones(3))
    refused(tmp_path / "weights.npy", "a single .npy array")
    (tmp_path / "empty.npz").write_bytes(b"")
    refused(tmp_path / "empty.npz", "it is empty")


def test_a_saved_model_still_loads_exactly(tmp_path):
    model = small_model()
    nnscratch.save(model, tmp_path / "m.npz")
    loaded = nnscratch.load(tmp_path / "m.npz")
    for (name, a), (other, b) in zip(model.state_dict().items(), loaded.state_dict().items()):
        assert name == other
        np.testing.assert_array_equal(a, b)


# ----- item 2: damaged checkpoints ---------------------------------------------------------------
def checkpoint(tmp_path, model=None):
    model = model or small_model()
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    path = tmp_path / CHECKPOINT_NAME
    save_checkpoint(path, model=model, optimizer=optimizer, schedule=None, generators=[], progress={"epoch": 1})
    return path


def restore(path, model=None):
    model = model or small_model()
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    return load_checkpoint(path, model=model, optimizer=optimizer, schedule=None, generators=[])


def checkpoint_refused(path, *fragments, model=None):
    with pytest.raises(ModelFileError) as caught:
        restore(path, model)
    message = str(caught.value)
    assert str(path) in message and "\n" not in message and "[Errno" not in message
    for fragment in fragments:
        assert fragment in message, message


def test_a_truncated_checkpoint_names_the_file_and_what_to_do(tmp_path):
    path = checkpoint(tmp_path)
    path.write_bytes(path.read_bytes()[:200])
    checkpoint_refused(path, "is not an nnscratch checkpoint", "truncated", "give an intact file")


def test_a_checkpoint_that_is_not_a_zip_names_the_file(tmp_path):
    path = tmp_path / CHECKPOINT_NAME
    path.write_bytes(b"\x00\x01\x02 garbage from a bad disk")
    checkpoint_refused(path, "is not an nnscratch checkpoint", "not a zip archive")


def test_a_checkpoint_missing_members_names_them(tmp_path):
    path = checkpoint(tmp_path)
    header, arrays = read_container(path, "nnscratch-checkpoint", "checkpoint")
    del arrays["model/0.weight"]
    write_container(path, header, arrays)
    checkpoint_refused(path, "parameter '0.weight' is missing", "start afresh")


def test_a_checkpoint_of_another_model_names_both_shapes(tmp_path):
    path = checkpoint(tmp_path)
    other = nn.Sequential(nn.Linear(4, 5, rng=0), nn.ReLU(), nn.Linear(5, 2, rng=1))
    checkpoint_refused(path, "'0.weight' has shape (4, 3) in the file, (4, 5) in the model", model=other)


def test_a_checkpoint_whose_header_lost_a_key_names_it(tmp_path):
    path = checkpoint(tmp_path)
    header, arrays = read_container(path, "nnscratch-checkpoint", "checkpoint")
    del header["progress"]
    write_container(path, header, arrays)
    checkpoint_refused(path, "its header lacks progress")


def test_a_checkpoint_with_corrupt_optimiser_state_leaves_the_model_untouched(tmp_path):
    path = checkpoint(tmp_path)
    header, arrays = read_container(path, "nnscratch-checkpoint", "checkpoint")
    arrays["optim/0/velocity"] = np.ones((7, 7), np.float32)
    write_container(path, header, arrays)
    model = small_model()
    before = model.state_dict()
    checkpoint_refused(path, "does not fit this run's optimiser", model=model)
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


def test_absurdly_nested_or_recursive_headers_are_refused_in_one_line(tmp_path):
    arch = {"type": "Identity"}
    for _ in range(60):
        arch = {"type": "Sequential", "layers": [arch]}
    path = tmp_path / "deep.npz"
    write_container(path, {"format": MODEL_FORMAT, "version": 1, "architecture": arch, "preprocess": None,
                           "meta": {}}, {})
    refused(path, "nested more than 50 deep")
    np.savez(path, header=np.array("[" * 100_000 + "]" * 100_000))
    refused(path, "its header is not valid JSON")


# ----- silent wrong results: non-finite weights or fitted statistics -------------------------------
def test_a_nan_weight_is_refused_naming_the_array(tmp_path):
    def poison(header, arrays):
        arrays["param/2.weight"] = arrays["param/2.weight"].copy()
        arrays["param/2.weight"][1, 0] = np.nan
    refused(rewritten(saved(tmp_path), tmp_path / "m.npz", poison), "'param/2.weight' hold NaN or infinite values")


def test_an_infinite_fitted_statistic_is_refused_naming_the_array(tmp_path):
    from nnscratch.data.preprocess import Standardize

    path = tmp_path / "pre.npz"
    X = np.random.default_rng(0).normal(size=(20, 4))
    nnscratch.save(small_model(), path, preprocess=Standardize(per="feature").fit(X))
    assert np.isfinite(nnscratch.load(path)(np.zeros((1, 4))).data).all()

    def poison(header, arrays):
        arrays["preprocess/std_"] = np.array([1.0, np.inf, 1.0, 1.0])
    refused(rewritten(path, tmp_path / "m.npz", poison), "'preprocess/std_' hold NaN or infinite values")


# A fitted statistic of the wrong shape that still broadcasts used to load and predict on the wrong numbers.
@pytest.mark.parametrize("make, name, bad, message", [
    (lambda P: P.Standardize(per="feature"), "mean_", np.zeros(1), "Standardize.mean_ has shape (1,), but samples "
                                                                   "of shape (4,) need (4,)"),
    (lambda P: P.ZeroCenter(per="channel"), "mean_", np.zeros(4), "ZeroCenter.mean_ has shape (4,), but samples "
                                                                  "of shape (4,) need ()"),
    (lambda P: P.PCA(n_components=2), "mean_", np.zeros((1, 4)), "PCA.mean_ has shape (1, 4), but samples of "
                                                                  "shape (4,) need (4,)"),
    (lambda P: P.Scale(), "min_", np.zeros(4), "Scale.min_ has shape (4,), but samples of shape (4,) need ()"),
])
def test_a_fitted_statistic_whose_shape_only_broadcasts_is_refused(tmp_path, make, name, bad, message):
    from nnscratch.data import preprocess

    X = np.random.default_rng(0).normal(size=(20, 4))
    step = make(preprocess).fit(X)
    model = nn.Linear(2, 2, rng=0) if isinstance(step, preprocess.PCA) else small_model()  # PCA gives 2 features
    path = tmp_path / "pre.npz"
    nnscratch.save(model, path, preprocess=step)
    assert nnscratch.load(path).preprocess.transform(X).shape == step.transform(X).shape

    def reshape(header, arrays):
        arrays[f"preprocess/{name}"] = bad
    refused(rewritten(path, tmp_path / "m.npz", reshape), "preprocessing cannot be rebuilt", message)


@pytest.mark.parametrize("layer, message", [
    ({"type": "Softmax", "dim": "x"}, "Softmax at '3' has dim='x' (it takes an integer or null)"),
    ({"type": "LeakyReLU", "negative_slope": [0.1]}, "LeakyReLU at '3' has negative_slope=[0.1] (it takes a number)"),
    ({"type": "Dropout", "p": "half"}, "Dropout at '3' has p='half' (it takes a number)"),
])
def test_a_layer_argument_of_the_wrong_kind_is_refused_at_load_not_at_the_first_forward(tmp_path, layer, message):
    path = rewritten(saved(tmp_path), tmp_path / "odd.npz",
                     lambda header, arrays: header["architecture"]["layers"].append(layer))
    refused(path, message)


def test_a_linear_whose_bias_flag_is_a_string_is_refused(tmp_path):
    path = rewritten(saved(tmp_path), tmp_path / "odd.npz",
                     lambda header, arrays: header["architecture"]["layers"][0].update(bias="no"))
    refused(path, "Linear at '0' has bias='no' (it takes true or false)")


# A fitted statistic of text or complex numbers used to load, then fail or mislead only at predict time.
@pytest.mark.parametrize("make, name, bad, message", [
    (lambda P: P.Standardize(per="channel"), "mean_", np.array("x"), "Standardize.mean_ holds <U1 values, but a "
                                                                     "fitted statistic is real floating-point numbers"),
    (lambda P: P.Standardize(per="feature"), "std_", np.ones(4, np.complex64), "Standardize.std_ holds complex64 "
                                                                                "values"),
    (lambda P: P.ZeroCenter(per="feature"), "mean_", np.zeros(4, bool), "ZeroCenter.mean_ holds bool values"),
])
def test_a_fitted_statistic_that_is_not_real_numbers_is_refused(tmp_path, make, name, bad, message):
    from nnscratch.data import preprocess

    path = tmp_path / "pre.npz"
    nnscratch.save(small_model(), path, preprocess=make(preprocess).fit(np.random.default_rng(1).normal(size=(9, 4))))
    nnscratch.load(path)

    def retype(header, arrays):
        arrays[f"preprocess/{name}"] = bad
    refused(rewritten(path, tmp_path / "m.npz", retype), "preprocessing cannot be rebuilt", message)


@pytest.mark.parametrize("std", [np.zeros(4), np.array([1.0, -2.0, 1.0, 1.0])])
def test_a_standard_deviation_fit_cannot_give_is_refused(tmp_path, std):
    # a zero std_ loaded and predicted on infinities; a negative one flipped a feature's sign
    from nnscratch.data.preprocess import Standardize

    path = tmp_path / "pre.npz"
    nnscratch.save(small_model(), path, preprocess=Standardize().fit(np.random.default_rng(2).normal(size=(9, 4))))

    def damage(header, arrays):
        arrays["preprocess/std_"] = std
    refused(rewritten(path, tmp_path / "m.npz", damage), "preprocessing cannot be rebuilt",
            "Standardize.std_ holds zero or negative values, but fit makes every one positive")
