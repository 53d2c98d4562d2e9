"""`nnscratch.data`: datasets (found, verified, downloaded, cached), batching, preprocessing, augmentation."""

from . import augment, preprocess, toy
from .datasets import CacheRebuiltWarning, info, load
from .files import DigestMismatchError, DownloadError
from .loader import DataLoader, train_val_split
from .registry import DATASETS

__all__ = ["CacheRebuiltWarning", "DATASETS", "DataLoader", "DigestMismatchError", "DownloadError", "augment", "info", "load",
           "preprocess", "toy", "train_val_split"]
