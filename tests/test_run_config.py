"""RunConfig is validated once and completely: every field, every bad field reported together,
in Python's names from Python and in the command line's names from `nnscratch train`."""

import ast
import json
from pathlib import Path

import pytest

from nnscratch import runs
from nnscratch.cli import main
from nnscratch.runs import ConfigError, RunConfig

BAD_VALUES = {
    "dataset": "imagenet", "model": "rnn:3", "activation": "swish", "init": "uniform", "dropout": 1.0,
    "optimizer": "lbfgs", "lr": 0.0, "momentum": -0.1, "weight_decay": float("inf"), "label_smoothing": 1.5,
    "schedule": "linear",
    "epochs": 0, "batch_size": 2.5, "preprocess": "pca:x", "features": "sift", "augment": "rotate",
    "val_fraction": 1.0, "early_stopping": -1, "seed": -3,
}


def test_every_field_of_runconfig_has_a_check():
    assert set(BAD_VALUES) == {f for f in RunConfig.__dataclass_fields__}


@pytest.mark.parametrize("field", sorted(BAD_VALUES))
def test_each_bad_field_is_named(field):
    with pytest.raises(ConfigError) as error:
        RunConfig(**{field: BAD_VALUES[field]}).validate()
    assert [p.field for p in error.value.problems] == [field]
    assert str(error.value).startswith(f"{field}: ")


def test_all_bad_fields_are_reported_together_one_message_each():
    with pytest.raises(ConfigError) as error:
        RunConfig(**BAD_VALUES).validate()
    assert [p.field for p in error.value.problems][:len(BAD_VALUES)] == list(RunConfig.__dataclass_fields__)
    assert str(error.value).count("; ") >= len(BAD_VALUES) - 1


def test_a_string_where_a_number_belongs_is_named_not_a_type_error():
    with pytest.raises(ConfigError, match=r"lr: it must be a positive number, got '0.1'"):
        RunConfig.from_dict({"lr": "0.1"}).validate()


def test_braces_in_a_value_are_shown_as_typed(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--model", "mlp:{lr}", "--augment", "{oops}"])
    err = capsys.readouterr().err
    assert "unknown model 'mlp:{lr}'" in err and "unknown augmentation '{oops}'" in err


def test_from_dict_refuses_unknown_settings_naming_them():
    with pytest.raises(ConfigError, match="unknown setting.s. learning_rate"):
        RunConfig.from_dict({"learning_rate": 0.1})


def test_to_dict_and_from_dict_round_trip():
    config = RunConfig(model="linear", lr=0.01, augment="flip")
    assert RunConfig.from_dict(config.to_dict()) == config


def test_build_model_takes_in_features_or_a_sample_shape():
    config = RunConfig(model="mlp:8")
    by_int, by_shape = runs.build_model(config, 784, 10), runs.build_model(config, (28, 28), 10)
    assert [p.shape for p in by_int.parameters()] == [p.shape for p in by_shape.parameters()] == [
        (784, 8), (8,), (8, 10), (10,)]


@pytest.mark.parametrize("argv, needles", [
    (["--early-stopping", "3", "--val-fraction", "0"], ["argument --early-stopping", "--val-fraction is 0"]),
    (["--dropout", "1.5", "--lr", "0", "--batch-size", "0"],
     ["argument --dropout: it must be a number in [0, 1), got 1.5", "argument --lr: it must be a positive number",
      "argument --batch-size"]),
])
def test_bad_option_combinations_are_usage_errors_naming_every_option(argv, needles, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["train", *argv])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "_" not in err.split("error:")[1].split("(see")[0]
    for needle in needles:
        assert needle in err


def test_a_resumed_config_json_with_a_bad_value_fails_before_any_data_is_loaded(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("NNSCRATCH_DATA", str(tmp_path / "no-data"))  # loading data would fail differently
    monkeypatch.setenv("HOME", str(tmp_path))
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(json.dumps({**RunConfig().to_dict(), "lr": -1, "momentum": 3}))
    assert main(["train", "--out", str(run), "--resume", "--offline"]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(run / "config.json") in err
    assert "lr: it must be a positive number, got -1" in err and "momentum:" in err and "not found" not in err


@pytest.mark.parametrize("content", ["{oops", "[1, 2]"])
def test_a_damaged_config_json_is_one_line_naming_the_file(tmp_path, content, capsys):
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(content)
    assert main(["train", "--out", str(run), "--resume", "--offline"]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(run / "config.json") in err and "Traceback" not in err


@pytest.mark.parametrize("content, kind", [("[1, 2]", "an array"), ('"mlp:64"', "a string"), ("3", "a number")])
def test_a_config_json_that_is_not_an_object_blames_the_file_not_a_setting(tmp_path, content, kind, capsys):
    # the message was "argument --model: expected a JSON object": the user had given no --model
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(content)
    assert main(["train", "--out", str(run), "--resume", "--offline"]) == 1
    err = capsys.readouterr().err.strip()
    assert f"expected a JSON object of settings ({{\"model\": ...}}), got {kind}" in err
    assert "--model" not in err and "argument" not in err


def imports_of(module_path):
    tree = ast.parse(Path(module_path).read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            found.add((node.module or "").split(".")[0] or node.names[0].name)
    return found


def test_imports_run_one_way_cli_commands_runs():
    src = Path(runs.__file__).parents[1]
    assert "cli" not in imports_of(src / "commands.py")
    for part in (src / "runs").glob("*.py"):
        assert not {"cli", "commands"} & imports_of(part), part
    assert not {"cli", "commands", "runs"} & imports_of(src / "train" / "loop.py")


@pytest.mark.parametrize("field, value", [("features", "bow:1"), ("features", "hog,bow:0"), ("preprocess", "pca:0")])
def test_a_setting_the_library_would_refuse_at_fit_is_refused_before_any_data_loads(field, value):
    # the transformers check their parameters at fit (scikit-learn's rule), so the config must check them first
    with pytest.raises(ConfigError) as error:
        RunConfig(**{field: value}).validate()
    assert [p.field for p in error.value.problems] == [field]


@pytest.mark.parametrize("features", ["hog", "hog:4", "color", "bow:2", "bow:256", "hog,bow:8", "pixels"])
def test_every_feature_spec_the_config_accepts_builds_valid_extractors(features):
    RunConfig(features=features, preprocess="none").validate()
    for extractor in runs.make_features(features, seed=0).extractors:
        extractor.validate_params()
