"""Which third-party modules the kernel fork server preloads for a course.

A cold build of a real Python course spends much of its kernel time importing the same
libraries (pandas, matplotlib) in every fresh kernel. Each executed Python notebook
reports the third-party modules it imported (``clx.notebooks.imports``); this module
keeps them per notebook in ``.clx/preload.json`` and hands the union to the next
build's notebook jobs, whose workers have their fork server import them once
(``clx.notebooks.zygote``). The list is a hint for speed only: it is not part of any
cache key, a change re-runs nothing, a stale entry costs an import that fails quietly,
and every notebook still runs in a fresh kernel process.

The file is rewritten atomically at the end of a build, in a deterministic order. A
notebook's entry is replaced whenever it ran successfully, kept while its result comes
from the cache, and dropped when a build of the whole course no longer plans it.
``CLX_PRELOAD=0`` hands out nothing (the record is still kept).
"""

from __future__ import annotations

import json
import logging
import os
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from clx.pipeline.jobs import PlannedJob
from clx.queue.model import JobRecord, JobState
from clx.store import atomic_write

log = logging.getLogger(__name__)

FILE_NAME = "preload.json"
MAX_MODULES = 500  # per course: the most used names win, top-level before submodules
_VERSION = 1


def _python_jobs(planned: Iterable[PlannedJob]) -> list[PlannedJob]:
    return [
        p
        for p in planned
        if p.job.kind == "notebook"
        and p.job.payload.get("prog_lang") == "python"
        and p.job.payload.get("execute")
    ]


class CoursePreload:
    """The record of one course (``<state dir>/preload.json``)."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / FILE_NAME
        self.notebooks: dict[str, list[str]] = {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if data.get("version") == _VERSION:
                self.notebooks = {
                    str(k): [str(m) for m in v] for k, v in dict(data["notebooks"]).items()
                }
        except FileNotFoundError:
            pass
        except (OSError, ValueError, TypeError, KeyError, AttributeError) as e:
            log.info("ignoring the unreadable preload list %s: %s", self.path, e)

    def modules(self) -> list[str]:
        """The course's list, sorted; at most ``MAX_MODULES`` names."""
        counts = Counter(m for mods in self.notebooks.values() for m in set(mods))
        ranked = sorted(counts, key=lambda m: (-counts[m], m.count("."), m))
        return sorted(ranked[:MAX_MODULES])

    def hand_to(self, planned: Iterable[PlannedJob]) -> None:
        """Put the list into the payload of every executed Python notebook job (after the
        cache keys were computed: the key never sees it, see ``JobPlanner.as_seen``)."""
        if os.environ.get("CLX_PRELOAD", "1") == "0":
            return
        modules = self.modules()
        if modules:
            for p in _python_jobs(planned):
                p.job.payload["preload"] = modules

    def learn(
        self, planned: Iterable[PlannedJob], finished: Mapping[int, JobRecord], *, complete: bool
    ) -> None:
        """Take what this build's notebook jobs reported; ``complete``: the build planned
        the whole course, so notebooks it did not plan are gone."""
        jobs = _python_jobs(planned)
        fresh: dict[str, set[str]] = {}
        for p in jobs:
            job = finished.get(p.job_id) if p.job_id is not None else None
            reported = _reported(job)
            if reported is not None:
                fresh.setdefault(p.source_rel, set()).update(reported)
        for source, mods in fresh.items():
            self.notebooks[source] = sorted(mods)
        if complete:
            planned_sources = {p.source_rel for p in jobs}
            self.notebooks = {s: m for s, m in self.notebooks.items() if s in planned_sources}

    def save(self) -> None:
        """Write the record atomically (only if it changed); raises OSError."""
        if not self.notebooks and not self.path.exists():
            return
        data = {"version": _VERSION, "notebooks": dict(sorted(self.notebooks.items()))}
        atomic_write(self.path, (json.dumps(data, indent=1, sort_keys=True) + "\n").encode())


def _reported(job: JobRecord | None) -> list[str] | None:
    if job is None or job.state is not JobState.SUCCEEDED:
        return None
    info: Any = (job.result or {}).get("info") or {}
    modules = info.get("modules") if isinstance(info, dict) else None
    if not isinstance(modules, list):
        return None
    return [m for m in modules if isinstance(m, str)]


def forget(state_dir: Path) -> bool:
    """Remove a course's record (``clx cache clear``); True if there was one."""
    try:
        (state_dir / FILE_NAME).unlink()
    except FileNotFoundError:
        return False
    return True
