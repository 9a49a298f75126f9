"""Which files in the output folder clx owns, so stale ones can go and others stay.

The output folder is never wiped: a git checkout or an author's own files may live
there. Several specs of one course may build into the same output folder, so the
manifest keeps one file list per spec (keyed by the spec's path relative to the course
root): a build deletes only files that its own spec produced before and does not
produce now, never a file another spec still lists. Anything inside a ``.git`` folder
is never touched.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from clx.store import atomic_write

log = logging.getLogger(__name__)

# Files of a manifest written before it was kept per spec: nobody's, so never swept.
UNASSIGNED = ""


def read_manifest(path: Path) -> dict[str, set[str]]:
    """{spec key: relative paths}; a missing or unreadable manifest is empty."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    out = {str(k): {str(p) for p in v} for k, v in (data.get("specs") or {}).items()}
    if data.get("files"):  # the single list of older versions
        out.setdefault(UNASSIGNED, set()).update(str(p) for p in data["files"])
    return out


def write_manifest(path: Path, specs: dict[str, set[str]]) -> None:
    doc = {"generator": "clx", "specs": {k: sorted(v) for k, v in sorted(specs.items()) if v}}
    atomic_write(path, (json.dumps(doc, indent=1, ensure_ascii=False) + "\n").encode("utf-8"))


def update_manifest(
    path: Path,
    spec_key: str,
    produced: set[str],
    *,
    sweep_stale: bool,
    owned_prefixes: tuple[str, ...] = (),
    failed: list[tuple[str, str]] | None = None,
) -> list[str]:
    """Record what ``spec_key`` produced; with ``sweep_stale`` delete what it produced
    before and not now (unless another spec lists it). Returns the deleted paths.

    Files of an older, unassigned manifest that lie under ``owned_prefixes`` (the
    spec's course folders) are adopted by the spec; the rest stay unassigned. Stale files
    that cannot be removed are added to ``failed`` as (relative path, why); a manifest
    that cannot be written raises OSError naming it.
    """
    specs = read_manifest(path)
    previous = set(specs.get(spec_key, set()))
    legacy = specs.pop(UNASSIGNED, set())
    adopted = {rel for rel in legacy if rel.startswith(owned_prefixes)} if owned_prefixes else set()
    previous |= adopted
    if legacy - adopted:
        specs[UNASSIGNED] = legacy - adopted
    output_root = path.parent
    removed: list[str] = []
    current = set(produced)
    if sweep_stale:
        others = set().union(*(v for k, v in specs.items() if k != spec_key))
        removed = sweep(output_root, previous - others, current, failed)
    else:
        current |= {rel for rel in previous if (output_root / rel).exists()}
    specs[spec_key] = current
    if any(specs.values()) or path.exists():
        write_manifest(path, specs)
    return removed


def sweep(
    output_root: Path,
    previous: set[str],
    current: set[str],
    failed: list[tuple[str, str]] | None = None,
) -> list[str]:
    """Delete files clx produced before but not now; returns their relative paths.

    A file that cannot be removed goes to ``failed`` (relative path, why), not to the log:
    the build reports it."""
    removed = []
    for rel in sorted(previous - current):
        if ".git" in Path(rel).parts:
            continue
        p = output_root / rel
        try:
            p.unlink()
            removed.append(rel)
        except (FileNotFoundError, NotADirectoryError):
            continue
        except OSError as e:
            if failed is not None:
                failed.append((rel, e.strerror or str(e)))
            else:
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
