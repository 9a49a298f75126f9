"""`clx status`, `clx jobs …`, `clx workers …`: what the queue and the workers are doing.

They read ``<course root>/.clx/clx.db`` through the Queue API and never create it. A build
is a session: a running build (or ``--watch``) has an open session whose build process
is alive; these commands look at the running builds, or at the latest build when none runs.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from clx.cli.course_paths import course_root, spec_path
from clx.cli.errors import EXIT_OK, UsageError
from clx.pipeline.runtime import build_is_running as running_build
from clx.queue.base import Queue, SessionRecord
from clx.queue.location import redact
from clx.queue.model import JobRecord, JobState, SessionState, WorkerRecord, utc_now
from clx.queue.sqlite import SqliteQueue

STATES = [str(s) for s in JobState]
UNFINISHED = (JobState.PENDING, JobState.RUNNING)


def open_queue(args: argparse.Namespace) -> Queue:
    url = getattr(args, "queue", None) or os.environ.get("CLX_QUEUE_URL")
    if url:
        from clx.queue.postgres import PostgresQueue

        try:
            return PostgresQueue(url, reconnect_timeout=5.0)
        except Exception as e:
            raise UsageError(f"cannot open the queue {redact(url)}: {e}") from e
    if getattr(args, "spec", None) is None:
        raise UsageError("name the course's spec file, or the queue with --queue URL")
    spec = spec_path(args)
    db = course_root(args, spec) / ".clx" / "clx.db"
    if not db.is_file():
        raise UsageError(
            f"no build has run for this course yet ({db} does not exist); "
            f"start one with: clx build {spec}"
        )
    try:
        return SqliteQueue(db)
    except Exception as e:  # a newer schema, a damaged file: say which file
        raise UsageError(f"cannot open {db}: {e}") from e


def select_sessions(
    q: Queue, args: argparse.Namespace, *, running_only: bool = False, builds_only: bool = False
) -> list[SessionRecord]:
    """``--session`` (an id or unique prefix), else the running builds, else the latest.
    ``builds_only``: leave out the sessions of `clx worker` pools, which hold workers but
    no jobs (`clx workers list` shows them)."""
    sessions = [s for s in q.sessions() if not (builds_only and s.info.get("worker_pool"))]
    wanted = getattr(args, "session", None)
    if wanted:
        found = [s for s in sessions if s.id.startswith(wanted)]
        if len(found) != 1:
            raise UsageError(
                f"--session {wanted}: "
                + ("no such build" if not found else f"{len(found)} builds match; give more digits")
            )
        if running_only and not running_build(q, found[0]):
            raise UsageError(f"build {found[0].id[:8]} is not running")
        return found
    running = [s for s in sessions if running_build(q, s)]
    if running or running_only:
        return running
    return sessions[:1]


def _no_running_build(what: str, args: argparse.Namespace) -> UsageError:
    return UsageError(
        f"no build is running for this course, so there is nothing to {what}; "
        f"a new build runs failed jobs again: clx build {args.spec} "
        "(add --retry-failed for content errors)"
    )


# --- formatting ------------------------------------------------------------------------


def _ago(t: datetime | None, now: datetime) -> str:
    if t is None:
        return "never"
    secs = max((now - t).total_seconds(), 0.0)
    if secs < 90:
        return f"{secs:.1f} s ago"
    if secs < 5400:
        return f"{secs / 60:.0f} min ago"
    return f"{secs / 3600:.1f} h ago"


def _local(t: datetime | None) -> str:
    return "-" if t is None else t.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def _session_label(q: Queue, s: SessionRecord) -> str:
    state = (
        "running"
        if running_build(q, s)
        else ("open, build process gone" if s.state is SessionState.OPEN else "finished")
    )
    bits = [state]
    if s.info.get("mode"):
        bits.append(str(s.info["mode"]))
    if s.info.get("spec"):
        bits.append(str(s.info["spec"]))
    bits.append(f"started {_local(s.created_at)}")
    if s.closed_at:
        bits.append(f"ended {_local(s.closed_at)}")
    return f"build {s.id[:8]} ({', '.join(bits)})"


def _table(rows: Sequence[Sequence[str]], right: Iterable[int] = ()) -> list[str]:
    right = set(right)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return [
        "  "
        + "  ".join(
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        ).rstrip()
        for r in rows
    ]


def _source(q: Queue, job: JobRecord) -> tuple[str, str]:
    """The job's source file and output language ("-" for diagrams): a notebook has one
    job per language, so the file alone would list two identical rows."""
    full = q.get(job.id)
    payload = (full.payload or {}) if full else {}
    lang = payload.get("lang") if isinstance(payload.get("lang"), str) else "-"
    if job.error is not None:
        for p in job.error.problems:
            if p.file:
                return p.file, lang
    file = payload.get("file")
    if isinstance(file, str):
        return file, lang
    return (job.outputs[0] if job.outputs else "-"), lang


def _duration(job: JobRecord, now: datetime) -> str:
    if job.started_at is None:
        return "-"
    end = job.finished_at or now
    return f"{max((end - job.started_at).total_seconds(), 0.0):.1f} s"


def _job_dict(q: Queue, job: JobRecord, now: datetime) -> dict[str, Any]:
    source, lang = _source(q, job)
    return {
        "id": job.id,
        "session": job.session,
        "kind": job.kind,
        "state": str(job.state),
        "attempts": job.attempts,
        "max_attempts": job.max_attempts,
        "worker": job.worker_id,
        "source": source,
        "lang": None if lang == "-" else lang,
        "outputs": list(job.outputs),
        "started_at": job.started_at.isoformat() if job.started_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        "problems": [p.to_dict() for p in job.error.problems] if job.error else [],
    }


def _worker_dict(w: WorkerRecord, now: datetime) -> dict[str, Any]:
    return {
        "id": w.id,
        "session": w.session,
        "kinds": list(w.kinds),
        "state": str(w.state),
        "pid": w.pid,
        "host": w.host,
        "current_job": w.current_job,
        "jobs_done": w.jobs_done,
        "heartbeat_age_seconds": None
        if w.heartbeat_at is None
        else round(max((now - w.heartbeat_at).total_seconds(), 0.0), 3),
        "error": [p.to_dict() for p in w.error.problems] if w.error else [],
    }


def _worker_rows(q: Queue, workers: list[WorkerRecord], now: datetime) -> list[str]:
    if not workers:
        return ["  (no workers)"]
    # Workers started by clx record their host; the column shows where each one runs.
    hosts = any(w.host for w in workers)
    rows = [["worker", "state", "heartbeat", "done", "current job", *(["host"] if hosts else [])]]
    for w in workers:
        current = "-"
        if w.current_job is not None:
            job = q.get(w.current_job)
            current = f"{w.current_job} {' '.join(_source(q, job))}" if job else str(w.current_job)
        host = [w.host or "-"] if hosts else []
        rows.append(
            [w.id, str(w.state), _ago(w.heartbeat_at, now), str(w.jobs_done), current, *host]
        )
    lines = _table(rows, right=[3])
    for w in workers:
        if w.error:
            lines += [f"  {w.id}: {p.message}" for p in w.error.problems]
    return lines


def _print_json(doc: Any) -> None:
    print(json.dumps(doc, indent=1, ensure_ascii=False))


# --- clx status ------------------------------------------------------------------------


def status(args: argparse.Namespace) -> int:
    with open_queue(args) as q:
        sessions = select_sessions(q, args, builds_only=True)
        now = utc_now()
        if not sessions:
            print("no builds recorded")
            return EXIT_OK
        docs = []
        for s in sessions:
            counts = q.counts(s.id)
            failed = q.jobs(s.id, states=[JobState.FAILED])
            failed.sort(key=lambda j: (j.finished_at or now, j.id), reverse=True)
            recent = failed[: args.failures]
            workers = q.workers(s.id)
            if args.output == "json":
                docs.append(
                    {
                        "session": s.id,
                        "state": str(s.state),
                        "running": running_build(q, s),
                        "info": s.info,
                        "created_at": s.created_at.isoformat(),
                        "closed_at": s.closed_at.isoformat() if s.closed_at else None,
                        "counts": {
                            k: {str(st): n for st, n in c.items()}
                            for k, c in sorted(counts.items())
                        },
                        "workers": [_worker_dict(w, now) for w in workers],
                        "failures": [_job_dict(q, j, now) for j in recent],
                        "failed_total": len(failed),
                    }
                )
                continue
            _print_session(q, s, counts, workers, failed, recent, now)
        if args.output == "json":
            _print_json({"builds": docs})
    return EXIT_OK


def _print_session(
    q: Queue,
    s: SessionRecord,
    counts: dict,
    workers: list[WorkerRecord],
    failed: list[JobRecord],
    recent: list[JobRecord],
    now: datetime,
) -> None:
    print(_session_label(q, s))
    if counts:
        rows = [["kind", *STATES, "total"]]
        totals = dict.fromkeys(JobState, 0)
        for kind, c in sorted(counts.items()):
            rows.append([kind, *(str(c[st]) for st in JobState), str(sum(c.values()))])
            for st in JobState:
                totals[st] += c[st]
        if len(counts) > 1:
            rows.append(["all", *(str(totals[st]) for st in JobState), str(sum(totals.values()))])
        print("jobs:")
        print("\n".join(_table(rows, right=range(1, len(STATES) + 2))))
    else:
        print("jobs: none (everything came from the cache)")
    print(f"workers ({len(workers)}):")
    print("\n".join(_worker_rows(q, workers, now)))
    if failed:
        print(f"failures ({len(recent)} of {len(failed)}, newest first):")
        for job in recent:
            problems = [p for p in (job.error.problems if job.error else ()) if p.is_error]
            if not problems:
                print(f"  job {job.id} ({job.kind}): failed without a message")
            for p in problems:
                print(f"  job {job.id}: {p.format()}")
    print()


# --- clx jobs …------------------------------------------------------------------------


def _states(values: list[str] | None) -> list[JobState] | None:
    if not values:
        return None
    items = [v.strip() for raw in values for v in raw.split(",") if v.strip()]
    bad = sorted(set(items) - set(STATES))
    if bad:
        raise UsageError(
            f"--state: unknown value(s) {', '.join(bad)}; choose from {', '.join(STATES)}"
        )
    return [JobState(v) for v in items]


def jobs_list(args: argparse.Namespace) -> int:
    with open_queue(args) as q:
        now = utc_now()
        states = _states(args.state)
        kinds = [k.strip() for raw in args.kind or () for k in raw.split(",") if k.strip()] or None
        jobs: list[JobRecord] = []
        for s in select_sessions(q, args, builds_only=True):
            jobs += q.jobs(s.id, states=states, kinds=kinds)
        shown = jobs[-args.limit :] if args.limit else jobs
        if args.output == "json":
            _print_json({"jobs": [_job_dict(q, j, now) for j in shown], "total": len(jobs)})
            return EXIT_OK
        if not jobs:
            print("no jobs")
            return EXIT_OK
        rows = [["id", "kind", "lang", "state", "tries", "time", "source"]]
        for j in shown:
            source, lang = _source(q, j)
            rows.append(
                [
                    str(j.id),
                    j.kind,
                    lang,
                    str(j.state),
                    f"{j.attempts}/{j.max_attempts}",
                    _duration(j, now),
                    source,
                ]
            )
        print("\n".join(_table(rows, right=[0, 4, 5])))
        if len(shown) < len(jobs):
            print(f"  … {len(jobs) - len(shown)} earlier job(s) not shown (--limit 0 shows all)")
    return EXIT_OK


def _running_session_ids(q: Queue, args: argparse.Namespace, what: str) -> list[str]:
    sessions = select_sessions(q, args, running_only=True, builds_only=True)
    if not sessions:
        raise _no_running_build(what, args)
    return [s.id for s in sessions]


def _by_session(q: Queue, ids: list[int], allowed: list[str]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for job_id in ids:
        job = q.get(job_id)
        if job is None:
            raise UsageError(f"no job {job_id}")
        if job.session not in allowed:
            raise UsageError(f"job {job_id} belongs to a build that is not running")
        out.setdefault(job.session, []).append(job_id)
    return out


def jobs_retry(args: argparse.Namespace) -> int:
    with open_queue(args) as q:
        sessions = _running_session_ids(q, args, "retry")
        retried: list[int] = []
        if args.ids:
            for session, ids in _by_session(q, args.ids, sessions).items():
                retried += q.retry(session, ids)
        else:
            for session in sessions:
                retried += q.retry(session)
        print(
            f"{len(retried)} job(s) queued again"
            + (f": {', '.join(map(str, retried))}" if retried else "")
        )
    return EXIT_OK


def jobs_cancel(args: argparse.Namespace) -> int:
    with open_queue(args) as q:
        sessions = _running_session_ids(q, args, "cancel")
        n = 0
        if args.ids:
            for session, ids in _by_session(q, args.ids, sessions).items():
                n += q.cancel(session, ids)
        else:
            for session in sessions:
                n += q.cancel(session)
        print(f"{n} job(s) cancelled")
    return EXIT_OK


# --- clx workers …---------------------------------------------------------------------


def workers_list(args: argparse.Namespace) -> int:
    with open_queue(args) as q:
        now = utc_now()
        sessions = q.sessions() if args.all else select_sessions(q, args)
        workers = [w for s in sessions for w in q.workers(s.id)]
        if args.output == "json":
            _print_json({"workers": [_worker_dict(w, now) for w in workers]})
            return EXIT_OK
        for s in sessions:
            print(_session_label(q, s))
            print("\n".join(_worker_rows(q, q.workers(s.id), now)))
    return EXIT_OK




def workers_stop(args: argparse.Namespace) -> int:
    """Close the running builds' sessions and cancel their unfinished jobs.

    Workers leave as soon as they have no job and see the session closed; a cancelled
    running job is abandoned at the worker's next heartbeat. The build itself then ends
    and reports the cancelled jobs (exit status 1).
    """
    with open_queue(args) as q:
        sessions = _running_session_ids(q, args, "stop")
        cancelled = 0
        for s in sessions:
            q.close_session(s)
            cancelled += q.cancel(s)
        mine = [w.id for s in sessions for w in q.workers(s) if not w.state.gone]
        print(f"asked {len(mine)} worker(s) to stop; {cancelled} unfinished job(s) cancelled")
        deadline = time.monotonic() + args.timeout
        left = mine
        while left and time.monotonic() < deadline:
            time.sleep(0.1)
            states = {w.id: w.state for s in sessions for w in q.workers(s)}
            left = [w for w in mine if not (w in states and states[w].gone)]
        if left:
            print(f"still running after {args.timeout:g} s: {', '.join(left)}")
            return 1
        if mine:
            print("all stopped")
    return EXIT_OK
