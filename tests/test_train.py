import json
import os
import signal

import numpy as np
import pytest

import nnscratch
from nnscratch import Tensor, nn, optim
from nnscratch.data import augment
from nnscratch.train import (CHECKPOINT_NAME, EarlyStopping, TrainingInterrupted, evaluate, fit,
                             load_checkpoint, save_checkpoint)


def images(n=300, seed=0):
    """Small 4x5 'images' of three classes, separable by their mean brightness pattern."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    X = rng.standard_normal((n, 4, 5)).astype(np.float32) + y[:, None, None] * 0.8
    return X, y


def make_run(seed=0):
    """A fresh model, optimiser and augmentation, each seeded: the same objects every time."""
    model = nn.Sequential(nn.Flatten(), nn.Linear(20, 16, rng=seed), nn.ReLU(), nn.Dropout(0.1, rng=seed + 1),
                          nn.Linear(16, 3, rng=seed + 2))
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    aug = augment.Compose([augment.HorizontalFlip(rng=seed + 3), augment.RandomCrop((4, 5), padding=1, rng=seed + 4)])
    return model, optimizer, aug


def train(out_dir, epochs=4, resume=False, callbacks=(), **kwargs):
    model, optimizer, aug = make_run()
    history = fit(model, nn.CrossEntropyLoss(), optimizer, images(), val=0.2, epochs=epochs, batch_size=32,
                  schedule="warmup-step", augment=aug, seed=5, out_dir=out_dir, resume=resume,
                  callbacks=callbacks, log_every=3, progress=False, **kwargs)
    return model, history


class InterruptAt:
    """Raise KeyboardInterrupt (like Ctrl-C) after a given step or epoch."""

    def __init__(self, step=None, epoch=None, real_signal=False):
        self.step, self.epoch, self.real_signal = step, epoch, real_signal

    def on_step_end(self, info):
        if info["step"] == self.step:
            if self.real_signal:
                os.kill(os.getpid(), signal.SIGINT)  # the handler turns it into a flag, checked after the step
            else:
                raise KeyboardInterrupt

    def on_epoch_end(self, info):
        if info["epoch"] == self.epoch:
            raise KeyboardInterrupt


class StepCounter:
    def __init__(self):
        self.steps = 0

    def on_step_end(self, info):
        self.steps += 1


def weights(model):
    return [p.data for p in model.parameters()]


def epoch_lines(run_dir):
    lines = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return [{k: v for k, v in line.items() if k != "seconds"} for line in lines]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("whole")
    model, history = train(run_dir)
    return weights(model), history, epoch_lines(run_dir)


@pytest.mark.parametrize("interrupt", [InterruptAt(epoch=2), InterruptAt(step=13), InterruptAt(step=20, real_signal=True)],
                         ids=["at-epoch-end", "mid-epoch", "mid-epoch-sigint"])
def test_resumed_run_ends_with_bitwise_identical_weights(tmp_path, uninterrupted, interrupt):
    whole_weights, whole_history, whole_lines = uninterrupted
    before, after = StepCounter(), StepCounter()
    with pytest.raises(TrainingInterrupted, match="resume=True"):
        train(tmp_path, callbacks=[before, interrupt])
    model, history = train(tmp_path, resume=True, callbacks=[after])
    assert 0 < before.steps < 32 and before.steps + after.steps == 32  # it continued, it did not start over
    for got, expected in zip(weights(model), whole_weights):
        np.testing.assert_array_equal(got, expected)
    assert history.val_loss == whole_history.val_loss and history.train_loss == whole_history.train_loss
    assert epoch_lines(tmp_path) == whole_lines  # metrics.jsonl has no repeated or missing lines


def test_history_and_metrics_file(uninterrupted, tmp_path):
    _, history, lines = uninterrupted
    assert len(history) == 4 and history.epoch == [1, 2, 3, 4]
    assert history.val_accuracy[-1] > 0.6 and history.train_loss[-1] < history.train_loss[0]
    epochs = [line for line in lines if line["type"] == "epoch"]
    steps = [line for line in lines if line["type"] == "step"]
    assert [e["epoch"] for e in epochs] == [1, 2, 3, 4]
    assert [s["step"] for s in steps] == list(range(3, 4 * 8 + 1, 3))  # 240 samples / 32 = 8 batches an epoch


def test_resume_without_a_checkpoint_is_explained(tmp_path):
    with pytest.raises(FileNotFoundError, match="no checkpoint to resume from"):
        train(tmp_path, resume=True)


def test_resume_with_changed_settings_is_refused(tmp_path):
    with pytest.raises(TrainingInterrupted):
        train(tmp_path, callbacks=[InterruptAt(step=3)])
    model, optimizer, aug = make_run()
    with pytest.raises(ValueError, match="batch_size 32 -> 64"):
        fit(model, nn.CrossEntropyLoss(), optimizer, images(), val=0.2, epochs=4, batch_size=64, augment=aug,
            schedule="warmup-step", seed=5, out_dir=tmp_path, resume=True, progress=False)


def test_a_non_finite_loss_stops_with_epoch_step_lr_and_keeps_the_last_good_checkpoint(tmp_path):
    class ExplodeAfterFirstEpoch:
        def __init__(self, optimizer):
            self.optimizer = optimizer

        def on_epoch_end(self, info):
            self.optimizer.lr = 1e30

    model, optimizer, _ = make_run()
    with pytest.raises(FloatingPointError, match=r"(loss became (nan|inf)|the parameters left the finite range.*) at "
                                                 r"epoch 2, step 1 \(lr=1e\+30\)\. Lower the learning rate"):
        with np.errstate(all="ignore"):
            fit(model, nn.CrossEntropyLoss(), optimizer, images(), epochs=3, batch_size=32, seed=0,
                out_dir=tmp_path, callbacks=[ExplodeAfterFirstEpoch(optimizer)], progress=False)
    fresh, fresh_optimizer, _ = make_run()
    progress, _ = load_checkpoint(tmp_path / CHECKPOINT_NAME, model=fresh, optimizer=fresh_optimizer,
                                  schedule=None, generators=[fresh[3].rng])
    assert progress["position"]["epoch"] == 1 and progress["position"]["batches_done"] == 0
    assert all(np.isfinite(p.data).all() for p in fresh.parameters())


def test_a_checkpoint_write_killed_half_way_leaves_the_previous_one_loadable(tmp_path, monkeypatch):
    model, optimizer, _ = make_run()
    path = tmp_path / CHECKPOINT_NAME
    save_checkpoint(path, model=model, optimizer=optimizer, schedule=None, generators=[], progress={"n": 1})
    for p in model.parameters():
        p.data += 1

    def dies_half_way(file, **arrays):
        file.write(b"PK\x03\x04 half a zip")
        raise KeyboardInterrupt  # the process is killed mid-write

    monkeypatch.setattr(np, "savez", dies_half_way)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(path, model=model, optimizer=optimizer, schedule=None, generators=[], progress={"n": 2})
    monkeypatch.undo()
    restored, restored_optimizer, _ = make_run()
    progress, _ = load_checkpoint(path, model=restored, optimizer=restored_optimizer, schedule=None, generators=[])
    assert progress == {"n": 1}
    assert [f.name for f in tmp_path.iterdir()] == [CHECKPOINT_NAME]  # no half-written temporary left


def test_early_stopping_stops_and_restores_the_best_weights():
    X, y = images(seed=1)
    X_val, y_val = images(n=100, seed=2)
    y_val = (y_val + 1) % 3  # validation labels that disagree with training: val loss rises as it learns
    model, optimizer, _ = make_run()
    history = fit(model, nn.CrossEntropyLoss(), optimizer, (X, y), val=(X_val, y_val), epochs=20, batch_size=32,
                  early_stopping=EarlyStopping(patience=2), progress=False)
    assert history.stopped_early and len(history) < 20
    best = history.best_epoch
    assert history.val_loss[best - 1] == min(history.val_loss)
    assert evaluate(model, X_val, y_val).loss == pytest.approx(history.val_loss[best - 1], rel=1e-6)


def test_early_stopping_needs_validation_data():
    model, optimizer, _ = make_run()
    with pytest.raises(ValueError, match="early_stopping needs validation data"):
        fit(model, nn.CrossEntropyLoss(), optimizer, images(), epochs=2, early_stopping=3)


def test_evaluate_hand_computed():
    logits = np.array([[2.0, 1.0, 0.0], [0.0, 3.0, 1.0], [1.0, 0.0, 0.0], [0.0, 0.0, 5.0]])
    y = np.array([0, 1, 1, 2])
    result = evaluate(nn.Identity(), logits, y)
    assert result.accuracy == 0.75
    np.testing.assert_array_equal(result.confusion_matrix, [[1, 0, 0], [1, 1, 0], [0, 0, 1]])
    np.testing.assert_array_equal(result.per_class_accuracy, [1.0, 0.5, 1.0])
    z = logits - logits.max(axis=1, keepdims=True)
    expected_loss = np.mean(np.log(np.exp(z).sum(axis=1)) - z[np.arange(4), y])
    assert result.loss == pytest.approx(expected_loss, rel=1e-12)
    np.testing.assert_allclose(result.probabilities.sum(axis=1), 1)


# ----- saving models -------------------------------------------------------------------------------
def test_save_and_load_round_trip_with_preprocessing(tmp_path):
    from nnscratch.data import preprocess

    model = nn.Sequential(nn.Flatten(), nn.Linear(20, 8, rng=0), nn.LeakyReLU(0.2), nn.Maxout(8, 4, pieces=3, rng=1),
                          nn.ELU(0.5), nn.Dropout(0.3), nn.Linear(4, 3, rng=2), nn.LogSoftmax())
    X, _ = images()
    scaler = preprocess.Standardize().fit(X)
    nnscratch.save(model, tmp_path / "model.npz", preprocess=scaler, meta={"classes": ["a", "b", "c"]})
    loaded = nnscratch.load(tmp_path / "model.npz")
    assert repr(loaded) == repr(model)
    model.eval()
    loaded.eval()
    np.testing.assert_array_equal(loaded(Tensor(X)).data, model(Tensor(X)).data)
    np.testing.assert_array_equal(loaded.preprocess.transform(X), scaler.transform(X))
    assert loaded.meta == {"classes": ["a", "b", "c"]}


def test_loading_a_file_that_is_not_ours_truncated_or_newer_is_explained(tmp_path):
    np.savez(tmp_path / "other.npz", weights=np.ones(3))
    with pytest.raises(ValueError, match="an .npz file but not an nnscratch model file"):
        nnscratch.load(tmp_path / "other.npz")
    model = nn.Sequential(nn.Linear(3, 2, rng=0))
    nnscratch.save(model, tmp_path / "m.npz")
    data = (tmp_path / "m.npz").read_bytes()
    (tmp_path / "cut.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="truncated, corrupt"):
        nnscratch.load(tmp_path / "cut.npz")
    from nnscratch.serialize import MODEL_FORMAT, write_container

    write_container(tmp_path / "new.npz", {"format": MODEL_FORMAT, "version": 99}, {})
    with pytest.raises(ValueError, match="newer nnscratch.*version 99"):
        nnscratch.load(tmp_path / "new.npz")
    with pytest.raises(FileNotFoundError, match="no model file at"):
        nnscratch.load(tmp_path / "missing.npz")


def test_saving_a_custom_module_says_what_to_do_instead(tmp_path):
    class Mine(nn.Module):
        def forward(self, x):
            return x

    with pytest.raises(TypeError, match="state_dict"):
        nnscratch.save(nn.Sequential(nn.Linear(2, 2), Mine()), tmp_path / "m.npz")
