"""The live status document: what ``GET /api/status`` answers and ``GET /events`` pushes.

It is assembled from two read-only sources: the Queue contract's read methods (sessions,
counts, running jobs, finished jobs with their errors, workers) and, when the build runs
in this process, its ``BuildEvents`` (cache hits, start and end of each build). Nothing
here writes to the queue, and nothing depends on the storage engine behind it. The shape
is described by ``docs/live-status.schema.json``.

One collector is used by one thread at a time (the server's poller): a SQLite connection
belongs to the thread that opened it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from clx.queue.base import Queue, SessionRecord
from clx.queue.location import is_server_url, open_queue
from clx.queue.model import JobRecord, JobState, SessionState, format_time, utc_now
from clx.web.events import BuildEvents, BuildRun

SCHEMA = "clx-live-status/1"
FAILED_STATES = (JobState.FAILED, JobState.CANCELLED)


@dataclass(frozen=True)
class CourseInfo:
    """What the page says about the course, and where its outputs are."""

    spec: str  # relative to the course root
    name: str
    output_root: Path
    home_pages: tuple[Path, ...] = ()
    spec_path: Path | None = None  # absolute: picks this spec's builds among all sessions

    def owns(self, s: SessionRecord) -> bool:
        """Is the session a build of this spec? (A queue holds the builds of every spec of
        the course, and a server queue those of other courses too.)"""
        recorded = s.info.get("spec")
        if self.spec_path is None or not isinstance(recorded, str):
            return True
        p = Path(recorded)
        if p.is_absolute():
            return p == self.spec_path or p.resolve() == self.spec_path
        # relative to the build's working folder, which may not be ours: compare the tail
        parts = [x for x in p.parts if x not in (".", "")]
        return ".." not in parts and list(self.spec_path.parts[-len(parts) :]) == parts


def output_link(path: Path, output_root: Path) -> dict[str, str] | None:
    """``{"path", "url"}`` (``/files/<path>``) for a file inside the output root, None for
    anything else: the page links nothing outside it."""
    try:
        rel = path.resolve().relative_to(output_root.resolve())
    except (OSError, ValueError):
        return None
    if not path.is_file():
        return None
    return {
        "path": rel.as_posix(),
        "url": "/files/" + "/".join(quote(part, safe="") for part in rel.parts),
    }


def _time(t: datetime | None) -> str | None:
    return None if t is None else format_time(t)


def _unix(t: float | None) -> str | None:
    return None if t is None else format_time(datetime.fromtimestamp(t, UTC))


def _seconds(start: datetime | None, end: datetime | None, now: datetime) -> float | None:
    if start is None:
        return None
    return round(max(((end or now) - start).total_seconds(), 0.0), 1)


@dataclass
class _JobInfo:
    """Payload facts of one job (they never change): asked once per job."""

    file: str | None
    lang: str | None
    deck: str | None
    labels: dict[str, str] = field(default_factory=dict)  # output path -> variant label


@dataclass
class StatusCollector:
    queue_target: Path | str
    course: CourseInfo
    events: BuildEvents | None = None
    limit_finished: int = 30
    _queue: Queue | None = None
    _session: str | None = None
    _cursor: int = 0
    _finished: dict[int, JobRecord] = field(default_factory=dict)
    _info: dict[int, _JobInfo] = field(default_factory=dict)

    # --- queue access ----------------------------------------------------------------

    def queue(self) -> Queue | None:
        """The queue, opened on first use; None while no build has created it (never
        created here: a status page must not make a database appear)."""
        if self._queue is None:
            if not is_server_url(self.queue_target) and not Path(self.queue_target).is_file():
                return None
            self._queue = open_queue(self.queue_target)
        return self._queue

    def close(self) -> None:
        if self._queue is not None:
            self._queue.close()
            self._queue = None

    def _job_info(self, q: Queue, job_id: int) -> _JobInfo:
        info = self._info.get(job_id)
        if info is None:
            rec = q.get(job_id)
            payload = (rec.payload if rec else None) or {}

            def text(key: str) -> str | None:
                value = payload.get(key)
                return value if isinstance(value, str) else None

            outputs = payload.get("outputs")
            labels = (
                {str(path): str(label) for label, path in outputs.items()}
                if isinstance(outputs, dict)
                else {}
            )
            info = self._info[job_id] = _JobInfo(
                text("file"), text("lang"), text("page_title"), labels
            )
        return info

    def _choose_session(self, q: Queue, sessions: Sequence[SessionRecord]) -> SessionRecord | None:
        """Beside a build: that build's session only (none while it plans, so an older
        build never shows as the current one). Otherwise a running build, else the latest."""
        from clx.pipeline.runtime import build_is_running

        if self.events is not None:
            return next((s for s in sessions if s.info.get("pid") == os.getpid()), None)
        for s in sessions:
            if build_is_running(q, s):  # type: ignore[arg-type]
                return s
        return sessions[0] if sessions else None

    def _follow(self, q: Queue, session: str) -> None:
        """Read the jobs finished since the last poll (one query), remembering them."""
        if session != self._session:
            self._session, self._cursor = session, 0
            self._finished.clear()
            self._info.clear()  # job ids of another build are not asked for again
        batch = q.finished_since(session, self._cursor)
        self._cursor = batch.cursor
        for job in batch.jobs:
            self._finished[job.id] = job

    # --- the document ----------------------------------------------------------------

    def collect(self) -> dict[str, Any]:
        now = utc_now()
        doc: dict[str, Any] = {
            "schema": SCHEMA,
            "generated_at": format_time(now),
            "course": {
                "spec": self.course.spec,
                "name": self.course.name,
                "home_pages": [
                    link
                    for p in self.course.home_pages
                    if (link := output_link(p, self.course.output_root))
                ],
            },
            "build": None,
            "builds": [],
            "kinds": {},
            "running": [],
            "failures": [],
            "finished": [],
            "workers": [],
        }
        runs = self.events.snapshot() if self.events is not None else []
        q = self.queue()
        if q is None:
            doc["build"] = self._build_of_run(runs[-1], None) if runs else None
            doc["builds"] = [self._build_of_run(r, None) for r in reversed(runs)]
            return doc
        sessions = [s for s in q.sessions(limit=50) if self.course.owns(s)][:20]
        current = self._choose_session(q, sessions)
        run = (
            runs[-1]
            if runs and (current is None or current.info.get("pid") == os.getpid())
            else None
        )
        if current is None:  # planning, or every job answered from the cache
            if run is not None:
                doc["build"] = self._build_of_run(run, None)
                doc["builds"] = [self._build_of_run(r, None) for r in reversed(runs)]
                doc["kinds"] = self._kinds({}, [], [], run)
                doc["build"]["failed"] = 0
                doc["failures"] = self._report_only(run, [])
            return doc
        self._follow(q, current.id)
        since = datetime.fromtimestamp(run.started, UTC) if run else current.created_at
        finished = [
            j
            for j in self._finished.values()
            if j.finished_at is not None and j.finished_at >= since
        ]
        running = q.running(current.id)
        workers = q.workers(current.id)
        counts = q.counts(current.id)
        doc["kinds"] = self._kinds(counts, finished, running, run)
        doc["running"] = self._running(q, running, workers)
        doc["failures"] = self._failures(q, finished)
        if run is not None:
            doc["failures"] += self._report_only(run, doc["failures"])
        doc["finished"] = self._recent(q, finished, now)
        doc["workers"] = [
            {
                "id": w.id,
                "kinds": list(w.kinds),
                "state": str(w.state),
                "host": w.host,
                "pid": w.pid,
                "jobs_done": w.jobs_done,
                "current_job": w.current_job,
            }
            for w in workers
        ]
        if run is not None:
            doc["build"] = self._build_of_run(run, current)
            doc["builds"] = [self._build_of_run(r, current) for r in reversed(runs)]
        else:
            doc["build"] = self._build_of_session(q, current, now, doc["kinds"])
            doc["builds"] = [self._build_of_session(q, s, now, None) for s in sessions]
        doc["build"]["failed"] = sum(k["failed"] for k in doc["kinds"].values())
        return doc

    def _kinds(
        self,
        counts: dict[str, dict[JobState, int]],
        finished: list[JobRecord],
        running: list,
        run: BuildRun | None,
    ) -> dict[str, dict[str, int]]:
        kinds = set(counts) | (
            {k for k in run.jobs_by_kind} | set(run.cached_by_kind) if run else set()
        )
        out = {}
        for kind in sorted(kinds):
            mine = [j for j in finished if j.kind == kind]
            by_state = counts.get(kind, {})
            total = run.jobs_by_kind.get(kind, 0) if run else sum(by_state.values())
            out[kind] = {
                "total": total,
                "succeeded": sum(1 for j in mine if j.state is JobState.SUCCEEDED),
                "failed": sum(1 for j in mine if j.state in FAILED_STATES),
                "running": sum(1 for j in running if j.kind == kind),
                "pending": by_state.get(JobState.PENDING, 0),
                "cached": run.cached_by_kind.get(kind, 0) if run else 0,
            }
        return out

    def _running(self, q: Queue, running: list, workers: list) -> list[dict[str, Any]]:
        hosts = {w.id: w.host for w in workers}
        out = []
        for j in sorted(running, key=lambda j: -j.elapsed):
            info = self._job_info(q, j.id)
            out.append(
                {
                    "id": j.id,
                    "kind": j.kind,
                    "file": info.file,
                    "lang": info.lang,
                    "deck": info.deck or (Path(j.outputs[0]).stem if j.outputs else None),
                    "worker": j.worker_id,
                    "host": hosts.get(j.worker_id or ""),
                    "seconds": round(j.elapsed, 1),
                    "attempt": j.attempts,
                }
            )
        return out

    @staticmethod
    def _report_only(run: BuildRun, shown: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The finished build's errors the queue did not have: remembered failures of the
        cache, copies, stalls (once per place and message)."""
        seen = {(f["file"], f["line"], f["message"]) for f in shown}
        out = []
        for p in run.problems:
            key = (p.file, p.line, p.message)
            if key in seen:
                continue
            seen.add(key)
            out.append(
                {
                    "job": None,
                    "kind": None,
                    "state": "failed",
                    "file": p.file,
                    "line": p.line,
                    "variants": list(p.variants),
                    "lang": None,
                    "message": p.message,
                    "category": str(p.category),
                    "detail": p.detail,
                    "at": None,
                }
            )
        return out

    def _failures(self, q: Queue, finished: list[JobRecord]) -> list[dict[str, Any]]:
        out = []
        for job in sorted(finished, key=lambda j: (j.finished_at, j.id)):
            if job.state not in FAILED_STATES:
                continue
            info = self._job_info(q, job.id)
            problems = [p for p in (job.error.problems if job.error else ()) if p.is_error]
            if not problems:
                out.append(
                    {
                        "job": job.id,
                        "kind": job.kind,
                        "state": str(job.state),
                        "file": info.file,
                        "line": None,
                        "variants": [],
                        "lang": info.lang,
                        "message": "job cancelled"
                        if job.state is JobState.CANCELLED
                        else "failed without a message",
                        "category": "infrastructure",
                        "detail": None,
                        "at": _time(job.finished_at),
                    }
                )
            for p in problems:
                out.append(
                    {
                        "job": job.id,
                        "kind": job.kind,
                        "state": str(job.state),
                        "file": p.file or info.file,
                        "line": p.line,
                        "variants": list(p.variants),
                        "lang": info.lang,
                        "message": p.message,
                        "category": str(p.category),
                        "detail": p.detail,
                        "at": _time(job.finished_at),
                    }
                )
        return out

    def _recent(self, q: Queue, finished: list[JobRecord], now: datetime) -> list[dict[str, Any]]:
        newest = sorted(finished, key=lambda j: (j.finished_at, j.id), reverse=True)
        out = []
        for job in newest[: self.limit_finished]:
            info = self._job_info(q, job.id)
            links = []
            for o in job.outputs:
                link = output_link(Path(o), self.course.output_root)
                if link:
                    label = info.labels.get(o, "")
                    # "de/completed/html" -> "completed/html": the row names the language
                    name = label.split("/", 1)[1] if label.count("/") == 2 else Path(o).name
                    links.append({"name": name, **link})
            out.append(
                {
                    "id": job.id,
                    "kind": job.kind,
                    "state": str(job.state),
                    "file": info.file,
                    "lang": info.lang,
                    "deck": info.deck,
                    "seconds": _seconds(job.started_at, job.finished_at, now),
                    "finished_at": _time(job.finished_at),
                    "outputs": links,
                }
            )
        return out

    @staticmethod
    def _build_of_run(run: BuildRun, session: SessionRecord | None) -> dict[str, Any]:
        import time

        ended = run.ended
        return {
            "id": f"{session.id[:8]}#{run.number}" if session else f"#{run.number}",
            "state": "running" if ended is None else "done",
            "ok": run.ok,
            "errors": run.errors,
            "outputs": run.outputs,
            "started_at": _unix(run.started),
            "ended_at": _unix(ended),
            "seconds": round((ended or time.time()) - run.started, 1),
            "jobs": sum(run.jobs_by_kind.values()),
            "cached": sum(run.cached_by_kind.values()),
        }

    @staticmethod
    def _build_of_session(
        q: Queue, s: SessionRecord, now: datetime, kinds: dict[str, dict[str, int]] | None
    ) -> dict[str, Any]:
        from clx.pipeline.runtime import build_is_running

        done = s.state is SessionState.CLOSED or not build_is_running(q, s)  # type: ignore[arg-type]
        failed = sum(k["failed"] for k in kinds.values()) if kinds is not None else None
        return {
            "id": s.id[:8],
            "state": "done" if done else "running",
            "ok": (failed == 0) if done and failed is not None else None,
            "errors": failed or 0,
            "outputs": None,
            "started_at": _time(s.created_at),
            "ended_at": _time(s.closed_at),
            "seconds": _seconds(s.created_at, s.closed_at, now),
            "jobs": sum(k["total"] for k in kinds.values()) if kinds is not None else None,
            "cached": None,
        }
