"""Finding dataset files, verifying them against pinned digests, and downloading them.

Where files are looked for, in order:
  1. `root`, if given (only there; downloads go there too);
  2. otherwise `$NNSCRATCH_DATA/<name>`, `~/.cache/nnscratch/<name>`, then known system
     folders (Debian's `dataset-fashion-mnist` installs `/usr/share/datasets/fashion-mnist`).

A download streams into a temporary file beside its final name, is verified, and only then
renamed into place: an interrupted, truncated or corrupted download leaves nothing under the
final name. `$NNSCRATCH_MIRROR` replaces every mirror: files are fetched from
`$NNSCRATCH_MIRROR/<official file name>`.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import urllib.error
import urllib.request
from pathlib import Path

from ..atomic import atomic_path

DATA_ENV = "NNSCRATCH_DATA"
MIRROR_ENV = "NNSCRATCH_MIRROR"
CHUNK = 1 << 20


class DigestMismatchError(ValueError):
    """A file's content is not the published one: corrupt, truncated or replaced."""


class DownloadError(OSError):
    """No mirror delivered a verified copy of a file."""


def cache_root() -> Path:
    """~/.cache/nnscratch: downloads (one folder per dataset) and parsed arrays (`parsed/`)."""
    return Path.home() / ".cache" / "nnscratch"


def search_places(info, root=None):
    """The folders to look in for `info`'s files, in order, each with how it was chosen."""
    if root is not None:
        return [(Path(root), "root")]
    places = []
    if os.environ.get(DATA_ENV):
        places.append((Path(os.environ[DATA_ENV]) / info.name, f"${DATA_ENV}"))
    places.append((cache_root() / info.name, "cache"))
    places += [(Path(d), "system") for d in info.system_dirs]
    return places


def download_dir(info, root=None) -> Path:
    """Where a download of `info`'s files goes: `root`, else $NNSCRATCH_DATA/<name>, else the cache folder."""
    if root is not None:
        return Path(root)
    if os.environ.get(DATA_ENV):
        return Path(os.environ[DATA_ENV]) / info.name
    return cache_root() / info.name


def describe_places(info, root=None):
    """The folders looked in, as one comma-separated string for error messages (says when $NNSCRATCH_DATA is unset)."""
    described = [str(p) for p, _ in search_places(info, root)]
    if root is None and not os.environ.get(DATA_ENV):
        described.insert(0, f"${DATA_ENV} (unset)")
    return ", ".join(described)


def find_file(remote, places):
    """(path, matched digest) of `remote` in the first place that has it (gzipped or not), else None."""
    for folder, _ in places:
        candidates = [(folder / remote.name, remote.digests)]
        if remote.name.endswith(".gz"):
            candidates.append((folder / remote.name[: -len(".gz")], remote.raw_digests))
        for path, digests in candidates:
            if path.is_file():
                return path, verify(path, digests)
    return None


def file_digests(path, algorithms):
    """{algorithm: hex digest} of the file at `path` for each hashlib name in `algorithms`, in one read."""
    hashers = {a: hashlib.new(a) for a in algorithms}
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            for h in hashers.values():
                h.update(chunk)
    return {a: h.hexdigest() for a, h in hashers.items()}


def verify(path, digests):
    """The digest `path` matches among `digests` ("sha256:..." / "md5:..."), else DigestMismatchError."""
    path = Path(path)
    if not digests:
        raise DigestMismatchError(
            f"{path}: nnscratch has no pinned digest for this uncompressed file, so it cannot be verified; "
            f"keep the published .gz file in its place (or delete this one and use download=True)"
        )
    actual = file_digests(path, _algorithms(digests))
    return _check_digests(path, digests, actual)


def _algorithms(digests):
    return {d.split(":", 1)[0] for d in digests}


def _check_digests(where, digests, actual):
    for d in digests:
        algorithm, value = d.split(":", 1)
        if actual[algorithm] == value:
            return d
    raise DigestMismatchError(_mismatch_message(where, digests, actual))


def _mismatch_message(path, digests, actual):
    expected = " or ".join(digests)
    got = ", ".join(f"{a}:{v}" for a, v in sorted(actual.items()))
    return (
        f"{path} failed verification: expected {expected}, got {got}. The file is corrupt, truncated or "
        f"not the published one; delete it and download it again (download=True)"
    )


def mirrors_for(info):
    """The base URLs to download `info`'s files from: ($NNSCRATCH_MIRROR,) when set, else the registry's."""
    override = os.environ.get(MIRROR_ENV)
    return (override,) if override else info.mirrors


def download_file(remote, folder, mirrors, progress=None):
    """Fetch `remote` into `folder`, trying each mirror in order; returns (path, matched digest)."""
    destination = Path(folder) / remote.name
    failures = []
    for base in mirrors:
        url = base.rstrip("/") + "/" + remote.name
        try:
            return destination, _fetch_verified(url, destination, remote.digests, progress)
        except DigestMismatchError as error:
            failures.append(error)
        except (OSError, http.client.HTTPException, ValueError) as error:
            failures.append(DownloadError(f"{url}: {error}"))
    if failures and all(isinstance(f, DigestMismatchError) for f in failures):
        raise failures[-1]
    tried = "\n  ".join(str(f) for f in failures) or "(no mirror known)"
    raise DownloadError(
        f"could not download {remote.name}; tried:\n  {tried}\nCheck the network, or set ${MIRROR_ENV} to a "
        f"mirror that serves it, or put the file in {folder} yourself"
    )


def _fetch_verified(url, destination, digests, progress):
    from ..progress import tqdm_class

    tqdm = tqdm_class()  # text without ipywidgets: no TqdmWarning in a notebook

    with atomic_path(destination) as tmp:
        with urllib.request.urlopen(url, timeout=60) as response, open(tmp, "wb") as out:
            total = int(response.headers.get("Content-Length") or 0) or None
            hashers = {a: hashlib.new(a) for a in _algorithms(digests)}
            received = 0
            quiet = None if progress is None else not progress  # None: show only on a terminal
            with tqdm(total=total, unit="B", unit_scale=True, desc=destination.name, disable=quiet) as bar:
                while chunk := response.read(CHUNK):
                    out.write(chunk)
                    for h in hashers.values():
                        h.update(chunk)
                    received += len(chunk)
                    bar.update(len(chunk))
        if total is not None and received != total:
            raise DownloadError(f"{url}: truncated download, {received} of {total} bytes")
        return _check_digests(url, digests, {a: h.hexdigest() for a, h in hashers.items()})
