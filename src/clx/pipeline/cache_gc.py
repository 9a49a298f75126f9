"""Keeping ``.clx`` from growing forever: prune the build cache and its blob store.

Every edit adds cache entries and blobs (the outputs of the new results, the new input
files), and nothing else ever removes them. The rules here decide what may go:

* an entry goes when no job of the current plan uses it and no build has used it for a
  while (a branch switched back to within that time still hits);
* a blob goes when no remaining entry names it, no job of the current plan reads it as
  an input, and it is older than a cutoff: a build that started before the cutoff put
  every blob it needs into the store before it, so a concurrent build's fresh blobs
  survive even though this process cannot see its plan;
* a stray ``*.tmp`` file (an atomic write that died half-way) goes after an hour.

Entries go first and blobs after, so a blob is never deleted while an entry still names
it. Nothing here knows about the command line; times are passed in (Unix seconds), so
tests run with any clock and never sleep.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from clx.pipeline.cache import BuildCache
from clx.queue.base import SessionRecord

log = logging.getLogger(__name__)

DAY = 86400.0
TMP_GRACE_SECONDS = 3600.0  # an atomic write older than this is dead, not in progress
DEFAULT_KEEP_DAYS = 14.0


@dataclass
class GcResult:
    """What a clean-up removed."""

    entries: int = 0  # cache entries
    blobs: int = 0  # content-addressed files in .clx/blobs
    files: int = 0  # other files: stray *.tmp files, renders no plan names
    bytes: int = 0  # freed by the files

    @property
    def freed(self) -> bool:
        return bool(self.entries or self.blobs or self.files)

    def add(self, other: GcResult) -> GcResult:
        self.entries += other.entries
        self.blobs += other.blobs
        self.files += other.files
        self.bytes += other.bytes
        return self

    def summary(self) -> str:
        """``3 cached result(s), 10 blob(s) (1.2 MB freed)``; other files only if any."""
        parts = [f"{self.entries} cached result(s)", f"{self.blobs} blob(s)"]
        if self.files:
            parts.append(f"{self.files} other file(s)")
        return f"{', '.join(parts)} ({format_bytes(self.bytes)} freed)"

    def to_dict(self) -> dict[str, int]:
        return {
            "entries": self.entries,
            "blobs": self.blobs,
            "files": self.files,
            "bytes": self.bytes,
        }


def format_bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{n} B" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    raise AssertionError("unreachable")


def prune(
    cache: BuildCache,
    *,
    now: float,
    keep_days: float,
    blob_cutoff: float,
    plan_keys: Collection[str] = (),
    plan_inputs: Collection[str] = (),
) -> GcResult:
    """Delete entries unused for ``keep_days`` (except ``plan_keys``), then the blobs that
    no remaining entry and no ``plan_inputs`` digest names, modified before ``blob_cutoff``.

    After a build that planned the whole course, ``plan_keys`` are its jobs' cache keys,
    ``plan_inputs`` the input digests its jobs read and ``blob_cutoff`` its start; on
    demand (``clx cache prune``) both sets are empty and the cutoff is now.
    """
    result = GcResult()
    result.entries = cache.delete_unused(now - keep_days * DAY, plan_keys)
    keep = cache.referenced_blobs() | set(plan_inputs)
    return result.add(sweep_blobs(cache.blobs.root, keep, cutoff=blob_cutoff, now=now))


def clear(cache: BuildCache, *, now: float) -> GcResult:
    """Forget every entry and delete every blob (only when no build of the course runs)."""
    result = GcResult(entries=cache.clear())
    return result.add(sweep_blobs(cache.blobs.root, set(), cutoff=float("inf"), now=now))


def sweep_blobs(root: Path, keep: Collection[str], *, cutoff: float, now: float) -> GcResult:
    """Delete blob files not in ``keep`` modified before ``cutoff``, and ``*.tmp`` files
    older than an hour. The two-character folders stay: removing one could pull it away
    under a concurrent write that just created it."""
    result = GcResult()
    for folder in _scandir(root):
        if folder.is_dir(follow_symlinks=False):
            for f in _scandir(Path(folder.path)):
                _consider(f, keep, cutoff, now, result)
        else:
            _consider(folder, keep, cutoff, now, result)
    return result


def sweep_files(folder: Path, keep: Collection[str], *, cutoff: float) -> GcResult:
    """Delete files directly in ``folder`` whose paths are not in ``keep``, modified before
    ``cutoff`` (diagram renders that no planned job writes any more)."""
    keep = set(keep)
    result = GcResult()
    for f in _scandir(folder):
        if f.path in keep or not f.is_file(follow_symlinks=False):
            continue
        size = _remove_if_older(f, cutoff)
        if size is not None:
            result.files += 1
            result.bytes += size
    return result


def _scandir(folder: Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(folder) as it:
            return list(it)
    except FileNotFoundError:
        return []


def _consider(
    f: os.DirEntry[str], keep: Collection[str], cutoff: float, now: float, result: GcResult
) -> None:
    if not f.is_file(follow_symlinks=False):
        return
    if f.name.endswith(".tmp"):
        size = _remove_if_older(f, now - TMP_GRACE_SECONDS)
        if size is not None:
            result.files += 1
            result.bytes += size
    elif f.name not in keep:
        size = _remove_if_older(f, cutoff)
        if size is not None:
            result.blobs += 1
            result.bytes += size


def _remove_if_older(f: os.DirEntry[str], cutoff: float) -> int | None:
    """The freed size if the file was modified before ``cutoff`` and is now gone."""
    try:
        st = f.stat(follow_symlinks=False)
        if st.st_mtime >= cutoff:
            return None
        os.unlink(f.path)
    except FileNotFoundError:  # someone else removed it meanwhile
        return None
    return st.st_size


# --- is a build of this course running? ----------------------------------------------


def running_builds(state_dir: Path, *, exclude_pid: int | None = None) -> list[SessionRecord]:
    """Builds of the course (``state_dir`` is its ``.clx``) that are running now
    (``clx.pipeline.runtime.build_is_running``). Never creates the queue database."""
    db = state_dir / "clx.db"
    if not db.is_file():
        return []
    from clx.pipeline.runtime import running_builds as running
    from clx.queue.sqlite import SqliteQueue

    with SqliteQueue(db) as q:
        return running(q, exclude_pid=exclude_pid)
