"""The Queue contract on one SQLite file shared by the build, its workers and its pool.

SQLite has a single writer at a time, which makes every write statement atomic with
respect to all other processes. The claim therefore needs no row locks: one
``UPDATE … WHERE id IN (SELECT … LIMIT n) RETURNING …`` selects and leases in one step.
Multi-statement writes run in ``BEGIN IMMEDIATE`` transactions, which take the write
lock before reading, so no write ever builds on a stale snapshot.

One SqliteQueue object per thread: the connection is not shared, and it is reopened if
the object finds itself in a different process than the one that opened it.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta
from itertools import chain
from pathlib import Path
from typing import Any

import orjson

from clx.problems import Category
from clx.queue.base import Queue, SessionRecord
from clx.queue.checkpoint import BackgroundCheckpoint, commit_without_checkpoint
from clx.queue.connection import BUSY_TIMEOUT_SECONDS, connect
from clx.queue.model import (
    DEFAULT_LEASE_SECONDS,
    UNSET,
    ClaimedJob,
    Completion,
    FinishedJobs,
    JobError,
    JobRecord,
    JobState,
    NewJob,
    RunningJob,
    SessionState,
    Unset,
    WorkerRecord,
    WorkerState,
    format_time,
    parse_time,
    utc_now,
)
from clx.queue.rows import JSON_OPTIONS as _JSON_OPTIONS
from clx.queue.rows import decode as _decode
from clx.queue.rows import dump_optional as _dump_optional
from clx.queue.rows import encode as _encode
from clx.queue.rows import job_record
from clx.queue.rows import load_error as _load_error

# Enqueues of at least this many new jobs leave the WAL checkpoint to a background thread
# (see clx.queue.checkpoint); smaller ones rarely fill the log and commit as usual.
_BACKGROUND_CHECKPOINT_JOBS = 1_000

# Keep IN lists well below SQLite's host-parameter limit.
_CHUNK = 500

# Job rows carry the session's integer key; queries join the sessions table for its id.
_JOB_COLUMNS = (
    "j.id, s.id, j.kind, j.state, j.priority, j.cache_key, j.outputs, j.attempts, "
    "j.max_attempts, j.worker_id, j.lease_token, j.lease_expires, j.not_before, j.result, "
    "j.error, j.created_at, j.started_at, j.finished_at"
)
_JOB_FROM = "FROM jobs j JOIN sessions s ON s.key = j.session_key"
_SESSION_KEY = "(SELECT key FROM sessions WHERE id = ?)"

# A session's jobs, reached through the index that holds each state. There is no index
# on session_key alone: every enqueued row would pay for it. ?1 is the session's key.
# Every row is in exactly one part (a CHECK ties finished_seq to the final states); the
# running part scans all running jobs, which are never more than the workers hold.
_SESSION_PARTS = {
    "pending": "SELECT {} FROM jobs INDEXED BY jobs_claim "
    "WHERE session_key = ?1 AND state = 'pending'",
    "running": "SELECT {} FROM jobs INDEXED BY jobs_lease "
    "WHERE state = 'running' AND session_key = ?1",
    "finished": "SELECT {} FROM jobs WHERE session_key = ?1 AND finished_seq IS NOT NULL",
}


def _parts(states: Iterable[JobState]) -> list[str]:
    """The parts of ``_SESSION_PARTS`` that hold jobs in ``states``."""
    wanted = {str(s) if s in (JobState.PENDING, JobState.RUNNING) else "finished" for s in states}
    return [part for part in _SESSION_PARTS if part in wanted]


def _session_rows(columns: str, parts: Iterable[str] = tuple(_SESSION_PARTS)) -> str:
    """UNION ALL of ``parts`` of a session's jobs, selecting ``columns``."""
    selects = [_SESSION_PARTS[part].format(columns) for part in parts]
    return " UNION ALL ".join(selects) or f"SELECT {columns} FROM jobs WHERE false"


_JOB_INSERT = (
    "INSERT INTO jobs (session_key, created_at, kind, priority, payload, cache_key, outputs, "
    "max_attempts) VALUES "
)
# A job as enqueue_many lays it out, flat: kind, priority, payload JSON, cache_key,
# outputs JSON, max_attempts. The session key and the time are the same for every row of
# one enqueue and are written into the statement text instead.
_ROW_WIDTH = 6

