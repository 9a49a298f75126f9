"""Which files in the output folder clx owns, so stale ones can go and others stay.

The output folder is never wiped: a git checkout or an author's own files may live
there. Only files listed in the previous build's manifest and not produced again are
deleted; anything inside a ``.git`` folder is never touched.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from clx.store import atomic_write

log = logging.getLogger(__name__)


def read_manifest(path: Path) -> set[str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return set()
    return {str(p) for p in data.get("files", [])}


def write_manifest(path: Path, files: set[str]) -> None:
    doc = {"generator": "clx", "files": sorted(files)}
    atomic_write(path, (json.dumps(doc, indent=1, ensure_ascii=False) + "\n").encode("utf-8"))


def sweep(output_root: Path, previous: set[str], current: set[str]) -> list[str]:
    """Delete files clx produced before but not now; returns their relative paths."""
    removed = []
    for rel in sorted(previous - current):
        if ".git" in Path(rel).parts:
            continue
        p = output_root / rel
        try:
            p.unlink()
            removed.append(rel)
        except FileNotFoundError:
            continue
        except OSError as e:
            log.warning("cannot remove stale output %s: %s", p, e)
            continue
        _prune_empty_dirs(p.parent, output_root)
    return removed


def _prune_empty_dirs(folder: Path, stop: Path) -> None:
    while folder != stop and stop in folder.parents:
        try:
            os.rmdir(folder)  # only succeeds when empty
        except OSError:
            return
        folder = folder.parent
