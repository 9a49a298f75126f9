"""How long jobs took, so the next build can start the longest ones first.

With two workers and one deck that takes much longer than the others, the order of
submission decides the build time: if the long deck comes last, one worker runs it
alone at the end while the other idles. Longest-first ordering (LPT) avoids that, but
needs to know which jobs are long *before* they run. This module remembers every
finished job's duration per (source path, output language, job kind) in
``.clx/durations.db`` and turns them into queue priorities. A job never seen before
gets an estimate from its source size and programming language, calibrated on the
jobs of the same kind and language this course has already recorded.

Durations are a scheduling hint only: they never enter a cache key, and a missing or
unreadable store just means submission order. A build focused on some formats, kinds or
tiers records nothing (its jobs have fewer variants than the same jobs of a full build).
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from clx.dbconnect import connect
from clx.pipeline.jobs import PlannedJob
from clx.queue.model import JobRecord, JobState

log = logging.getLogger(__name__)

_SCHEMA = [
    [
        """CREATE TABLE durations (
            source TEXT NOT NULL,       -- relative to the course root
            lang TEXT NOT NULL,         -- output language; '' for diagrams
            kind TEXT NOT NULL,         -- job kind: notebook, plantuml, drawio
            seconds REAL NOT NULL,      -- the last run, claim to completion
            size INTEGER NOT NULL,      -- source bytes at that run
            prog_lang TEXT NOT NULL,    -- '' for diagrams
            PRIMARY KEY (source, lang, kind)
        )""",
    ],
]

# Before a course has any record of a kind and language: seconds for a job of a small
# source, plus seconds per KiB. Kernels other than python start and run cells slower.
_DEFAULT_BASE = {"notebook": 1.0, "notebook-unexecuted": 0.2, "plantuml": 0.2, "drawio": 0.5}
_SLOW_KERNEL_FACTOR = 3.0
_DEFAULT_PER_KIB = 0.1
_MAX_PRIORITY_MS = 2**31 - 1


@dataclass(frozen=True)
class JobIdentity:
    """What a duration is recorded under, and what an estimate is computed from."""

    source: str
    lang: str
    kind: str
    size: int
    prog_lang: str


def identity(p: PlannedJob) -> JobIdentity:
    payload = p.job.payload
    if p.job.kind == "notebook":
        text = payload.get("text", "")
        size = len(text.encode("utf-8")) if isinstance(text, str) else 0
        # A job that runs no kernel (--no-execute, evaluate="no", a missing kernel) takes
        # a fraction of one that does: it is timed apart, not in place of it.
        kind = p.job.kind if payload.get("kernel") else f"{p.job.kind}-unexecuted"
        return JobIdentity(
            p.source_rel,
            str(payload.get("lang", "")),
            kind,
            size,
            str(payload.get("prog_lang", "")),
        )
    size = 0
    if p.diagram is not None:
        with contextlib.suppress(OSError):
            size = p.diagram.file.path.stat().st_size
    return JobIdentity(p.source_rel, "", p.job.kind, size, "")


class DurationStore:
    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / "durations.db"
        self._conn: sqlite3.Connection = connect(self.path, _SCHEMA, name="durations")

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> DurationStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def record(self, items: Iterable[tuple[JobIdentity, float]]) -> None:
        rows = [(i.source, i.lang, i.kind, s, i.size, i.prog_lang) for i, s in items]
        if not rows:
            return
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            self._conn.executemany(
                "INSERT OR REPLACE INTO durations (source, lang, kind, seconds, size, prog_lang) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    def last(self) -> dict[tuple[str, str, str], float]:
        """Every recorded (source, lang, kind) with its last duration in seconds."""
        return {
            (s, lang, k): sec
            for s, lang, k, sec in self._conn.execute(
                "SELECT source, lang, kind, seconds FROM durations"
            )
        }

    def rates(self) -> dict[tuple[str, str], float]:
        """Seconds per source byte per (kind, prog_lang), over everything recorded."""
        return {
            (k, pl): sec / size
            for k, pl, sec, size in self._conn.execute(
                "SELECT kind, prog_lang, sum(seconds), sum(size) FROM durations "
                "GROUP BY kind, prog_lang HAVING sum(size) > 0"
            )
        }


def estimate(i: JobIdentity, rates: Mapping[tuple[str, str], float]) -> float:
    """Expected seconds of a job never recorded: its size at the course's own rate for
    this kind and language, or a fixed guess before there is one."""
    rate = rates.get((i.kind, i.prog_lang))
    if rate is not None:
        return rate * i.size
    base = _DEFAULT_BASE.get(i.kind, 1.0)
    if i.kind == "notebook" and i.prog_lang not in ("", "python"):
        base *= _SLOW_KERNEL_FACTOR
    return base + _DEFAULT_PER_KIB * i.size / 1024


def expected_seconds(planned: list[PlannedJob], store: DurationStore) -> list[float]:
    last, rates = store.last(), store.rates()
    out = []
    for p in planned:
        i = identity(p)
        known = last.get((i.source, i.lang, i.kind))
        out.append(known if known is not None else estimate(i, rates))
    return out


def prioritize(planned: list[PlannedJob], state_dir: Path) -> None:
    """Give every job the priority of its expected duration (milliseconds), so that the
    queue, which hands out the highest priority first, starts the longest jobs first."""
    try:
        with DurationStore(state_dir) as store:
            seconds = expected_seconds(planned, store)
    except (sqlite3.Error, OSError, RuntimeError) as e:
        log.warning("job durations unreadable, jobs run in submission order: %s", e)
        return
    for p, s in zip(planned, seconds, strict=True):
        p.job = replace(p.job, priority=min(_MAX_PRIORITY_MS, max(0, round(s * 1000))))


def job_seconds(job: JobRecord) -> float | None:
    """Claim to completion of a job that ran to an end (not one that was cancelled)."""
    if job.state not in (JobState.SUCCEEDED, JobState.FAILED):
        return None
    if job.started_at is None or job.finished_at is None:
        return None
    return max(0.0, (job.finished_at - job.started_at).total_seconds())


def record_finished(
    planned: list[PlannedJob], finished: Mapping[int, JobRecord], state_dir: Path
) -> None:
    """Remember how long each of this build's jobs took; never fails the build."""
    items = []
    for p in planned:
        job = finished.get(p.job_id) if p.job_id is not None else None
        seconds = job_seconds(job) if job is not None else None
        if seconds is not None:
            items.append((identity(p), seconds))
    try:
        with DurationStore(state_dir) as store:
            store.record(items)
    except (sqlite3.Error, OSError, RuntimeError) as e:
        log.warning("job durations not recorded: %s", e)
