"""`nnscratch.data`: datasets (found, verified, downloaded, cached), batching, preprocessing, augmentation.

Everything random here takes `rng=` (an int seed or a numpy Generator; `seed=` still works).
"""

from . import augment, preprocess, toy
from .datasets import CacheRebuiltWarning, info, load
from .files import DigestMismatchError, DownloadError
from .loader import DataLoader, train_val_split
from .registry import DATASETS

__all__ = ["CacheRebuiltWarning", "DATASETS", "DataLoader", "DigestMismatchError", "DownloadError", "augment", "info", "load",
           "preprocess", "toy", "train_val_split"]
