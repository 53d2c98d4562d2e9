"""A training run as a folder: `RunConfig` (built and validated once), the one model factory
(`build_model`), and `train_run`, the job behind `nnscratch train`, sweeps and comparisons.

    config = RunConfig(model="mlp:256", epochs=5).validate()
    summary = train_run(config, "runs/first")      # config.json ... summary.json, report.html
"""

from ..atomic import DiskFullError, RunFileWarning
from .config import (ACTIVATION_NAMES, AUGMENTATIONS, CROP_PADDING, FEATURES, LINEAR_LR, PREPROCESSING,
                     ConfigError, Problem, RunConfig, default_lr, parse_augment, parse_features, parse_model,
                     parse_preprocess, spec_items, typed_settings)
from .factory import (ACTIVATIONS, HOG_CELL, ThenPreprocess, build_model, computed_features, make_augment,
                      make_features, make_preprocess)
from .folder import (CONFIG_NAME, LOCK_NAME, RunFolderBusy, default_out, finish_command, locked, read_config,
                     write_json)
from .run import (PreparedData, RunInterrupted, epochs_done, finish_run, make_optimizer, prepare_data,
                  resumed_config, train_model, train_run, write_evaluation)

__all__ = ["ACTIVATIONS", "ACTIVATION_NAMES", "AUGMENTATIONS", "CONFIG_NAME", "CROP_PADDING", "ConfigError",
           "DiskFullError", "FEATURES", "HOG_CELL", "LINEAR_LR", "LOCK_NAME", "PREPROCESSING", "PreparedData",
           "Problem", "RunConfig", "RunFileWarning", "RunFolderBusy", "RunInterrupted", "ThenPreprocess",
           "build_model", "computed_features", "default_lr", "default_out", "epochs_done", "finish_command",
           "finish_run", "locked", "make_augment", "make_features", "make_optimizer", "make_preprocess",
           "parse_augment", "parse_features", "parse_model", "parse_preprocess", "prepare_data", "read_config",
           "resumed_config", "spec_items", "train_model", "train_run", "typed_settings", "write_evaluation",
           "write_json"]