# What makes two jobs the same work: kind, cache key and the outputs as stored (JSON).
_Identity = tuple[str, str, str]


def _rows_per_insert(wanted: int = 200) -> int:
    """Rows per INSERT statement of a bulk enqueue.

    Executing a statement costs about as much as inserting a row, so many rows share one
    execution (200 measured best; more gains nothing). Capped for SQLite builds with the
    old limit of 999 parameters per statement.
    """
    conn = sqlite3.connect(":memory:")
    try:
        limit = conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    finally:
        conn.close()
    return max(1, min(wanted, limit // _ROW_WIDTH))


_ROWS_PER_INSERT = _rows_per_insert()


def _insert_sql(key: int, now: str, rows: int) -> str:
    """INSERT of ``rows`` jobs of session ``key`` created at ``now``.

    Both constants are written into the text (an int and a timestamp clx formatted
    itself, so nothing to escape): binding them as parameters meant copying every
    statement's parameters once more into a new tuple, a tenth of a bulk enqueue.
    """
    values = f"({key}, '{now}', ?, ?, ?, ?, ?, ?)"
    return _JOB_INSERT + ",".join([values] * rows)


_FINISH = (
    "UPDATE jobs SET state = ?, result = ?, error = ?, lease_expires = NULL, "
    "not_before = NULL, finished_at = ?, finished_seq = ? WHERE id = ?"
)


def _pending_twin(db: sqlite3.Connection, key: int, identity: _Identity) -> int | None:
    """The id of the pending job of session ``key`` doing the same work, if any.

    Scans the session's pending jobs of that kind in the claim index. Only retries and
    releases ask, one job at a time; bulk enqueues load the pending jobs once instead.
    """
    row = db.execute(
        "SELECT id FROM jobs INDEXED BY jobs_claim WHERE session_key = ? AND kind = ? "
        "AND state = 'pending' AND cache_key = ? AND outputs = ? LIMIT 1",
        (key, *identity),
    ).fetchone()
    return None if row is None else row[0]


def _distinct(
    jobs: Sequence[NewJob], outputs: Sequence[str]
) -> tuple[list[int] | None, Sequence[int]]:
    """The jobs of one enqueue that are distinct work.

    Returns, per job, its position among the distinct jobs (None when every job is
    distinct) and the position of each distinct job in ``jobs``. Jobs that share no cache
    key are distinct, which a set of the keys tells at C speed; only a batch with shared
    keys compares kind and outputs too.
    """
    if len({j.cache_key for j in jobs}) == len(jobs):
        return None, range(len(jobs))
    first: dict[_Identity, int] = {}
    slots: list[int] = []
    firsts: list[int] = []
    for i, (j, out) in enumerate(zip(jobs, outputs, strict=True)):
        slot = first.setdefault((j.kind, j.cache_key, out), len(firsts))
        if slot == len(firsts):
            firsts.append(i)
        slots.append(slot)
    return slots, firsts


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _marks(n: int) -> str:
    return ",".join("?" * n)


def _job_record(row: Sequence[Any], payload: str | None = None) -> JobRecord:
    return job_record(row, parse_time, payload)


class SqliteQueue(Queue):
    """Queue on a SQLite file.

    ``clock`` supplies the current UTC time (tests pass a controllable one);
    ``backoff_base``/``backoff_max`` shape the retry delay after an infrastructure
    failure: base · 2^(attempt-1), capped.
    """

    def __init__(
        self,
        path: Path | str,
        *,
        clock: Callable[[], datetime] = utc_now,
        backoff_base: float = 1.0,
        backoff_max: float = 60.0,
        busy_timeout: float = BUSY_TIMEOUT_SECONDS,
    ) -> None:
        self.path = Path(path)
        self.clock = clock
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self._busy_timeout = busy_timeout
        self._conn: sqlite3.Connection | None = None
        self._pid = 0
        self._checkpoints = BackgroundCheckpoint(
            lambda: connect(self.path, busy_timeout=self._busy_timeout)
        )
        self._db()  # open and migrate now, so a bad path fails where it was given

    # --- plumbing ----------------------------------------------------------------------

    def _db(self) -> sqlite3.Connection:
        if self._conn is None or self._pid != os.getpid():
            self._conn = connect(self.path, busy_timeout=self._busy_timeout)
            self._pid = os.getpid()
        return self._conn

    @contextmanager
    def _write(self, *, checkpoint: bool = True) -> Iterator[sqlite3.Connection]:
        """A write transaction; ``checkpoint=False`` commits it without SQLite's automatic
        checkpoint and runs that in the background instead."""
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        if checkpoint:
            db.execute("COMMIT")
        else:
            commit_without_checkpoint(db)
            self._checkpoints.start()

    @staticmethod
    def _key(db: sqlite3.Connection, session: str) -> int | None:
        row = db.execute("SELECT key FROM sessions WHERE id = ?", (session,)).fetchone()
        return None if row is None else row[0]

    def _now(self) -> datetime:
        return self.clock()

    def _backoff(self, attempts: int) -> float:
        return min(self.backoff_base * 2 ** max(attempts - 1, 0), self.backoff_max)

    @staticmethod
    def _next_seq(db: sqlite3.Connection, n: int) -> int:
        """Reserve ``n`` consecutive finish numbers; returns the first."""
        end = db.execute(
            "UPDATE sequences SET value = value + ? WHERE name = 'finished' RETURNING value", (n,)
        ).fetchone()[0]
        return end - n + 1

    def _finish(
        self,
        db: sqlite3.Connection,
        rows: Sequence[tuple[int, JobState, str | None, str | None]],
        now: str,
    ) -> None:
        """Move jobs to a final state: rows of (id, state, result JSON, error JSON)."""
        if not rows:
            return
        seq = self._next_seq(db, len(rows))
        db.executemany(
            _FINISH,
            [
                (str(state), result, error, now, seq + i, job_id)
                for i, (job_id, state, result, error) in enumerate(rows)
            ],
        )

    @staticmethod
    def _to_pending(
        db: sqlite3.Connection, job_id: int, assignments: str, params: Sequence[Any]
    ) -> bool:
        """Move a running or finished job back to pending, unless an identical job is
        pending already.

        Returns False in that case and leaves the job alone: the pending twin does the work.
        """
        key, kind, cache_key, outputs = db.execute(
            "SELECT session_key, kind, cache_key, outputs FROM jobs WHERE id = ?", (job_id,)
        ).fetchone()
        if _pending_twin(db, key, (kind, cache_key, outputs)) is not None:
            return False
        db.execute(
            f"UPDATE jobs SET state = 'pending', {assignments} WHERE id = ?", (*params, job_id)
        )
        return True

    def _failed_attempt(
        self,
        db: sqlite3.Connection,
        job_id: int,
        attempts: int,
        max_attempts: int,
        error: JobError,
        result: str | None,
        now: datetime,
    ) -> None:
        """One attempt failed: retry infrastructure failures while attempts remain."""
        now_t = format_time(now)
        if error.category is Category.INFRASTRUCTURE and attempts < max_attempts:
            not_before = format_time(now + timedelta(seconds=self._backoff(attempts)))
            if self._to_pending(
                db,
                job_id,
                "lease_token = NULL, lease_expires = NULL, worker_id = NULL, not_before = ?, "
                "result = ?, error = ?",
                (not_before, result, _encode(error.to_dict())),
            ):
                return
            # An identical job was enqueued meanwhile and is pending: it does the work.
            superseded = JobError.of(
                Category.INFRASTRUCTURE,
                f"{error.message}; not retried because an identical job is pending",
            )
            self._finish(
                db, [(job_id, JobState.CANCELLED, result, _encode(superseded.to_dict()))], now_t
            )
            return
        self._finish(db, [(job_id, JobState.FAILED, result, _encode(error.to_dict()))], now_t)

    # --- sessions ----------------------------------------------------------------------

    def open_session(
        self, session: str | None = None, *, info: Mapping[str, Any] | None = None
    ) -> str:
        session = session or uuid.uuid4().hex
        with self._write() as db:
            db.execute(
                "INSERT INTO sessions (id, state, info, created_at) VALUES (?, 'open', ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET state = 'open', closed_at = NULL",
                (session, _dump_optional(info), format_time(self._now())),
            )
        return session

    def close_session(self, session: str) -> None:
        with self._write() as db:
            db.execute(
                "UPDATE sessions SET state = 'closed', closed_at = ? WHERE id = ?",
                (format_time(self._now()), session),
            )

    def session_state(self, session: str) -> SessionState | None:
        row = self._db().execute("SELECT state FROM sessions WHERE id = ?", (session,)).fetchone()
        return None if row is None else SessionState(row[0])

    def delete_session(self, session: str) -> None:
        with self._write() as db:
            db.execute("DELETE FROM sessions WHERE id = ?", (session,))

    def prune_sessions(self, keep: int) -> list[str]:
        if keep < 0:
            raise ValueError("keep must not be negative")
        with self._write() as db:
            doomed = db.execute(
                "SELECT key, id FROM sessions WHERE state = 'closed' ORDER BY key DESC "
                "LIMIT -1 OFFSET ?",
                (keep,),
            ).fetchall()
            for chunk in _chunks([key for key, _ in doomed]):
                # The jobs go first, in one pass over the table: there is no index on
                # session_key alone, so the cascade from each deleted session scans the
                # jobs table, which is cheap only once the old jobs are gone.
                marks = _marks(len(chunk))
                db.execute(f"DELETE FROM jobs WHERE session_key IN ({marks})", chunk)
                db.execute(f"DELETE FROM sessions WHERE key IN ({marks})", chunk)
        return [session for _, session in doomed]

    # --- producer ----------------------------------------------------------------------

    def enqueue_many(self, session: str, jobs: Iterable[NewJob]) -> list[int]:
        # Identical jobs are told apart in Python, under the write lock, instead of by a
        # unique index: maintaining that index cost a bulk enqueue a third of its time.
        jobs = list(jobs)
        if not jobs:
            return []
        dumps = orjson.dumps  # _encode inlined: these loops are hot
        outputs = [dumps(j.outputs, default=list).decode() for j in jobs]
        slots, firsts = _distinct(jobs, outputs)
        flat: list[Any] = []
        add = flat.extend
        for i in firsts:
            j = jobs[i]
            payload = dumps(j.payload, option=_JSON_OPTIONS, default=dict).decode()
            add((j.kind, j.priority, payload, j.cache_key, outputs[i], j.max_attempts))
        now = format_time(self._now())
        with self._write(checkpoint=len(firsts) < _BACKGROUND_CHECKPOINT_JOBS) as db:
            key = self._key(db, session)
            if key is None:
                raise KeyError(f"unknown queue session {session!r}")
            identities = ((jobs[i].kind, jobs[i].cache_key, outputs[i]) for i in firsts)
            ids = self._pending_ids(db, key, identities)
            if ids is None:  # nothing pending in the session: every distinct job is new
                ids = self._insert(db, key, now, flat)
            else:
                new = [i for i, job_id in enumerate(ids) if job_id is None]
                rows = [flat[i * _ROW_WIDTH : (i + 1) * _ROW_WIDTH] for i in new]
                inserted = self._insert(db, key, now, list(chain.from_iterable(rows)))
                for i, job_id in zip(new, inserted, strict=True):
                    ids[i] = job_id
        if slots is None:
            return ids  # type: ignore[return-value]
        return [ids[slot] for slot in slots]  # type: ignore[misc]

    @staticmethod
    def _pending_ids(
        db: sqlite3.Connection, key: int, identities: Iterable[_Identity]
    ) -> list[int | None] | None:
        """Per identity, the id of the identical job pending in session ``key``, or None;
        None instead of the list when the session has no pending job at all."""
        pending = {
            (kind, cache_key, outputs): job_id
            for job_id, kind, cache_key, outputs in db.execute(
                "SELECT id, kind, cache_key, outputs FROM jobs INDEXED BY jobs_claim "
                "WHERE session_key = ? AND state = 'pending'",
                (key,),
            )
        }
        if not pending:
            return None
        return [pending.get(identity) for identity in identities]

    @staticmethod
    def _insert(db: sqlite3.Connection, key: int, now: str, flat: list[Any]) -> list[int]:
        """Insert the jobs laid out in ``flat``; returns their ids, in order."""
        n = len(flat) // _ROW_WIDTH
        if n == 0:
            return []
        before = db.execute("SELECT coalesce(max(id), 0) FROM jobs").fetchone()[0]
        step = _ROWS_PER_INSERT * _ROW_WIDTH
        whole = n // _ROWS_PER_INSERT * step
        if whole:
            db.executemany(
                _insert_sql(key, now, _ROWS_PER_INSERT),
                [flat[i : i + step] for i in range(0, whole, step)],
            )
        if whole < len(flat):
            db.execute(_insert_sql(key, now, n - whole // _ROW_WIDTH), flat[whole:])
        # Under the write lock, SQLite numbers new rows max(id)+1, +2, … in the order of
        # the statements and of their VALUES lists, until ids reach 2**63 - 1.
        after = db.execute("SELECT max(id) FROM jobs").fetchone()[0]
        if after != before + n:
            raise RuntimeError(f"job ids are not consecutive ({before} + {n} != {after})")
        return list(range(before + 1, after + 1))

    def cancel(self, session: str, job_ids: Iterable[int] | None = None) -> int:
        now = format_time(self._now())
        with self._write() as db:
            key = self._key(db, session)
            if key is None:
                return 0
            sql = _session_rows("id", ("pending", "running"))
            if job_ids is None:
                ids = [r[0] for r in db.execute(sql, (key,))]
            else:
                ids = []
                for chunk in _chunks(list(job_ids)):
                    ids += [
                        r[0]
                        for r in db.execute(
                            f"SELECT id FROM ({sql}) WHERE id IN ({_marks(len(chunk))})",
                            (key, *chunk),
                        )
                    ]
            self._finish(db, [(i, JobState.CANCELLED, None, None) for i in ids], now)
        return len(ids)

    # --- consumer ----------------------------------------------------------------------

    def claim(
        self,
        session: str,
        kinds: Sequence[str],
        worker_id: str,
        *,
        limit: int = 1,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
    ) -> list[ClaimedJob]:
        kinds = list(kinds)
        if not kinds or limit < 1:
            return []
        db = self._db()
        # A plain read first: an idle worker's poll then never takes the write lock.
        if (
            db.execute(
                f"SELECT 1 FROM jobs WHERE session_key = {_SESSION_KEY} AND state = 'pending' "
                f"AND kind IN ({_marks(len(kinds))}) LIMIT 1",
                (session, *kinds),
            ).fetchone()
            is None
        ):
            return []
        token = secrets.token_hex(16)
        now = self._now()
        expires = now + timedelta(seconds=lease_seconds)
        now_t = format_time(now)
        rows = db.execute(
            "UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_token = ?, "
            "lease_expires = ?, worker_id = ?, started_at = ?, not_before = NULL "
            f"WHERE id IN (SELECT id FROM jobs WHERE session_key = {_SESSION_KEY} "
            "AND state = 'pending' "
            f"AND kind IN ({_marks(len(kinds))}) "
            "AND (not_before IS NULL OR not_before <= ?) "
            "ORDER BY priority DESC, id LIMIT ?) "
            "RETURNING id, kind, payload, cache_key, outputs, attempts, max_attempts, priority",
            (token, format_time(expires), worker_id, now_t, session, *kinds, now_t, limit),
        ).fetchall()
        rows.sort(key=lambda r: (-r[7], r[0]))
        return [
            ClaimedJob(
                id=r[0],
                session=session,
                kind=r[1],
                payload=_decode(r[2]),
                cache_key=r[3],
                outputs=tuple(_decode(r[4])),
                attempt=r[5],
                max_attempts=r[6],
                token=token,
                lease_expires=expires,
            )
            for r in rows
        ]

    def heartbeat(self, token: str, lease_seconds: float = DEFAULT_LEASE_SECONDS) -> set[int]:
        expires = format_time(self._now() + timedelta(seconds=lease_seconds))
        rows = (
            self._db()
            .execute(
                "UPDATE jobs SET lease_expires = ? WHERE lease_token = ? AND state = 'running' "
                "RETURNING id",
                (expires, token),
            )
            .fetchall()
        )
        return {r[0] for r in rows}

    def complete_many(self, completions: Sequence[Completion]) -> list[bool]:
        if not completions:
            return []
        now = format_time(self._now())
        accepted = [False] * len(completions)
        with self._write() as db:
            live: dict[int, str] = {}
            ids = list({c.job_id for c in completions})
            for chunk in _chunks(ids):
                live.update(
                    db.execute(
                        f"SELECT id, lease_token FROM jobs WHERE state = 'running' "
                        f"AND id IN ({_marks(len(chunk))})",
                        chunk,
                    ).fetchall()
                )
            rows = []
            for i, c in enumerate(completions):
                if live.get(c.job_id) == c.token:
                    del live[c.job_id]  # a second completion of the same job is rejected
                    accepted[i] = True
                    rows.append((c.job_id, JobState.SUCCEEDED, _dump_optional(c.result), None))
            self._finish(db, rows, now)
        return accepted

    def fail(
        self,
        job_id: int,
        token: str,
        error: JobError,
        *,
        result: Mapping[str, Any] | None = None,
    ) -> bool:
        now = self._now()
        with self._write() as db:
            row = db.execute(
                "SELECT attempts, max_attempts FROM jobs WHERE id = ? AND state = 'running' "
                "AND lease_token = ?",
                (job_id, token),
            ).fetchone()
            if row is None:
                return False
            self._failed_attempt(db, job_id, row[0], row[1], error, _dump_optional(result), now)
        return True

    def release(self, job_ids: Iterable[int], token: str) -> int:
        released = 0
        with self._write() as db:
            for job_id in job_ids:
                if (
                    db.execute(
                        "SELECT 1 FROM jobs WHERE id = ? AND lease_token = ? AND state = 'running'",
                        (job_id, token),
                    ).fetchone()
                    is None
                ):
                    continue
                if self._to_pending(
                    db,
                    job_id,
                    "attempts = attempts - 1, lease_token = NULL, lease_expires = NULL, "
                    "worker_id = NULL, started_at = NULL",
                    (),
                ):
                    released += 1
                else:  # an identical job is pending already
                    self._finish(
                        db, [(job_id, JobState.CANCELLED, None, None)], format_time(self._now())
                    )
        return released

    def _reclaim(
        self, where: str, params: tuple[Any, ...], describe: Callable[..., JobError]
    ) -> int:
        now = self._now()
        with self._write() as db:
            rows = db.execute(
                "SELECT id, attempts, max_attempts, worker_id, json_extract(payload, '$.file') "
                f"FROM jobs WHERE state = 'running' AND {where}",
                params,
            ).fetchall()
            for job_id, attempts, max_attempts, worker_id, file in rows:
                error = describe(worker_id, attempts, max_attempts, file)
                self._failed_attempt(db, job_id, attempts, max_attempts, error, None, now)
        return len(rows)

    def reclaim_expired(self) -> int:
        def describe(worker_id: str | None, attempt: int, max_attempts: int, file: Any) -> JobError:
            return JobError.of(
                Category.INFRASTRUCTURE,
                f"worker {worker_id} stopped renewing its lease (it died or hung) "
                f"during attempt {attempt} of {max_attempts}",
                file=file if isinstance(file, str) else None,
            )

        return self._reclaim("lease_expires < ?", (format_time(self._now()),), describe)

    def release_worker(self, worker_id: str, error: JobError) -> int:
        def describe(_w: str | None, _a: int, _m: int, file: Any) -> JobError:
            if not isinstance(file, str):
                return error
            return JobError(
                error.category,
                tuple(p if p.file else replace(p, file=file) for p in error.problems),
            )

        return self._reclaim("worker_id = ?", (worker_id,), describe)

    # --- status ------------------------------------------------------------------------

    def counts(self, session: str) -> dict[str, dict[JobState, int]]:
        db = self._db()
        out: dict[str, dict[JobState, int]] = {}
        key = self._key(db, session)
        if key is None:
            return out
        # Pending jobs are counted in the claim index alone, without reading their rows.
        pending = _SESSION_PARTS["pending"].format("kind, 'pending', count(*)")
        done = _session_rows("kind, state", ("running", "finished"))
        for kind, state, n in db.execute(
            f"{pending} GROUP BY kind UNION ALL "
            f"SELECT kind, state, count(*) FROM ({done}) GROUP BY kind, state",
            (key,),
        ):
            out.setdefault(kind, dict.fromkeys(JobState, 0))[JobState(state)] = n
        return out

    def finished_since(
        self, session: str, cursor: int = 0, *, limit: int | None = None
    ) -> FinishedJobs:
        sql = (
            f"SELECT {_JOB_COLUMNS}, j.finished_seq {_JOB_FROM} WHERE s.id = ? "
            "AND j.finished_seq > ? ORDER BY j.finished_seq"
        )
        params: tuple[Any, ...] = (session, cursor)
        if limit is not None:
            sql += " LIMIT ?"
            params += (limit,)
        rows = self._db().execute(sql, params).fetchall()
        return FinishedJobs([_job_record(r) for r in rows], rows[-1][-1] if rows else cursor)

    def running(self, session: str) -> list[RunningJob]:
        now = self._now()
        out = []
        columns = "id, kind, worker_id, attempts, started_at, lease_expires, outputs"
        sql = _session_rows(columns, ("running",)) + " ORDER BY started_at, id"
        db = self._db()
        key = self._key(db, session)
        for job_id, kind, worker, attempts, started, expires, outputs in db.execute(sql, (key,)):
            started_at = parse_time(started)
            assert started_at is not None
            out.append(
                RunningJob(
                    id=job_id,
                    kind=kind,
                    worker_id=worker,
                    attempts=attempts,
                    started_at=started_at,
                    lease_expires=parse_time(expires),  # type: ignore[arg-type]
                    elapsed=max((now - started_at).total_seconds(), 0.0),
                    outputs=tuple(_decode(outputs)),
                )
            )
        return out

    def jobs(
        self,
        session: str,
        *,
        states: Iterable[JobState] | None = None,
        kinds: Iterable[str] | None = None,
    ) -> list[JobRecord]:
        db = self._db()
        key = self._key(db, session)
        if key is None:
            return []
        states = None if states is None else list(states)
        ids = _session_rows("id", _parts(JobState if states is None else states))
        sql = f"SELECT {_JOB_COLUMNS} {_JOB_FROM} WHERE j.id IN ({ids})"
        params: list[Any] = [key]
        for column, values in (("state", states), ("kind", kinds)):
            if values is not None:
                vals = [str(v) for v in values]
                sql += f" AND j.{column} IN ({_marks(len(vals))})"
                params += vals
        sql += " ORDER BY j.id"
        return [_job_record(r) for r in db.execute(sql, params)]

    def get(self, job_id: int) -> JobRecord | None:
        row = (
            self._db()
            .execute(f"SELECT {_JOB_COLUMNS}, j.payload {_JOB_FROM} WHERE j.id = ?", (job_id,))
            .fetchone()
        )
        return None if row is None else _job_record(row[:-1], row[-1])

    # --- workers -----------------------------------------------------------------------

    def register_worker(
        self,
        worker_id: str,
        session: str,
        kinds: Sequence[str],
        *,
        pid: int | None = None,
        host: str | None = None,
    ) -> None:
        now = format_time(self._now())
        with self._write() as db:
            db.execute(
                "INSERT INTO workers (id, session, kinds, state, pid, host, started_at, "
                "heartbeat_at) VALUES (?, ?, ?, 'starting', ?, ?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET session = excluded.session, "
                "kinds = excluded.kinds, state = 'starting', "
                "pid = coalesce(excluded.pid, workers.pid), "
                "host = coalesce(excluded.host, workers.host), error = NULL, "
                "current_job = NULL, stopped_at = NULL, heartbeat_at = excluded.heartbeat_at",
                (worker_id, session, _encode(list(kinds)), pid, host, now, now),
            )

    def update_worker(
        self,
        worker_id: str,
        *,
        state: WorkerState | None = None,
        pid: int | None | Unset = UNSET,
        host: str | None | Unset = UNSET,
        current_job: int | None | Unset = UNSET,
        jobs_done: int | None = None,
        error: JobError | None | Unset = UNSET,
        heartbeat: bool = True,
    ) -> None:
        now = format_time(self._now())
        sets: list[str] = []
        params: list[Any] = []
        if state is not None:
            sets.append("state = ?")
            params.append(str(state))
            if WorkerState(state).gone:
                sets.append("stopped_at = ?")
                params.append(now)
        for column, value in (("pid", pid), ("host", host), ("current_job", current_job)):
            if value is not UNSET:
                sets.append(f"{column} = ?")
                params.append(value)
        if jobs_done is not None:
            sets.append("jobs_done = ?")
            params.append(jobs_done)
        if not isinstance(error, Unset):
            sets.append("error = ?")
            params.append(None if error is None else _encode(error.to_dict()))
        if heartbeat:
            sets.append("heartbeat_at = ?")
            params.append(now)
        if not sets:
            return
        with self._write() as db:
            db.execute(f"UPDATE workers SET {', '.join(sets)} WHERE id = ?", (*params, worker_id))

    def workers(self, session: str | None = None) -> list[WorkerRecord]:
        sql = (
            "SELECT id, session, kinds, state, pid, host, current_job, jobs_done, started_at, "
            "heartbeat_at, stopped_at, error FROM workers"
        )
        params: tuple[Any, ...] = ()
        if session is not None:
            sql += " WHERE session = ?"
            params = (session,)
        sql += " ORDER BY rowid"
        return [
            WorkerRecord(
                id=r[0],
                session=r[1],
                kinds=tuple(_decode(r[2])),
                state=WorkerState(r[3]),
                pid=r[4],
                host=r[5],
                current_job=r[6],
                jobs_done=r[7],
                started_at=parse_time(r[8]),  # type: ignore[arg-type]
                heartbeat_at=parse_time(r[9]),
                stopped_at=parse_time(r[10]),
                error=_load_error(r[11]),
            )
            for r in self._db().execute(sql, params)
        ]

    # --- lifetime ----------------------------------------------------------------------

    def close(self) -> None:
        if self._pid == os.getpid():
            self._checkpoints.wait()
        if self._conn is not None and self._pid == os.getpid():
            self._conn.close()
        self._conn = None

    # --- administration ----------------------------------------------------------------

    def sessions(self, *, limit: int | None = None) -> list[SessionRecord]:
        sql = "SELECT id, state, info, created_at, closed_at FROM sessions ORDER BY key DESC"
        params: tuple[Any, ...] = ()
        if limit is not None:
            sql += " LIMIT ?"
            params = (limit,)
        return [
            SessionRecord(
                id=r[0],
                state=SessionState(r[1]),
                info={} if r[2] is None else _decode(r[2]),
                created_at=parse_time(r[3]),  # type: ignore[arg-type]
                closed_at=parse_time(r[4]),
            )
            for r in self._db().execute(sql, params)
        ]

    def retry(self, session: str | None, job_ids: Iterable[int] | None = None) -> list[int]:
        if session is None and job_ids is None:
            raise ValueError("retry needs a session or job ids")
        done = "(j.state = 'failed' OR j.state = 'cancelled')"
        retried: list[int] = []
        with self._write() as db:
            if job_ids is None:
                key = self._key(db, session)  # type: ignore[arg-type]
                ids = [
                    r[0]
                    for r in db.execute(
                        f"SELECT j.id FROM jobs j WHERE j.session_key = ? "
                        f"AND j.finished_seq IS NOT NULL AND {done} ORDER BY j.id",
                        (key,),
                    )
                ]
            else:
                ids = []
                wanted = sorted(set(job_ids))
                for chunk in _chunks(wanted):
                    sql = f"SELECT j.id {_JOB_FROM} WHERE j.id IN ({_marks(len(chunk))}) AND {done}"
                    params: list[Any] = list(chunk)
                    if session is not None:
                        sql += " AND s.id = ?"
                        params.append(session)
                    ids += [r[0] for r in db.execute(sql, params)]
                ids.sort()
            for job_id in ids:
                if self._to_pending(
                    db,
                    job_id,
                    "attempts = 0, lease_token = NULL, lease_expires = NULL, worker_id = NULL, "
                    "not_before = NULL, result = NULL, error = NULL, finished_seq = NULL, "
                    "finished_at = NULL, started_at = NULL",
                    (),
                ):
                    retried.append(job_id)
        return retried
