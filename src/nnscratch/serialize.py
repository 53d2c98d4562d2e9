"""Saving and loading models: one `.npz` with the weights, the architecture as JSON and the
preprocessing state; read with `allow_pickle=False`, so loading a file runs no code.

    nnscratch.save(model, "model.npz", preprocess=scaler)
    model = nnscratch.load("model.npz")          # model.preprocess is the fitted scaler

The same container (a JSON header plus named arrays, written atomically) holds checkpoints.

`load` is the door through which other people's files come in, so it reads nothing it has not
checked first: the zip directory's declared sizes (`MAX_MEMBER_BYTES`, `MAX_TOTAL_BYTES`,
`MAX_INFLATION`), each `.npy` header (no Python objects; the declared shape must be exactly what
the member holds), then the architecture against the arrays present (every parameter there, with
the shape the architecture gives it, and nothing else: `nnscratch.model_check`). Modules are built
only after that, so building allocates no more than the file already holds. Every refusal is one `ModelFileError`
(a ValueError) naming the file, what is wrong with it and what to do.
"""

from __future__ import annotations

import json
import math
import zipfile
import zlib
from pathlib import Path

import numpy as np

from . import features, nn  # noqa: F401  (features registers its extractors for loading)
from .atomic import write_npz
from .data import preprocess as preprocessing
from .errors import ModelFileError
from .model_check import (  # noqa: F401  (public here since the start: the checks live in model_check)
    ARGUMENT_KINDS, GENERIC_SIZE_FLOOR, MAX_NESTING, MODULES, PARAMETER_SHAPES, check_architecture,
)

MODEL_FORMAT = "nnscratch-model"
FORMAT_VERSION = 1

GiB, MiB = 2**30, 2**20
MAX_MEMBER_BYTES = 2 * GiB   # one array, as declared in the zip directory
MAX_TOTAL_BYTES = 4 * GiB    # all arrays together
MAX_INFLATION = 100          # declared size / compressed size, for members over INFLATION_FLOOR
INFLATION_FLOOR = 1 * MiB    # (nnscratch writes uncompressed: real weights compress ~1.1x)
NPY_MAGIC, ZIP_MAGIC, PICKLE_MAGIC = b"\x93NUMPY", b"PK\x03\x04", b"\x80"
WRITERS = {"model file": "nnscratch.save", "checkpoint": "nnscratch's training loop"}


def _refuse(path, what, problem, fix):
    writer = WRITERS.get(what, "nnscratch")
    return ModelFileError(f"{path} is not an nnscratch {what} (.npz written by {writer}): {problem}; {fix}")


# ----- the container ------------------------------------------------------------------------------
def write_container(path, header, arrays):
    """Write `header` (JSON-able) and `arrays` ({name: ndarray}) to one .npz, atomically."""
    payload = {"header": np.array(json.dumps(header))}
    payload.update(arrays)
    write_npz(path, payload)


def read_container(path, expected_format, what):
    """(header, arrays) of a file written by write_container with header["format"] == expected_format.

    Reads the zip directory and every `.npy` header before any array (see the module docstring
    for the limits). Raises FileNotFoundError for a missing file and ModelFileError (a ValueError)
    for anything else wrong with it, each naming `path`.
    """
    path = Path(path)
    if not path.is_file():
        where = "it is a folder" if path.is_dir() else "no such file"
        raise FileNotFoundError(f"no {what} at {path} ({where}): check the path")
    arrays = _read_checked_npz(path, what)
    if "header" not in arrays:
        raise _refuse(path, what, "it is an .npz file but not an nnscratch " + what + " (it has no header)",
                      "load it with numpy.load if it is plain arrays")
    header = _parse_header(path, what, arrays.pop("header"))
    if header.get("format") != expected_format:
        raise _refuse(path, what, f"its format is {header.get('format')!r}, not {expected_format!r}",
                      "give the file of the right kind (a run folder holds model.npz and checkpoint.npz)")
    version = header.get("version", 0)
    if not isinstance(version, int) or isinstance(version, bool):
        raise _refuse(path, what, f"its format version {version!r} is not a number", "the file is damaged: save it again")
    if version > FORMAT_VERSION:
        raise ModelFileError(f"{path} was written by a newer nnscratch (format version {version}; this one "
                             f"reads up to {FORMAT_VERSION}): upgrade nnscratch (pip install -U nnscratch)")
    return header, arrays


