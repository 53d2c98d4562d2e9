"""Image batches and image files: the shapes nnscratch accepts, grey levels from colour, and
image files (PNG, JPEG, TIFF, ... through Pillow; .npy as saved) turned into a model's input.

A file's pixels are read with their TRUE range (8-bit 0..255, 16-bit 0..65535, 1-bit 0..1, float
as stored), composited on the training images' background where transparent, converted to the
model's channels (BT.601 luma for grey) and size, then mapped onto the range the model was trained
on (0..255 for every image dataset nnscratch loads). Each change is reported in one line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

GREY_WEIGHTS = (0.299, 0.587, 0.114)  # ITU-R BT.601 luma
CHANNEL_COUNTS = (1, 3, 4)
IMAGE_DATASET_RANGE = (0.0, 255.0)  # every image dataset nnscratch loads is stored as uint8
INT_RANGES = (255, 65535, 2**31 - 1)  # the narrowest that holds a mode "I" image's values is assumed
FLOAT_RANGES = (1.0, 255.0, 65535.0)  # likewise for a mode "F" (float) image
BIT_DEPTH_RANGES = {"1": 1, "I;16": 65535, "I;16L": 65535, "I;16B": 65535, "I;16N": 65535}
# Modes Pillow converts for us without losing anything we use (palette, print and video spaces).
CONVERTED_MODES = {"P": "RGBA", "PA": "RGBA", "CMYK": "RGB", "YCbCr": "RGB", "LAB": "RGB", "HSV": "RGB", "La": "LA",
                   "RGBa": "RGBA", "RGBX": "RGB"}


def is_colour(images):
    """Whether `images` is a batch of colour images (N, H, W, C) with C in 1, 3 or 4."""
    return images.ndim == 4 and images.shape[-1] in CHANNEL_COUNTS


def check_images(images, who):
    """`images` as an array (N, H, W) or (N, H, W, C), else a ValueError saying what was expected."""
    images = np.asarray(images)
    if images.ndim != 3 and not is_colour(images):
        hint = " (rows of pixels: reshape them to images first, e.g. X.reshape(-1, 28, 28))" if images.ndim == 2 else ""
        raise ValueError(f"{who} expects images (N, H, W) or (N, H, W, C); got shape {images.shape}{hint}")
    if len(images) == 0:
        raise ValueError(f"{who} got an empty image set (shape {images.shape}); give at least one image")
    return images


def grey(images):
    """Luma of colour images (..., 3) with the BT.601 weights (0.299, 0.587, 0.114); float32."""
    return np.asarray(images)[..., :3] @ np.asarray(GREY_WEIGHTS, dtype=np.float32)


# ----- what a model takes --------------------------------------------------------------------------
@dataclass(frozen=True)
class InputSpec:
    """One sample as a model takes it: `sample_shape` ((H, W) grey or (H, W, C) colour), the value
    range [low, high] its training inputs spanned (before its preprocessing), where that range was
    learnt (`range_source`, in words), and the `background` level (0 black, 1 white) of its training
    images, on which transparent pixels are composited."""

    sample_shape: tuple
    low: float
    high: float
    range_source: str
    background: float = 0.0


def input_spec(meta, preprocess=None):
    """The InputSpec of a saved model from its `meta` dict and fitted `preprocess` (or None).

    The range comes from, in order: meta["input_range"]; a Scale fitted on the raw inputs (its
    min_ and max_); meta["dataset"] when it is an image dataset (0..255, uint8). Otherwise 0..255
    is assumed and `range_source` says so. The background is black unless a per-pixel mean of the
    training images (a Standardize/ZeroCenter fitted per feature) shows a light border.
    Raises ValueError when the sample shape is recorded nowhere.
    """
    shape = meta.get("sample_shape") or getattr(preprocess, "sample_shape_", None)
    if not shape:
        raise ValueError("the model file does not record the shape of one sample: save it with "
                         "meta={'sample_shape': [28, 28], ...} (nnscratch train does)")
    shape = tuple(int(n) for n in shape)
    low, high, source = _training_range(meta, preprocess)
    return InputSpec(shape, low, high, source, _background(preprocess, shape, low, high))


def _first_step(preprocess):
    steps = getattr(preprocess, "steps", None)
    return steps[0] if steps else preprocess


def _training_range(meta, preprocess):
    if meta.get("input_range"):
        low, high = meta["input_range"]
        return float(low), float(high), "its recorded input range"
    first = _first_step(preprocess)
    if type(first).__name__ == "Scale" and hasattr(first, "min_"):
        return float(first.min_), float(first.max_), "the range its Scale step was fitted on"
    from .registry import DATASETS

    dataset = DATASETS.get(meta.get("dataset"))
    if dataset is not None and len(dataset.sample_shape) >= 2:
        return (*IMAGE_DATASET_RANGE, f"{dataset.name}'s 8-bit pixels")
    return (*IMAGE_DATASET_RANGE, "assumed: the model file does not say its input range")


def _background(preprocess, shape, low, high):
    mean = getattr(_first_step(preprocess), "mean_", None)
    if mean is None or np.shape(mean) != shape or high <= low:
        return 0.0  # the MNIST family, nnscratch's image datasets, draw light things on black
    border = np.concatenate([mean[0].ravel(), mean[-1].ravel(), mean[:, 0].ravel(), mean[:, -1].ravel()])
    return float((border.mean() - low) / (high - low) >= 0.5)


# ----- reading files -------------------------------------------------------------------------------
def read_image(path, spec):
    """(sample, notes): the image file at `path` as one input for a model described by `spec`
    (an InputSpec), float32 of spec.sample_shape, and the list of what was changed or looks wrong.

    PNG/JPEG/TIFF/... are read through Pillow with their true range and converted (see the module
    docstring); a .npy is taken as it is (it must hold one sample) and only checked: a note warns
    when its values do not lie in the range the model was trained on. Raises FileNotFoundError for
    a missing file, ValueError for a file that is not an image or a sample of another shape, and
    ImportError when Pillow is needed but not installed.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no image at {path}: check the path")
    if path.suffix.lower() == ".npy":
        return _read_npy(path, spec)
    if len(spec.sample_shape) not in (2, 3):
        raise ValueError(f"{path}: this model takes samples of shape {spec.sample_shape}, not images; "
                         f"give each sample as a .npy file")
    pixels, source_range, notes = _read_with_pillow(path, spec.background)
    pixels, changes = _to_sample_shape(pixels, spec.sample_shape)
    target = f"{spec.low:g}..{spec.high:g}"
    if source_range != target:
        changes.insert(0, f"range {source_range} -> {target}")
    sample = (spec.low + pixels * (spec.high - spec.low)).astype(np.float32)
    return sample, changes + notes


