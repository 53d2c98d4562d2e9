"""fit refuses degenerate data and stops, naming the cause, when training leaves the finite range."""

import errno

import numpy as np
import pytest

from nnscratch import Tensor, nn, optim
from nnscratch.atomic import DiskFullError
from nnscratch.data.loader import DataLoader
from nnscratch.train import CHECKPOINT_NAME, fit


def blobs(n=300, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    return rng.standard_normal((n, 20)).astype(np.float32) + y[:, None] * 0.8, y


def small_model():
    return nn.Sequential(nn.Linear(20, 16, rng=0), nn.ReLU(), nn.Linear(16, 3, rng=1))


def run(X, y, model=None, lr=0.1, **kwargs):
    model = model or small_model()
    kwargs = {"epochs": 1, "batch_size": 32, "seed": 3, "progress": False, **kwargs}
    return fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=lr, momentum=0.9), (X, y), **kwargs)


@pytest.mark.parametrize("n", [0])
def test_empty_training_data_is_refused_up_front_naming_the_argument(n):
    X, y = blobs()
    with pytest.raises(ValueError, match=r"fit: train=\(X, y\) has no samples"):
        run(X[:n], y[:n])


def test_x_and_y_of_different_lengths_are_refused_naming_both_counts():
    X, y = blobs()
    with pytest.raises(ValueError, match="300 samples in X but 299 labels in y"):
        run(X, y[:-1])


def test_a_nan_pixel_in_sample_17_is_blamed_on_the_data_naming_the_sample():
    X, y = blobs()
    X[17, 3] = np.nan
    with pytest.raises(ValueError, match="train X holds nan in sample 17: the data, not the training"):
        run(X, y)


def test_an_inf_in_the_validation_data_is_named_too():
    X, y = blobs()
    X_val, y_val = blobs(50, seed=1)
    X_val[41, 0] = -np.inf
    with pytest.raises(ValueError, match="val X holds -inf in sample 41"):
        run(X, y, val=(X_val, y_val))


def huge_sample_on_the_last_step(sign=1.0):
    """One sample of magnitude 1e36, placed in the last batch, labelled against the model's guess
    (so its gradient is not zero)."""
    X, y = blobs()
    k = int(DataLoader(X, y, batch_size=32, seed=3).order(0)[-1])
    X[k] = sign * 1e36
    y[k] = int(small_model()(Tensor(X[k:k + 1])).data.argmin())
    return X, y, k


@pytest.mark.parametrize("sign", [1.0, -1.0], ids=["1e36", "-1e36"])
def test_a_huge_sample_on_the_last_step_stops_training_naming_step_and_sample(sign, tmp_path):
    X, y, k = huge_sample_on_the_last_step(sign)
    model = small_model()
    with pytest.raises(ValueError, match=rf"at epoch 1, step 10: training sample {k} has a value of magnitude "
                                         rf"1e\+36; the data is the cause") as error:
        run(X, y, model=model, out_dir=tmp_path)
    assert "no checkpoint was written yet" in str(error.value) and "checkpoint is kept" not in str(error.value)
    assert not (tmp_path / CHECKPOINT_NAME).exists()


def test_parameters_blown_up_by_the_learning_rate_name_the_step_and_the_kept_checkpoint(tmp_path):
    X, y = blobs()
    model = small_model()
    optimizer = optim.SGD(model.parameters(), lr=0.1)

    class RaiseTheRate:
        def on_epoch_end(self, info):
            optimizer.lr = 1e30  # the next step's loss is still finite; the weights it leaves are not

    with pytest.raises(FloatingPointError, match=r"^the parameters left the finite range.* at epoch 2, step 1 "
                                                 r"\(lr=1e\+30\)\. Lower the learning rate.*the last good checkpoint "
                                                 r"is kept"):
        with np.errstate(all="ignore"):
            fit(model, nn.CrossEntropyLoss(), optimizer, (X, y), epochs=2, batch_size=32, out_dir=tmp_path,
                callbacks=[RaiseTheRate()], progress=False)


def test_without_out_dir_no_checkpoint_is_claimed():
    X, y = blobs()
    with pytest.raises(FloatingPointError) as error:
        with np.errstate(all="ignore"):
            run(X, y, lr=1e35)
    assert "checkpoint" not in str(error.value)


def test_rng_is_the_same_argument_as_seed():
    X, y = blobs()
    by_seed, by_rng, by_generator = small_model(), small_model(), small_model()
    run(X, y, model=by_seed, seed=7, epochs=2)
    run(X, y, model=by_rng, seed=0, rng=7, epochs=2)
    run(X, y, model=by_generator, seed=0, rng=np.random.default_rng(7), epochs=2)
    for a, b in zip(by_seed.parameters(), by_rng.parameters()):
        np.testing.assert_array_equal(a.data, b.data)
    assert any(not np.array_equal(a.data, c.data) for a, c in zip(by_seed.parameters(), by_generator.parameters()))


def test_a_full_disk_names_the_file_the_folder_and_the_checkpoint_still_there(tmp_path, monkeypatch):
    X, y = blobs()
    real_savez, calls = np.savez, []

    def savez(file, **arrays):
        calls.append(file.name)
        if len(calls) == 2:  # the second epoch's checkpoint finds the disk full
            raise OSError(errno.ENOSPC, "No space left on device")
        real_savez(file, **arrays)

    monkeypatch.setattr(np, "savez", savez)
    with pytest.raises(DiskFullError) as error:
        run(X, y, epochs=3, out_dir=tmp_path)
    message = str(error.value)
    assert f"to write {CHECKPOINT_NAME} in {tmp_path}" in message
    assert f"the last good checkpoint is still there ({tmp_path / CHECKPOINT_NAME})" in message
    assert error.value.errno == errno.ENOSPC and (tmp_path / CHECKPOINT_NAME).is_file()
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []


def test_a_full_disk_at_the_first_checkpoint_says_none_is_kept(tmp_path, monkeypatch):
    X, y = blobs()

    def savez(file, **arrays):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(np, "savez", savez)
    with pytest.raises(DiskFullError, match="no checkpoint of this run was written yet") as error:
        run(X, y, epochs=2, out_dir=tmp_path)
    assert "still there" not in str(error.value)


def test_a_full_disk_while_appending_to_metrics_jsonl_names_it(tmp_path, monkeypatch):
    import nnscratch.train.log

    class FillsUp:
        def __init__(self, file):
            self.file, self.writes = file, 0

        def write(self, data):
            self.writes += 1
            if self.writes == 3:
                raise OSError(errno.ENOSPC, "No space left on device")
            return self.file.write(data)

        def __getattr__(self, name):
            return getattr(self.file, name)

    monkeypatch.setattr(nnscratch.train.log, "open", lambda *a: FillsUp(open(*a)), raising=False)
    X, y = blobs()
    with pytest.raises(DiskFullError, match=f"to write metrics.jsonl in {tmp_path}; free some space there "
                                            f"\\(it may end with a partial line, which a resume cuts off\\)"):
        run(X, y, epochs=3, out_dir=tmp_path, log_every=0)