def _parse_header(path, what, header):
    try:
        parsed = json.loads(str(header)) if header.dtype.kind == "U" and header.ndim == 0 else None
    except (json.JSONDecodeError, RecursionError) as error:
        raise _refuse(path, what, f"its header is not valid JSON ({error})", "the file is damaged: save it again") \
            from None
    if not isinstance(parsed, dict):
        raise _refuse(path, what, "its header is not a JSON object", "the file is damaged: save it again")
    return parsed


def _read_checked_npz(path, what):
    """{member name without .npy: array}, after checking every declared size and .npy header."""
    again = f"give an intact file that {WRITERS.get(what, 'nnscratch')} wrote, or write it again"
    try:
        archive = zipfile.ZipFile(path)
    except PermissionError:
        raise PermissionError(f"{path} cannot be read (permission denied): give yourself read access "
                              f"(chmod u+r) or copy the file") from None
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as error:
        raise _refuse(path, what, _kind_of(path, error), again) from None
    try:
        with archive:
            members = archive.infolist()
            _check_declared_sizes(path, what, members)
            headers = {info.filename: _check_npy_header(path, what, archive, info) for info in members}
            return {name[:-len(".npy")]: _read_member(archive, name) for name in headers}
    except ModelFileError:
        raise
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError, RuntimeError, zlib.error) as error:
        raise _refuse(path, what, f"it is truncated or corrupt ({type(error).__name__}: {error})", again) from None


def _kind_of(path, error):
    """Why a file that zipfile cannot open is not an .npz, in words, from its first bytes."""
    with open(path, "rb") as f:
        start = f.read(8)
    if start.startswith(ZIP_MAGIC):
        return f"it is truncated, corrupt or not an .npz file (it starts like a zip archive, but {error})"
    if start.startswith(NPY_MAGIC):
        return "it is a single .npy array, not an .npz archive of named arrays"
    if start.startswith(PICKLE_MAGIC):
        return "it looks like a Python pickle, which nnscratch never loads (unpickling can run code)"
    if not start:
        return "it is empty"
    if all(byte >= 32 or byte in b"\t\n\r" for byte in start):
        return "it is a text file, not an .npz archive"
    return "it is truncated, corrupt or not an .npz file (it is not a zip archive)"


def _check_declared_sizes(path, what, members):
    fix = "nnscratch refuses files that would inflate this much; use the file nnscratch.save wrote"
    for info in members:
        name = info.filename
        if not name.endswith(".npy"):
            raise _refuse(path, what, f"its member {name!r} is not a .npy array", "use the file nnscratch wrote")
        if info.file_size > MAX_MEMBER_BYTES:
            raise _refuse(path, what, f"its member {name!r} declares {info.file_size:,} bytes, over the "
                                      f"{MAX_MEMBER_BYTES // GiB} GiB limit per array", fix)
        if info.file_size > INFLATION_FLOOR and info.file_size > MAX_INFLATION * max(info.compress_size, 1):
            raise _refuse(path, what, f"its member {name!r} would inflate {info.compress_size:,} bytes to "
                                      f"{info.file_size:,} (over {MAX_INFLATION}x: a zip bomb?)", fix)
    total = sum(info.file_size for info in members)
    if total > MAX_TOTAL_BYTES:
        raise _refuse(path, what, f"its arrays declare {total:,} bytes together, over the "
                                  f"{MAX_TOTAL_BYTES // GiB} GiB limit", fix)


def _check_npy_header(path, what, archive, info):
    """(shape, dtype) from a member's .npy header, checked against the bytes the member holds."""
    name, fix = info.filename, "the file is damaged or was not written by nnscratch: save it again"
    with archive.open(info) as f:
        version = np.lib.format.read_magic(f)
        if version not in ((1, 0), (2, 0)):
            raise _refuse(path, what, f"its member {name!r} has .npy format version {version}", fix)
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, _, dtype = read_header(f)
        header_bytes = f.tell()
    if dtype.hasobject:
        raise _refuse(path, what, f"its member {name!r} holds Python objects (a pickle), and nnscratch never "
                                  f"unpickles what it loads", "save the model again with nnscratch.save")
    if any(not isinstance(n, int) or n < 0 for n in shape):
        raise _refuse(path, what, f"its member {name!r} declares the impossible shape {shape}", fix)
    data_bytes = math.prod(shape) * dtype.itemsize
    if header_bytes + data_bytes != info.file_size:
        raise _refuse(path, what, f"its member {name!r} declares shape {shape} of {dtype} ({data_bytes:,} bytes) "
                                  f"but holds {info.file_size - header_bytes:,} bytes of data", fix)
    return shape, dtype