def _read_npy(path, spec):
    try:  # memory-mapped: a header claiming more data than the file holds is refused, not allocated
        sample = np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError, EOFError):
        sample = None
    if not isinstance(sample, np.ndarray):
        raise ValueError(f"{path} is not a .npy array of numbers (it holds Python objects, is damaged or is "
                         f"another kind of file); save the image with numpy.save(path, array)")
    sample, notes = np.array(sample), []
    if sample.shape != spec.sample_shape and sample.shape in ((1, *spec.sample_shape), (*spec.sample_shape, 1)):
        notes.append(f"shape {sample.shape} -> {spec.sample_shape}")
        sample = sample.reshape(spec.sample_shape)
    if sample.shape != spec.sample_shape:
        raise ValueError(f"{path} holds an array of shape {sample.shape}; the model takes one sample of shape "
                         f"{spec.sample_shape} (give an image file to have it resized)")
    if not (np.issubdtype(sample.dtype, np.integer) or np.issubdtype(sample.dtype, np.floating)):
        raise ValueError(f"{path} holds {sample.dtype} values; the model takes real numbers (integers or floats)")
    if not np.isfinite(sample).all():
        raise ValueError(f"{path} holds NaN or infinite values, so no prediction would mean anything; "
                         f"give an array of finite pixel values")
    return sample, notes + range_warnings(sample, spec)


def range_warnings(sample, spec):
    """[a warning] when `sample`'s values do not lie in the range [spec.low, spec.high] the model
    was trained on (1% tolerance), or only use 0..1 of a 0..255 range; else []."""
    low, high = float(np.min(sample)), float(np.max(sample))
    span = spec.high - spec.low
    trained = f"the model was trained on {spec.low:g}..{spec.high:g} ({spec.range_source})"
    if not (np.isfinite(low) and np.isfinite(high)):
        return [f"warning: it holds NaN or infinite values; {trained}"]
    if low < spec.low - 0.01 * span or high > spec.high + 0.01 * span:
        return [f"warning: its values span {low:g}..{high:g}, outside the range {trained}"]
    if span > 2 and 0 <= low and high <= 1:
        return [f"warning: its values lie within 0..1 but {trained}: multiply by {span:g} "
                f"(or give the image as a PNG)"]
    return []


def _pillow():
    try:
        from PIL import Image
    except ImportError:
        raise ImportError("reading PNG/JPEG/TIFF images needs Pillow: pip install pillow (or, in the nnscratch "
                          "checkout, pip install -e '.[images]'); "
                          ".npy arrays need nothing") from None
    return Image


