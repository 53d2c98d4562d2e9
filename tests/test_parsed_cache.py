"""The parsed-data cache is used only when its own SHA-256 proves it unchanged (issue 13, item 5)."""

import warnings

import numpy as np
import pytest

from nnscratch import data
from nnscratch.data import registry
from nnscratch.data.datasets import CacheRebuiltWarning, digest_path
from nnscratch.data.parsers import write_idx

from data_helpers import with_files

N = 3000


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    """A 3,000-image 'mnist' in a folder of its own (pinned by the test), and an empty home cache."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("NNSCRATCH_DATA", raising=False)
    root = tmp_path / "files"
    root.mkdir()
    rng = np.random.default_rng(0)
    images, labels = rng.integers(0, 256, (N, 28, 28), dtype=np.uint8), rng.integers(0, 10, N).astype(np.uint8)
    write_idx(root / "train-images-idx3-ubyte.gz", images)
    write_idx(root / "train-labels-idx1-ubyte.gz", labels)
    entry = with_files(registry.DATASETS["mnist"], {"train": [root / "train-images-idx3-ubyte.gz",
                                                             root / "train-labels-idx1-ubyte.gz"]})
    monkeypatch.setitem(data.DATASETS, "mnist", entry)
    return root, images, labels.astype(np.int64), tmp_path / "home" / ".cache" / "nnscratch" / "parsed"


def _load_quietly(root):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning fails the test
        return data.load("mnist", root=root)


def _cache(folder, part):
    (path,) = folder.glob(f"mnist-train-*-{part}.npy")
    return path


def _tamper(path, change):
    array = np.load(path)
    change(array)
    np.save(path, array)  # as another program would: the recorded digest is left as it was


def test_changed_labels_in_the_cache_are_not_used_the_true_labels_come_back_with_a_warning(tiny):
    # the issue: 2,000 labels changed inside the .npy made `evaluate` report 0.69 for a run of 0.86, no word
    root, images, labels, folder = tiny
    _load_quietly(root)  # builds the cache, with no warning
    _tamper(_cache(folder, "labels"), lambda y: y.__setitem__(slice(0, 2000), (y[:2000] + 1) % 10))
    with pytest.warns(CacheRebuiltWarning, match=r"labels\.npy does not match the SHA-256 recorded .* rebuilding"):
        X, y = data.load("mnist", root=root)
    np.testing.assert_array_equal(y, labels)
    np.testing.assert_array_equal(X, images)
    X, y = _load_quietly(root)  # rebuilt: trusted again
    np.testing.assert_array_equal(y, labels)


def test_one_changed_pixel_in_the_images_cache_is_caught_too(tiny):
    root, images, labels, folder = tiny
    _load_quietly(root)
    _tamper(_cache(folder, "images"), lambda X: X.__setitem__((17, 3, 4), X[17, 3, 4] ^ 1))
    with pytest.warns(CacheRebuiltWarning, match=r"images\.npy does not match"):
        X, _ = data.load("mnist", root=root)
    np.testing.assert_array_equal(X, images)


@pytest.mark.parametrize("record", [None, "not a digest\n", "0" * 64 + "\n"],
                         ids=["missing", "garbled", "wrong"])
def test_a_cache_with_a_missing_garbled_or_wrong_digest_record_is_rebuilt(tiny, record):
    root, images, labels, folder = tiny
    _load_quietly(root)
    sidecar = digest_path(_cache(folder, "labels"))
    if record is None:
        sidecar.unlink()
    else:
        sidecar.write_text(record)
    with pytest.warns(CacheRebuiltWarning, match="rebuilding it from the verified dataset files"):
        _, y = data.load("mnist", root=root)
    np.testing.assert_array_equal(y, labels)
    _load_quietly(root)


def test_a_truncated_cache_file_is_rebuilt(tiny):
    root, images, labels, folder = tiny
    _load_quietly(root)
    path = _cache(folder, "images")
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.warns(CacheRebuiltWarning):
        X, _ = data.load("mnist", root=root)
    np.testing.assert_array_equal(X, images)


def test_the_cache_holds_one_digest_per_array_and_loaded_arrays_are_writable(tiny):
    root, images, labels, folder = tiny
    _load_quietly(root)
    assert sorted(p.name.split("-")[-1] for p in folder.iterdir()) == [
        "images.npy", "images.npy.sha256", "labels.npy", "labels.npy.sha256"]
    X, _ = _load_quietly(root)  # from the cache
    X[0, 0, 0] = 7  # a user may change their copy; the cache is untouched
    np.testing.assert_array_equal(_load_quietly(root)[0], images)


def test_the_warning_points_at_the_line_that_called_data_load(tiny):
    root, _, _, folder = tiny
    _load_quietly(root)
    digest_path(_cache(folder, "images")).unlink()
    with pytest.warns(CacheRebuiltWarning) as caught:
        data.load("mnist", root=root)
    assert caught[0].filename == __file__