def _read_member(archive, name):
    with archive.open(name) as f:
        return np.lib.format.read_array(f, allow_pickle=False)


def prefixed(arrays, prefix):
    """The entries of `arrays` under `prefix/`, with the prefix removed."""
    return {name[len(prefix) + 1:]: value for name, value in arrays.items() if name.startswith(prefix + "/")}


# ----- models -------------------------------------------------------------------------------------
def build(arch):
    """A fresh module from its architecture description (see nn.architecture).

    Trusts `arch`: check a description from a file with `check_architecture` first.
    """
    arch = dict(arch)
    kind = arch.pop("type", None)
    if kind not in MODULES:
        raise ValueError(f"unknown module type {kind!r} in the architecture; nnscratch rebuilds {', '.join(MODULES)}")
    if kind == "Sequential":
        return nn.Sequential(*(build(layer) for layer in arch["layers"]))
    return MODULES[kind](**arch)



def save(model, path, preprocess=None, meta=None):
    """Write `model` (made of nnscratch's own modules), its preprocessing and `meta` (a JSON-able
    dict, e.g. {"dataset": ..., "classes": [...], "sample_shape": [...]}) to `path`, atomically.
    Raises TypeError for a module that cannot describe its architecture."""
    preprocess = preprocess if preprocess is not None else getattr(model, "preprocess", None)
    header = {"format": MODEL_FORMAT, "version": FORMAT_VERSION, "architecture": nn.architecture(model),
              "preprocess": None, "meta": meta or {}}
    arrays = {f"param/{name}": value for name, value in model.state_dict().items()}
    if preprocess is not None:
        state = preprocess.state_dict()
        header["preprocess"] = {"type": state["type"], "config": state["config"]}
        arrays.update({f"preprocess/{name}": value for name, value in state["arrays"].items()})
    write_container(path, header, arrays)


def load(path):
    """The model saved at `path`, with `.preprocess` (or None) and `.meta` (a dict) attached.

    Checks the whole file before building anything (see the module docstring); raises
    FileNotFoundError naming a missing file and ModelFileError (a ValueError) naming the file,
    what is wrong and what to do, for a file that is not an intact nnscratch model.
    """
    header, arrays = read_container(path, MODEL_FORMAT, "model file")
    unknown = [n for n in arrays if not n.startswith(("param/", "preprocess/"))]
    if unknown:
        raise ModelFileError(f"{path}: it holds arrays nnscratch does not write ({', '.join(map(repr, unknown))}); "
                             f"save the model again with nnscratch.save")
    _check_finite(path, arrays)
    params = prefixed(arrays, "param")
    check_architecture(path, header.get("architecture"), params)
    try:
        model = build(header["architecture"])
        model.load_state_dict(params)
    except (ValueError, TypeError, KeyError) as error:
        raise ModelFileError(f"{path}: its architecture does not match its arrays ({error}); save the model "
                             f"again with nnscratch.save, or retrain it") from None
    model.preprocess = _load_preprocess(path, header.get("preprocess"), prefixed(arrays, "preprocess"))
    meta = header.get("meta", {})
    if not isinstance(meta, dict):
        raise ModelFileError(f"{path}: its 'meta' is not a JSON object; save the model again with nnscratch.save")
    model.meta = meta
    return model


def _check_finite(path, arrays):
    """Refuse weights or fitted statistics holding NaN or infinity: nnscratch never saves such a
    model (training stops at the first non-finite parameter), and it would predict garbage."""
    bad = [name for name, a in arrays.items() if a.dtype.kind in "fc" and not np.isfinite(a).all()]
    if bad:
        raise ModelFileError(f"{path}: its array(s) {', '.join(map(repr, bad))} hold NaN or infinite values, so "
                             f"every prediction would be wrong; the file was edited or damaged: save the model "
                             f"again with nnscratch.save, or retrain it")


def _load_preprocess(path, state, arrays):
    if state is None:
        return None
    try:
        return preprocessing.from_state_dict({**state, "arrays": arrays})
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        raise ModelFileError(f"{path}: its preprocessing cannot be rebuilt ({type(error).__name__}: {error}); "
                             f"save the model again with nnscratch.save") from None
