"""Parsers for the published binary formats: IDX (MNIST, Fashion-MNIST) and CIFAR-10's binary batches.

Neither format needs pickle: IDX is a big-endian header and raw numbers, CIFAR-10's binary
version is fixed-length records of one label byte and 3,072 pixel bytes.
"""

from __future__ import annotations

import gzip
import struct
import tarfile

import numpy as np

from ..atomic import atomic_path

IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
CIFAR_SIDE = 32
CIFAR_RECORD = 1 + 3 * CIFAR_SIDE * CIFAR_SIDE  # label byte, then the R, G and B planes


def read_idx(path):
    """The array in an IDX file (gzipped if its name ends in .gz)."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[:2] != b"\x00\x00" or data[2] not in IDX_DTYPES:
        raise ValueError(f"{path} is not an IDX file (its first bytes are {data[:4]!r}); "
                         f"delete it and download it again")
    dtype, ndim = np.dtype(IDX_DTYPES[data[2]]), data[3]
    header = 4 + 4 * ndim
    dims = struct.unpack(f">{ndim}I", data[4:header])
    expected = int(np.prod(dims)) * dtype.itemsize
    if len(data) - header != expected:
        raise ValueError(
            f"{path}: its IDX header says shape {dims} ({expected} bytes of data) but the file holds "
            f"{len(data) - header} bytes; it is truncated or corrupt: delete it and download it again"
        )
    return np.frombuffer(data, dtype, offset=header).reshape(dims).astype(dtype.newbyteorder("="))


def read_cifar10_binary(archive, members):
    """Images (N, 32, 32, 3) uint8 and labels (N,) int64 from `members` of cifar-10-binary.tar.gz."""
    records = {}
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar:  # one pass in archive order: no seeking back in the gzip stream
            if member.name in members and member.isfile():
                records[member.name] = tar.extractfile(member).read()
    missing = [m for m in members if m not in records]
    if missing:
        raise ValueError(f"{archive} lacks {', '.join(missing)}: the archive is incomplete; "
                         f"delete it and download it again")
    chunks = []
    for name in members:
        raw = records[name]
        if len(raw) % CIFAR_RECORD:
            raise ValueError(f"{archive}: {name} holds {len(raw)} bytes, not a whole number of "
                             f"{CIFAR_RECORD}-byte records; the archive is corrupt")
        chunks.append(np.frombuffer(raw, np.uint8).reshape(-1, CIFAR_RECORD))
    table = np.concatenate(chunks)
    images = table[:, 1:].reshape(-1, 3, CIFAR_SIDE, CIFAR_SIDE).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), table[:, 0].astype(np.int64)


def write_idx(path, array):
    """Write `array` as an IDX file (gzipped if the name ends in .gz); the inverse of read_idx."""
    codes = {np.dtype(v).str.lstrip("<>|="): k for k, v in IDX_DTYPES.items()}
    array = np.asarray(array)
    big_endian = array.astype(array.dtype.newbyteorder(">")) if array.dtype.itemsize > 1 else array
    header = bytes([0, 0, codes[array.dtype.str.lstrip("<>|=")], array.ndim]) + struct.pack(
        f">{array.ndim}I", *array.shape)
    opener = gzip.open if str(path).endswith(".gz") else open
    with atomic_path(path) as tmp, opener(tmp, "wb") as f:
        f.write(header + big_endian.tobytes())
