import gzip
import io
import os
import shutil
import tarfile
from pathlib import Path

import numpy as np
import pytest

from nnscratch import data
from nnscratch.data import registry
from nnscratch.data.datasets import _mnist1d_arrays
from nnscratch.data.files import DigestMismatchError, DownloadError
from nnscratch.data.parsers import read_cifar10_binary, read_idx, write_idx

from data_helpers import serve, sha256, with_files

DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")


@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch):
    """Every test gets its own empty cache and no $NNSCRATCH_DATA / $NNSCRATCH_MIRROR."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("NNSCRATCH_DATA", raising=False)
    monkeypatch.delenv("NNSCRATCH_MIRROR", raising=False)
    return tmp_path / "home"


def needs_debian_fashion():
    if not DEBIAN_FASHION.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"{DEBIAN_FASHION} is missing: .ci/run must `apt-get install dataset-fashion-mnist`")
        pytest.skip("apt-get install dataset-fashion-mnist to run this test")


# ----- the real Fashion-MNIST from Debian's package ---------------------------------------------
def test_fashion_mnist_loads_from_the_debian_location(isolated_home):
    needs_debian_fashion()
    X, y = data.load("fashion-mnist")
    assert X.shape == (60000, 28, 28) and X.dtype == np.uint8
    assert y.dtype == np.int64 and y[0] == 9
    np.testing.assert_array_equal(np.bincount(y), [6000] * 10)
    X_test, y_test = data.load("fashion-mnist", split="test")
    assert X_test.shape == (10000, 28, 28) and y_test.shape == (10000,)
    # the second load comes from the parsed-array cache in the user's cache folder, never /usr/share
    cached = list((isolated_home / ".cache" / "nnscratch" / "parsed").glob("fashion-mnist-train-*.npy"))
    assert len(cached) == 2
    X2, y2 = data.load("fashion-mnist")
    np.testing.assert_array_equal(X2, X)
    np.testing.assert_array_equal(y2, y)


def test_uncompressed_idx_files_are_verified_and_loaded(tmp_path):
    needs_debian_fashion()
    for name in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        with gzip.open(DEBIAN_FASHION / f"{name}.gz") as src, open(tmp_path / name, "wb") as dst:
            shutil.copyfileobj(src, dst)
    X, y = data.load("fashion-mnist", "test", root=tmp_path)
    assert X.shape == (10000, 28, 28) and y[0] == 9


def test_a_corrupted_file_is_refused_naming_file_and_both_digests(tmp_path):
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(b"not the real file")
    with pytest.raises(DigestMismatchError) as failure:
        data.load("fashion-mnist", root=tmp_path)
    message = str(failure.value)
    assert "train-images-idx3-ubyte.gz" in message
    assert "sha256:08dc20ab" in message  # what was expected
    assert "sha256:" + __import__("hashlib").sha256(b"not the real file").hexdigest() in message
    assert "download" in message


def test_missing_files_list_every_place_and_both_remedies(monkeypatch, tmp_path):
    monkeypatch.setitem(data.DATASETS, "fashion-mnist",
                        __import__("dataclasses").replace(registry.DATASETS["fashion-mnist"],
                                                          system_dirs=(str(tmp_path / "sys"),)))
    with pytest.raises(FileNotFoundError) as failure:
        data.load("fashion-mnist")
    message = str(failure.value)
    assert "$NNSCRATCH_DATA (unset)" in message and ".cache/nnscratch/fashion-mnist" in message
    assert str(tmp_path / "sys") in message
    assert "download=True" in message and "apt-get install dataset-fashion-mnist" in message
    # in Python terms: the call that downloads, not a hint about the command line
    assert "To get it, run with download=True or " in message and "nnscratch train" not in message


def test_nnscratch_data_is_searched_first(monkeypatch, tmp_path):
    monkeypatch.setenv("NNSCRATCH_DATA", str(tmp_path / "mine"))
    with pytest.raises(FileNotFoundError, match=str(tmp_path / "mine" / "mnist")):
        data.load("mnist")


def test_unknown_names_and_splits_are_explained():
    with pytest.raises(ValueError, match="unknown dataset 'fashion'.*fashion-mnist, mnist, cifar10, mnist1d"):
        data.load("fashion")
    with pytest.raises(ValueError, match="split='validation'.*'train' or 'test'"):
        data.load("mnist", split="validation")


def test_info_gives_classes_shapes_license_and_source():
    fashion = data.info("fashion-mnist")
    assert fashion.classes[9] == "Ankle boot" and fashion.sample_shape == (28, 28)
    assert fashion.license == "MIT" and "zalandoresearch" in fashion.source
    assert data.info("cifar10").sample_shape == (32, 32, 3) and data.info("cifar10").train_size == 50_000
    assert data.info("mnist1d").train_size == 4000


# ----- IDX ------------------------------------------------------------------------------------
def test_idx_round_trip_gz_and_raw(tmp_path):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    write_idx(tmp_path / "a.gz", images)
    write_idx(tmp_path / "b", np.array([-7, 300], dtype=np.int32))
    np.testing.assert_array_equal(read_idx(tmp_path / "a.gz"), images)
    np.testing.assert_array_equal(read_idx(tmp_path / "b"), [-7, 300])


def test_an_idx_header_that_disagrees_with_the_size_is_an_error(tmp_path):
    write_idx(tmp_path / "x", np.zeros((5, 2, 2), np.uint8))
    (tmp_path / "x").write_bytes((tmp_path / "x").read_bytes()[:-3])
    with pytest.raises(ValueError, match=r"header says shape \(5, 2, 2\) \(20 bytes of data\) but the file holds 17"):
        read_idx(tmp_path / "x")
    (tmp_path / "y").write_bytes(b"\x1f\x8b\x08\x00junk")
    with pytest.raises(ValueError, match="is not an IDX file"):
        read_idx(tmp_path / "y")


# ----- downloads from 127.0.0.1 ----------------------------------------------------------------
@pytest.fixture
def tiny_mnist(tmp_path, monkeypatch):
    """A four-image 'mnist' whose files the tests serve; the registry pins their digests."""
    served = tmp_path / "served"
    served.mkdir()
    rng = np.random.default_rng(0)
    write_idx(served / "train-images-idx3-ubyte.gz", rng.integers(0, 256, (4, 28, 28), dtype=np.uint8))
    write_idx(served / "train-labels-idx1-ubyte.gz", np.array([3, 1, 4, 1], np.uint8))
    entry = with_files(registry.DATASETS["mnist"], {"train": [served / "train-images-idx3-ubyte.gz",
                                                             served / "train-labels-idx1-ubyte.gz"]})
    monkeypatch.setitem(data.DATASETS, "mnist", entry)
    return served


def test_a_good_download_lands_verified_in_root(tiny_mnist, tmp_path, monkeypatch):
    root = tmp_path / "root"
    with serve(tiny_mnist) as url:
        monkeypatch.setenv("NNSCRATCH_MIRROR", url)
        X, y = data.load("mnist", root=root, download=True, progress=False)
    np.testing.assert_array_equal(y, [3, 1, 4, 1])
    assert X.shape == (4, 28, 28)
    assert sorted(p.name for p in root.iterdir()) == ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"]
    assert sha256(root / "train-images-idx3-ubyte.gz") == sha256(tiny_mnist / "train-images-idx3-ubyte.gz")


def test_without_download_nothing_is_fetched(tiny_mnist, monkeypatch):
    with serve(tiny_mnist) as url:
        monkeypatch.setenv("NNSCRATCH_MIRROR", url)
        with pytest.raises(FileNotFoundError):
            data.load("mnist")


def test_downloads_go_to_the_cache_folder_by_default(tiny_mnist, isolated_home, monkeypatch):
    with serve(tiny_mnist) as url:
        monkeypatch.setenv("NNSCRATCH_MIRROR", url)
        data.load("mnist", download=True, progress=False)
    assert (isolated_home / ".cache" / "nnscratch" / "mnist" / "train-labels-idx1-ubyte.gz").is_file()


def test_a_corrupted_download_raises_and_leaves_nothing(tiny_mnist, tmp_path, monkeypatch):
    (tiny_mnist / "train-images-idx3-ubyte.gz").write_bytes(b"tampered")
    root = tmp_path / "root"
    with serve(tiny_mnist) as url:
        monkeypatch.setenv("NNSCRATCH_MIRROR", url)
        with pytest.raises(DigestMismatchError, match="train-images-idx3-ubyte.gz failed verification"):
            data.load("mnist", root=root, download=True, progress=False)
    assert list(root.iterdir()) == []  # no final file, no temporary left behind


def test_a_truncated_download_raises_and_leaves_nothing(tiny_mnist, tmp_path, monkeypatch):
    root = tmp_path / "root"
    with serve(tiny_mnist) as url:
        monkeypatch.setenv("NNSCRATCH_MIRROR", url + "/truncated")
        with pytest.raises(DownloadError, match="train-images-idx3-ubyte.gz"):
            data.load("mnist", root=root, download=True, progress=False)
    assert list(root.iterdir()) == []


def test_mirrors_are_tried_in_order(tiny_mnist, tmp_path, monkeypatch):
    with serve(tiny_mnist) as url:
        entry = data.DATASETS["mnist"]
        broken = url + "/no-such-folder/"
        monkeypatch.setitem(data.DATASETS, "mnist", __import__("dataclasses").replace(entry, mirrors=(broken, url)))
        X, _ = data.load("mnist", root=tmp_path / "root", download=True, progress=False)
    assert len(X) == 4


def test_real_fashion_labels_download_through_a_local_mirror(tmp_path, monkeypatch):
    needs_debian_fashion()
    with serve(DEBIAN_FASHION) as url:
        monkeypatch.setenv("NNSCRATCH_MIRROR", url)
        X, y = data.load("fashion-mnist", "test", root=tmp_path / "fm", download=True, progress=False)
    assert X.shape == (10000, 28, 28) and np.bincount(y).tolist() == [1000] * 10


# ----- CIFAR-10 binary --------------------------------------------------------------------------
def cifar_archive(path, per_batch=3, skip=()):
    """A cifar-10-binary.tar.gz in the real layout: records of 1 label byte + R, G, B planes."""
    rng = np.random.default_rng(1)
    members = {f"cifar-10-batches-bin/data_batch_{i}.bin": per_batch for i in range(1, 6)}
    members["cifar-10-batches-bin/test_batch.bin"] = 2
    truth = {}
    with tarfile.open(path, "w:gz") as tar:
        for name, n in members.items():
            images = rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)
            labels = rng.integers(0, 10, n, dtype=np.uint8)
            truth[name] = (images, labels)
            if name.rsplit("/", 1)[1] in skip:
                continue
            planes = images.transpose(0, 3, 1, 2).reshape(n, -1)
            raw = np.concatenate([labels[:, None], planes], axis=1).tobytes()
            info = tarfile.TarInfo(name)
            info.size = len(raw)
            tar.addfile(info, io.BytesIO(raw))
    return truth


def test_cifar10_binary_parser_reads_channels_last(tmp_path):
    archive = tmp_path / "cifar-10-binary.tar.gz"
    truth = cifar_archive(archive)
    X, y = read_cifar10_binary(archive, registry.CIFAR10_MEMBERS["train"])
    assert X.shape == (15, 32, 32, 3) and X.dtype == np.uint8 and y.dtype == np.int64
    expected = np.concatenate([truth[m][0] for m in registry.CIFAR10_MEMBERS["train"]])
    np.testing.assert_array_equal(X, expected)
    assert y[:3].tolist() == truth["cifar-10-batches-bin/data_batch_1.bin"][1].tolist()


def test_cifar10_loads_through_the_registry(tmp_path, monkeypatch):
    archive = tmp_path / "cifar-10-binary.tar.gz"
    cifar_archive(archive)
    entry = with_files(registry.DATASETS["cifar10"], {"train": [archive], "test": [archive]})
    monkeypatch.setitem(data.DATASETS, "cifar10", entry)
    X, y = data.load("cifar10", "test", root=tmp_path)
    assert X.shape == (2, 32, 32, 3)


def test_a_cifar_archive_missing_a_batch_is_an_error(tmp_path):
    archive = tmp_path / "cifar-10-binary.tar.gz"
    cifar_archive(archive, skip=("data_batch_3.bin",))
    with pytest.raises(ValueError, match="lacks cifar-10-batches-bin/data_batch_3.bin.*incomplete"):
        read_cifar10_binary(archive, registry.CIFAR10_MEMBERS["train"])


# ----- MNIST-1D ---------------------------------------------------------------------------------
def test_mnist1d_is_generated_offline_without_touching_global_random_state():
    pytest.importorskip("mnist1d")
    import random

    np.random.seed(123)
    random.seed(7)
    numpy_before, python_before = np.random.random(), random.random()
    np.random.seed(123)
    random.seed(7)
    _mnist1d_arrays.cache_clear()
    X, y = data.load("mnist1d")
    assert (np.random.random(), random.random()) == (numpy_before, python_before)
    X_test, y_test = data.load("mnist1d", "test")
    assert X.shape == (4000, 40) and X_test.shape == (1000, 40)
    assert X.dtype == np.float32 and y.dtype == np.int64 and set(np.unique(y)) == set(range(10))
    _mnist1d_arrays.cache_clear()
    np.testing.assert_array_equal(data.load("mnist1d")[0], X)  # the same published seed, the same data
