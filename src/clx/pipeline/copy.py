"""Copies done by the build itself: data files, dir-groups and placed diagram renders.

Copies are cheap file I/O, so they never go through the queue; each one is written
atomically and only when its bytes change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from clx.course.outputs import CopyOutput
from clx.problems import Problem
from clx.store import atomic_write


@dataclass
class CopyResult:
    written: int = 0
    unchanged: int = 0
    errors: list[Problem] = field(default_factory=list)


def copy_files(copies: list[CopyOutput], result: CopyResult | None = None) -> CopyResult:
    """Copy each planned file; a failure is reported per file and the rest go on."""
    result = result or CopyResult()
    cache: dict[Path, bytes] = {}
    for cp in copies:
        try:
            data = cache.get(cp.source)
            if data is None:
                data = cache[cp.source] = cp.source.read_bytes()
            changed = atomic_write(cp.target, data)
        except OSError as e:
            result.errors.append(Problem(
                f"copy failed: {e.strerror or e}", file=cp.source_rel, target=str(cp.target),
            ))
            continue
        if changed:
            result.written += 1
        else:
            result.unchanged += 1
    return result


def place_render(
    data: bytes, targets: list[Path], source_rel: str, result: CopyResult
) -> None:
    """Put one rendered image into every variant folder that shows it."""
    for t in targets:
        try:
            if atomic_write(t, data):
                result.written += 1
            else:
                result.unchanged += 1
        except OSError as e:
            result.errors.append(Problem(
                f"writing render failed: {e.strerror or e}", file=source_rel, target=str(t)
            ))