def _read_with_pillow(path, background):
    """(pixels (H, W, C) float64 in 0..1, the source range in words, notes) of an image file."""
    Image = _pillow()
    try:
        with Image.open(path) as img:
            frames = getattr(img, "n_frames", 1)  # counting the frames moves through the file:
            img.seek(0)  # back to the first frame, then read it while the file is open
            img.load()
    except (OSError, Image.DecompressionBombError) as error:
        raise ValueError(f"{path} is not an image Pillow can read (PNG, JPEG, TIFF, ...) nor a .npy array "
                         f"({error})") from None
    mode, notes = img.mode, []
    if frames > 1:
        notes.append(f"frame 1 of {frames} used (an animated or multi-page file); save the frame you mean "
                     f"as its own image to predict another")
    if mode in CONVERTED_MODES:
        target = CONVERTED_MODES[mode]
        if mode == "P" and "transparency" not in img.info:
            target = "RGB"
        img = img.convert(target)
        notes.append(f"mode {mode} -> {target}")
    pixels = np.asarray(img)
    if pixels.ndim == 2:
        pixels = pixels[..., None]
    pixels, source_range = _unit_range(pixels, img.mode)
    if img.mode in ("RGBA", "LA"):
        alpha = pixels[..., -1:]
        pixels = pixels[..., :-1] * alpha + background * (1 - alpha)
        if alpha.min() < 1:
            notes.append(f"transparent pixels composited on {'white' if background else 'black'} "
                         f"(the training images' background)")
    return pixels, source_range, notes


def _unit_range(pixels, mode):
    """Pixels scaled from their true range to 0..1, and that range in words."""
    if mode in BIT_DEPTH_RANGES:
        top = BIT_DEPTH_RANGES[mode]
    elif mode in ("I", "F"):
        low = float(pixels.min())
        if low < 0:
            high = float(pixels.max())
            return (pixels - low) / max(high - low, 1e-12), f"{low:g}..{high:g} (stretched: it has negative values)"
        candidates = INT_RANGES if mode == "I" else FLOAT_RANGES
        top = next((r for r in candidates if pixels.max() <= r), float(pixels.max()))
    elif pixels.dtype == np.uint8:
        top = 255
    else:
        raise ValueError(f"images of Pillow mode {mode!r} are not supported; convert it to RGB or L (8-bit grey)")
    return pixels.astype(np.float64) / top, f"0..{top:g}"


def _to_sample_shape(pixels, sample_shape):
    """(pixels of sample_shape (still 0..1), what was changed): channels first, then size."""
    changes = []
    channels = sample_shape[2] if len(sample_shape) == 3 else 1
    have = pixels.shape[-1]
    if have == 3 and channels == 1:
        pixels = pixels @ np.asarray(GREY_WEIGHTS)[:, None]
        changes.append("colour -> grey (BT.601 weights)")
    elif have == 1 and channels == 3:
        pixels = np.repeat(pixels, 3, axis=-1)
        changes.append("grey -> RGB (copied to each channel)")
    elif have != channels:
        raise ValueError(f"cannot turn an image with {have} channels into the model's {channels}")
    height, width = sample_shape[:2]
    if pixels.shape[:2] != (height, width):
        changes.append(f"resized {pixels.shape[1]}x{pixels.shape[0]} -> {width}x{height}")
        pixels = _resized(pixels, width, height)
    return pixels.reshape(sample_shape), changes


def _resized(pixels, width, height):
    """Each channel resized as floats with Pillow: the area average (box filter) when shrinking,
    so a block of pixels becomes its mean and nothing rings; bicubic when enlarging. Clipped to 0..1."""
    Image = _pillow()
    shrinking = width <= pixels.shape[1] and height <= pixels.shape[0]
    resample = Image.Resampling.BOX if shrinking else Image.Resampling.BICUBIC
    planes = [np.asarray(Image.fromarray(pixels[..., c].astype(np.float32)).resize((width, height), resample))
              for c in range(pixels.shape[-1])]
    return np.clip(np.stack(planes, axis=-1), 0, 1)


def read_images(paths, spec, echo=print):
    """(N, *spec.sample_shape) float32: each file at `paths` read by read_image; one line per file
    that was changed or looks wrong is passed to `echo`, e.g.
    "boot.png: range 0..65535 -> 0..255, resized 56x56 -> 28x28"."""
    samples = []
    for path in paths:
        sample, notes = read_image(path, spec)
        if notes:
            echo(f"{path}: {'; '.join(notes)}")
        samples.append(sample.astype(np.float32, copy=False) if sample.dtype.kind == "f" else sample)
    return np.stack(samples)
