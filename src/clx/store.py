"""Content-addressed blob store under ``.clx/blobs``.

The build hashes every input file once and stores it here; job payloads name inputs
by hash. A worker therefore always processes exactly the bytes the build hashed, even
if an author saves a file while the build runs.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path


def _current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# mkstemp creates files 0600; outputs must get the usual permissions of a new file.
_FILE_MODE = 0o666 & ~_current_umask()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def atomic_write(path: Path, data: bytes, *, only_if_changed: bool = True) -> bool:
    """Write via a temporary file in the same folder and rename; never a torn file.

    Returns True if the file was (re)written, False if its bytes were already equal
    (then the modification time is kept, which keeps git and editors calm).
    """
    if only_if_changed:
        try:
            if path.stat().st_size == len(data) and path.read_bytes() == data:
                return False
        except OSError:
            pass
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as e:
        raise _naming(e, path, None) from e
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            os.fchmod(f.fileno(), _FILE_MODE)
        os.replace(tmp, path)
    except BaseException as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(e, OSError):
            raise _naming(e, path, tmp) from e
        raise
    return True


def _naming(e: OSError, path: Path, tmp: str | None) -> OSError:
    """The error as the user must see it: about ``path``, never the temporary file.

    A folder on the way that is the real culprit (a file in its place, say) is named too.
    """
    why = e.strerror or str(e)
    culprit = e.filename
    if culprit is not None and str(culprit) not in (str(path), tmp):
        why = f"{why} ({culprit})"
    return type(e)(e.errno, why, str(path)) if e.errno is not None else OSError(why)


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, digest: str) -> Path:
        return self.root / digest[:2] / digest

    def put(self, data: bytes) -> str:
        """Store ``data`` (once) and return its digest.

        A blob stored before gets a fresh modification time: the clean-up after a build
        (``clx.pipeline.cache_gc``) keeps blobs younger than its build, and a concurrent
        build that just put this blob must not lose it.
        """
        digest = sha256(data)
        p = self.path(digest)
        try:
            os.utime(p)
        except FileNotFoundError:
            atomic_write(p, data, only_if_changed=False)
        return digest

    def get(self, digest: str) -> bytes:
        data = self.path(digest).read_bytes()
        if sha256(data) != digest:
            raise OSError(f"blob {digest} is corrupt")
        return data

    def has(self, digest: str) -> bool:
        return self.path(digest).exists()

    # The ``clx.blobs.Blobs`` protocol, in bulk (here one file at a time anyway).

    def missing(self, digests: Iterable[str]) -> set[str]:
        return {d for d in digests if not self.has(d)}

    def put_many(self, blobs: Iterable[bytes]) -> list[str]:
        return [self.put(data) for data in blobs]
