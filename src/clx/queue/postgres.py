"""The Queue contract on a PostgreSQL server, for builds whose workers run on other hosts.

What makes it safe with many writers at once:

* A claim is one statement: ``WITH picked AS (SELECT … FOR UPDATE SKIP LOCKED LIMIT n)
  UPDATE … RETURNING``. Concurrent claimers skip each other's rows instead of waiting.
* Time is the server's (``statement_timestamp()``): leases, backoffs and elapsed times
  compare stamps of one clock, whatever the hosts' clocks say. Tests pass ``clock``.
* Every multi-statement write locks the rows of the sessions it touches first (in key
  order, so two transactions never wait for each other in a circle), then job rows. That
  lock makes the duplicate check of an enqueue atomic and makes finish numbers commit in
  the order they were drawn, so ``finished_since`` never skips a job.
* Idle workers and waiting builds block on LISTEN/NOTIFY (``clx_work``, ``clx_finished``)
  on a connection of their own, with a timeout for periodic duties.
* A dropped connection (server restart, network cut) is reopened with backoff and the
  operation tried again, for up to ``reconnect_timeout`` seconds.

One PostgresQueue per thread, like SqliteQueue; a forked child opens its own connections.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar

import orjson
import psycopg
from psycopg import errors as pgerrors

from clx.problems import Category, InfrastructureError
from clx.queue import pg_schema
from clx.queue.base import Queue, SessionRecord
from clx.queue.location import connect_server, redact
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
)
from clx.queue.rows import JSON_OPTIONS as _JSON_OPTIONS
from clx.queue.rows import decode as _decode
from clx.queue.rows import dump_optional as _dump_optional
from clx.queue.rows import encode as _encode
from clx.queue.rows import job_record
from clx.queue.rows import load_error as _load_error

log = logging.getLogger(__name__)

T = TypeVar("T")

WORK_CHANNEL = "clx_work"
FINISHED_CHANNEL = "clx_finished"

# The engine's "now": the test clock's value when one is given, else the server's.
NOW = "coalesce(%(now)s::timestamptz, statement_timestamp())"

_JOB_COLUMNS = (
    "j.id, s.id, j.kind, j.state, j.priority, j.cache_key, j.outputs, j.attempts, "
    "j.max_attempts, j.worker_id, j.lease_token, j.lease_expires, j.not_before, j.result, "
    "j.error, j.created_at, j.started_at, j.finished_at"
)
_JOB_FROM = "FROM clx.jobs j JOIN clx.sessions s ON s.key = j.session_key"

_FINISH = f"""UPDATE clx.jobs j SET state = v.state, result = v.result, error = v.error,
    lease_expires = NULL, not_before = NULL, finished_at = {NOW}, finished_seq = v.seq
    FROM unnest(%(ids)s::bigint[], %(states)s::text[], %(results)s::text[],
                %(errors)s::text[], %(seqs)s::bigint[]) AS v(id, state, result, error, seq)
    WHERE j.id = v.id"""


# A session's jobs through the index that holds each state (every row is in exactly one
# part: a CHECK ties finished_seq to the final states). %(key)s is the session's key.
_SESSION_PARTS = {
    "pending": "SELECT {} FROM clx.jobs j WHERE j.session_key = %(key)s AND j.state = 'pending'",
    "running": "SELECT {} FROM clx.jobs j WHERE j.session_key = %(key)s AND j.state = 'running'",
    "finished": "SELECT {} FROM clx.jobs j WHERE j.session_key = %(key)s "
    "AND j.finished_seq IS NOT NULL",
}
_SESSION_KEY = "(SELECT key FROM clx.sessions WHERE id = %(session)s)"


def _session_rows(columns: str, parts: Iterable[str] = tuple(_SESSION_PARTS)) -> str:
    return " UNION ALL ".join(_SESSION_PARTS[p].format(columns) for p in parts)


def _parts(states: Iterable[JobState]) -> list[str]:
    wanted = {str(s) if s in (JobState.PENDING, JobState.RUNNING) else "finished" for s in states}
    return [part for part in _SESSION_PARTS if part in wanted]


def _delete_jobs(db: psycopg.Connection, keys: Sequence[int]) -> None:
    """Delete the jobs of sessions ``keys``, state by state through their indexes."""
    for part in _SESSION_PARTS.values():
        db.execute(
            "DELETE FROM clx.jobs WHERE id IN ("
            + part.format("j.id").replace("= %(key)s", "= ANY(%(keys)s)")
            + ")",
            {"keys": list(keys)},
        )


def _utc(t: datetime | None) -> datetime | None:
    return None if t is None else t.astimezone(UTC)


def _job_record(row: Sequence[Any], payload: str | None = None) -> JobRecord:
    return job_record(row, _utc, payload)


# A server that answers but refuses the connection for good (a wrong password, database or
# role): libpq gives no SQLSTATE for a failed connect, only its FATAL message. A server
# that is starting up or shutting down also says FATAL, and is worth waiting for.
_PASSING_REFUSALS = ("starting up", "shutting down", "in recovery", "too many clients")


def _refused_for_good(exc: BaseException) -> bool:
    text = str(exc)
    return "FATAL:" in text and not any(reason in text for reason in _PASSING_REFUSALS)


def _retryable(exc: BaseException, conn: psycopg.Connection | None) -> bool:
    """A lost connection, or a transaction the server rolled back to break a deadlock:
    trying the whole operation again is safe. A connect the server refuses for good is
    not: waiting would only hide a wrong URL behind two minutes of retries."""
    if isinstance(exc, pgerrors.TransactionRollback):
        return True
    if conn is None:
        return not _refused_for_good(exc)
    if conn.closed or conn.broken:
        return True
    return isinstance(exc, (pgerrors.AdminShutdown, pgerrors.CannotConnectNow))


def _copy_text(value: str) -> str:
    """Escape a value for COPY's text format."""
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        value = (
            value.replace("\\", "\\\\")
            .replace("\t", "\\t")
            .replace("\n", "\\n")
            .replace("\r", "\\r")
        )
    return value


# What a claim returns of each job, in ``ClaimedJob`` order.
_CLAIM_COLUMNS = ("id", "kind", "payload", "cache_key", "outputs", "attempts", "max_attempts",
                  "priority", "lease_expires")


class PostgresQueue(Queue):
    """Queue in the ``clx`` schema of a PostgreSQL database named by ``url``.

    ``clock``: None uses the server's clock; tests pass a controllable one.
    ``backoff_base``/``backoff_max`` shape the retry delay after an infrastructure
    failure. ``reconnect_timeout``: how long to keep reopening a lost connection before
    an operation fails with an InfrastructureError.
    """

    blocking_claim: ClassVar[bool] = True

    def __init__(
        self,
        url: str,
        *,
        clock: Callable[[], datetime] | None = None,
        backoff_base: float = 1.0,
        backoff_max: float = 60.0,
        reconnect_timeout: float = 120.0,
    ) -> None:
        self.url = url
        self.clock = clock
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.reconnect_timeout = reconnect_timeout
        self._conn: psycopg.Connection | None = None
        self._listener: psycopg.Connection | None = None
        self._listening: set[str] = set()
        self._pid = 0
        self._call(lambda db: None)  # connect and migrate now: a bad URL fails here

    def __repr__(self) -> str:
        return f"PostgresQueue({redact(self.url)!r})"

    # --- plumbing ----------------------------------------------------------------------

    def _db(self) -> psycopg.Connection:
        if self._pid != os.getpid():
            # A forked child must not use its parent's sockets.
            self._conn, self._listener, self._listening = None, None, set()
            self._pid = os.getpid()
        if self._conn is None or self._conn.closed:
            conn = connect_server(self.url)
            try:
                pg_schema.apply(conn)
            except BaseException:
                with contextlib.suppress(Exception):
                    conn.close()
                raise
            self._conn = conn
        return self._conn

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and self._pid == os.getpid():
            with contextlib.suppress(Exception):  # a broken one may fail to close
                conn.close()

    def _call(self, op: Callable[[psycopg.Connection], T]) -> T:
        """Run ``op`` on the connection; reopen a lost one with backoff and try again."""
        delay = 0.05
        deadline = time.monotonic() + self.reconnect_timeout
        while True:
            conn = None
            try:
                conn = self._db()
                return op(conn)
            except psycopg.OperationalError as e:
                if not _retryable(e, self._conn if conn is None else conn):
                    raise
                self._drop()
                if time.monotonic() > deadline:
                    raise InfrastructureError(
                        f"lost the queue database {redact(self.url)}: {e}"
                    ) from e
                log.warning(
                    "queue database connection lost (%s); retrying in %.2f s",
                    str(e).strip().splitlines()[0] if str(e).strip() else e,
                    delay,
                )
                time.sleep(delay)
                delay = min(delay * 2, 2.0)

    def run(self, op: Callable[[psycopg.Connection], T]) -> T:
        """Run ``op`` on this queue's connection with its reconnects (for ``clx.blobs``)."""
        return self._call(op)

    def _p(self, **params: Any) -> dict[str, Any]:
        """Query parameters with the engine's ``now``."""
        params["now"] = None if self.clock is None else self.clock()
        return params

    def _backoff(self, attempts: int) -> float:
        return min(self.backoff_base * 2 ** max(attempts - 1, 0), self.backoff_max)

    @staticmethod
    def _lock_sessions(db: psycopg.Connection, keys: Iterable[int]) -> None:
        """Lock session rows in key order (see the module docstring)."""
        keys = sorted(set(keys))
        if keys:
            db.execute(
                "SELECT key FROM clx.sessions WHERE key = ANY(%s) ORDER BY key FOR UPDATE",
                (keys,),
            )

    @staticmethod
    def _session_key(db: psycopg.Connection, session: str, *, lock: bool = False) -> int | None:
        sql = "SELECT key FROM clx.sessions WHERE id = %s"
        row = db.execute(sql + (" FOR UPDATE" if lock else ""), (session,)).fetchone()
        return None if row is None else row[0]

    def _finish(
        self,
        db: psycopg.Connection,
        rows: Sequence[tuple[int, int, JobState, str | None, str | None]],
    ) -> None:
        """Move jobs to a final state: rows of (session key, id, state, result, error).

        The caller holds the session rows' locks."""
        if not rows:
            return
        by_session: dict[int, list[tuple[int, int, JobState, str | None, str | None]]] = {}
        for r in rows:
            by_session.setdefault(r[0], []).append(r)
        ids: list[int] = []
        seqs: list[int] = []
        for key, part in sorted(by_session.items()):
            end = db.execute(
                "UPDATE clx.sessions SET finished = finished + %s WHERE key = %s "
                "RETURNING finished",
                (len(part), key),
            ).fetchone()[0]
            first = end - len(part) + 1
            ids += [r[1] for r in part]
            seqs += range(first, end + 1)
        ordered = [r for _, part in sorted(by_session.items()) for r in part]
        db.execute(
            _FINISH,
            self._p(
                ids=ids,
                states=[str(r[2]) for r in ordered],
                results=[r[3] for r in ordered],
                errors=[r[4] for r in ordered],
                seqs=seqs,
            ),
        )
        db.execute(
            "SELECT pg_notify(%s, id) FROM clx.sessions WHERE key = ANY(%s)",
            (FINISHED_CHANNEL, sorted(by_session)),
        )

    @staticmethod
    def _notify_work(db: psycopg.Connection, key: int) -> None:
        db.execute("SELECT pg_notify(%s, id) FROM clx.sessions WHERE key = %s", (WORK_CHANNEL, key))

    def _to_pending(
        self, db: psycopg.Connection, job_id: int, assignments: str, params: Mapping[str, Any]
    ) -> bool:
        """Move a job back to pending unless an identical job is pending already (then
        return False and leave it alone: the twin does the work)."""
        key, kind, cache_key, outputs = db.execute(
            "SELECT session_key, kind, cache_key, outputs FROM clx.jobs WHERE id = %s",
            (job_id,),
        ).fetchone()
        twin = db.execute(
            "SELECT 1 FROM clx.jobs WHERE session_key = %s AND kind = %s AND state = 'pending' "
            "AND cache_key = %s AND outputs = %s LIMIT 1",
            (key, kind, cache_key, outputs),
        ).fetchone()
        if twin is not None:
            return False
        db.execute(
            f"UPDATE clx.jobs SET state = 'pending', {assignments} WHERE id = %(id)s",
            self._p(id=job_id, **params),
        )
        self._notify_work(db, key)
        return True

    def _failed_attempt(
        self,
        db: psycopg.Connection,
        key: int,
        job_id: int,
        attempts: int,
        max_attempts: int,
        error: JobError,
        result: str | None,
    ) -> None:
        if error.category is Category.INFRASTRUCTURE and attempts < max_attempts:
            if self._to_pending(
                db,
                job_id,
                "lease_token = NULL, lease_expires = NULL, worker_id = NULL, "
                f"not_before = {NOW} + make_interval(secs => %(delay)s), "
                "result = %(result)s, error = %(error)s",
                {
                    "delay": self._backoff(attempts),
                    "result": result,
                    "error": _encode(error.to_dict()),
                },
            ):
                return
            superseded = JobError.of(
                Category.INFRASTRUCTURE,
                f"{error.message}; not retried because an identical job is pending",
            )
            self._finish(
                db, [(key, job_id, JobState.CANCELLED, result, _encode(superseded.to_dict()))]
            )
            return
        self._finish(db, [(key, job_id, JobState.FAILED, result, _encode(error.to_dict()))])

    # --- notifications -----------------------------------------------------------------

    def _wait(self, channel: str, timeout: float) -> bool:
        """Block until a notification on ``channel`` or ``timeout``; True if woken.

        The first call only starts listening and returns True at once, so the caller
        looks once more before it sleeps: nothing sent after that is missed."""
        if self._pid != os.getpid():
            self._db()
        try:
            if self._listener is None or self._listener.closed:
                self._listener, self._listening = connect_server(self.url), set()
            if channel not in self._listening:
                self._listener.execute(f"LISTEN {channel}")
                self._listening.add(channel)
                return True
            woken = False
            for _ in self._listener.notifies(timeout=max(timeout, 0.0), stop_after=1):
                woken = True
            if woken:  # take what else is queued, so the next wait really waits
                for _ in self._listener.notifies(timeout=0):
                    pass
            return woken
        except psycopg.OperationalError as e:
            log.warning("queue notifications lost (%s); reconnecting", e)
            listener, self._listener, self._listening = self._listener, None, set()
            if listener is not None:
                with contextlib.suppress(Exception):
                    listener.close()
            time.sleep(min(timeout, 0.5))
            return True  # something may have been missed: look again

    def wait_for_jobs(self, timeout: float) -> bool:
        return self._wait(WORK_CHANNEL, timeout)

    def wait_for_finished(self, session: str, timeout: float) -> bool:
        return self._wait(FINISHED_CHANNEL, timeout)

    # --- sessions ----------------------------------------------------------------------

    def open_session(
        self, session: str | None = None, *, info: Mapping[str, Any] | None = None
    ) -> str:
        session = session or uuid.uuid4().hex
        self._call(
            lambda db: db.execute(
                "INSERT INTO clx.sessions (id, state, info, created_at) "
                f"VALUES (%(id)s, 'open', %(info)s, {NOW}) "
                "ON CONFLICT (id) DO UPDATE SET state = 'open', closed_at = NULL",
                self._p(id=session, info=_dump_optional(info)),
            )
        )
        return session

    def close_session(self, session: str) -> None:
        def op(db: psycopg.Connection) -> None:
            with db.transaction():
                db.execute(
                    f"UPDATE clx.sessions SET state = 'closed', closed_at = {NOW} "
                    "WHERE id = %(id)s",
                    self._p(id=session),
                )
                db.execute("SELECT pg_notify(%s, %s)", (WORK_CHANNEL, session))

        self._call(op)

    def session_state(self, session: str) -> SessionState | None:
        row = self._call(
            lambda db: db.execute(
                "SELECT state FROM clx.sessions WHERE id = %s", (session,)
            ).fetchone()
        )
        return None if row is None else SessionState(row[0])

    def delete_session(self, session: str) -> None:
        def op(db: psycopg.Connection) -> None:
            with db.transaction():
                key = self._session_key(db, session, lock=True)
                if key is not None:
                    _delete_jobs(db, [key])
                    db.execute("DELETE FROM clx.sessions WHERE key = %s", (key,))

        self._call(op)

    def prune_sessions(self, keep: int) -> list[str]:
        if keep < 0:
            raise ValueError("keep must not be negative")

        def op(db: psycopg.Connection) -> list[str]:
            with db.transaction():
                doomed = db.execute(
                    "SELECT key, id FROM clx.sessions WHERE state = 'closed' "
                    "ORDER BY key DESC OFFSET %s FOR UPDATE",
                    (keep,),
                ).fetchall()
                keys = [k for k, _ in doomed]
                if keys:
                    _delete_jobs(db, keys)
                    db.execute("DELETE FROM clx.sessions WHERE key = ANY(%s)", (keys,))
            return [s for _, s in doomed]

        return self._call(op)

    # --- producer ----------------------------------------------------------------------

    def enqueue_many(self, session: str, jobs: Iterable[NewJob]) -> list[int]:
        jobs = list(jobs)
        if not jobs:
            return []
        dumps = orjson.dumps
        outputs = [dumps(j.outputs, default=list).decode() for j in jobs]
        # Encode before touching the database: an unencodable payload fails everything.
        payloads = [dumps(j.payload, option=_JSON_OPTIONS, default=dict).decode() for j in jobs]
        slots: Sequence[int]
        firsts: Sequence[int]
        if len({j.cache_key for j in jobs}) == len(jobs):  # no shared key: all distinct
            slots = firsts = range(len(jobs))
        else:
            first: dict[tuple[str, str, str], int] = {}
            slots, firsts = [], []
            for i, (j, out) in enumerate(zip(jobs, outputs, strict=True)):
                slot = first.setdefault((j.kind, j.cache_key, out), len(firsts))
                if slot == len(firsts):
                    firsts.append(i)
                slots.append(slot)

        def op(db: psycopg.Connection) -> list[int]:
            with db.transaction():
                key = self._session_key(db, session, lock=True)
                if key is None:
                    raise KeyError(f"unknown queue session {session!r}")
                pending: dict[tuple[str, str, str], int] = {}
                if db.execute(
                    "SELECT EXISTS (SELECT 1 FROM clx.jobs WHERE session_key = %s "
                    "AND state = 'pending')",
                    (key,),
                ).fetchone()[0]:
                    pending = {
                        (kind, cache_key, out): job_id
                        for job_id, kind, cache_key, out in db.execute(
                            "SELECT id, kind, cache_key, outputs FROM clx.jobs "
                            "WHERE session_key = %s AND state = 'pending'",
                            (key,),
                        )
                    }
                ids: list[int | None] = [
                    pending.get((jobs[i].kind, jobs[i].cache_key, outputs[i])) for i in firsts
                ]
                new = [n for n, job_id in enumerate(ids) if job_id is None]
                if new:
                    fresh = sorted(
                        r[0]
                        for r in db.execute(
                            "SELECT nextval('clx.jobs_id_seq') FROM generate_series(1, %s)",
                            (len(new),),
                        )
                    )
                    self._copy_jobs(
                        db,
                        key,
                        [(firsts[n], job_id) for n, job_id in zip(new, fresh, strict=True)],
                        jobs,
                        payloads,
                        outputs,
                    )
                    for n, job_id in zip(new, fresh, strict=True):
                        ids[n] = job_id
                    self._notify_work(db, key)
                return ids  # type: ignore[return-value]

        ids = self._call(op)
        return [ids[slot] for slot in slots]  # type: ignore[misc]

    def _copy_jobs(
        self,
        db: psycopg.Connection,
        key: int,
        rows: Sequence[tuple[int, int]],
        jobs: Sequence[NewJob],
        payloads: Sequence[str],
        outputs: Sequence[str],
    ) -> None:
        """COPY the jobs at positions/ids ``rows`` into the table: the fastest bulk path."""
        now = None if self.clock is None else self.clock()
        columns = "id, session_key, kind, priority, payload, cache_key, outputs, max_attempts"
        tail = ""
        if now is not None:
            columns += ", created_at"
            tail = "\t" + now.astimezone(UTC).isoformat()
        prefix = f"\t{key}\t"
        # JSON text never holds a raw tab or line break; only the two free-text fields
        # could. When neither does (always, in practice), doubling every backslash of the
        # whole block at once is all the escaping COPY's text format needs.
        free = "".join([jobs[i].kind + jobs[i].cache_key for i, _ in rows])
        plain = "\t" not in free and "\n" not in free and "\r" not in free
        esc = str if plain else _copy_text
        text = "".join(
            [
                f"{job_id}{prefix}{esc(jobs[i].kind)}\t{int(jobs[i].priority)}\t"
                f"{esc(payloads[i])}\t{esc(jobs[i].cache_key)}\t"
                f"{esc(outputs[i])}\t{int(jobs[i].max_attempts)}{tail}\n"
                for i, job_id in rows
            ]
        )
        if plain:
            text = text.replace("\\", "\\\\")
        with db.cursor().copy(f"COPY clx.jobs ({columns}) FROM STDIN") as copy:
            data = text.encode()
            step = 1 << 20
            for start in range(0, len(data), step):
                copy.write(data[start : start + step])

    def cancel(self, session: str, job_ids: Iterable[int] | None = None) -> int:
        wanted = None if job_ids is None else sorted(set(job_ids))

        def op(db: psycopg.Connection) -> int:
            with db.transaction():
                key = self._session_key(db, session, lock=True)
                if key is None:
                    return 0
                sql = (
                    "SELECT id FROM clx.jobs WHERE session_key = %s "
                    "AND state IN ('pending', 'running')"
                )
                params: tuple[Any, ...] = (key,)
                if wanted is not None:
                    sql += " AND id = ANY(%s)"
                    params += (wanted,)
                ids = [r[0] for r in db.execute(sql + " ORDER BY id FOR UPDATE", params)]
                self._finish(db, [(key, i, JobState.CANCELLED, None, None) for i in ids])
                return len(ids)

        return self._call(op)

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
        token = secrets.token_hex(16)
        # ``_call`` repeats the statement when the connection is lost; if the first run
        # committed and only its answer was lost, the jobs it took are running under
        # this token already: the repeat answers those instead of claiming more (which
        # would leave the first batch running, unknown to the worker, until its lease
        # ran out, at the cost of an attempt).
        columns = ", ".join(_CLAIM_COLUMNS)
        sql = f"""
            WITH mine AS (
                SELECT id FROM clx.jobs WHERE lease_token = %(token)s AND state = 'running'
            ), picked AS (
                SELECT id FROM clx.jobs
                WHERE session_key = (SELECT key FROM clx.sessions WHERE id = %(session)s)
                  AND state = 'pending' AND kind = ANY(%(kinds)s)
                  AND (not_before IS NULL OR not_before <= {NOW})
                  AND NOT EXISTS (SELECT 1 FROM mine)
                ORDER BY priority DESC, id
                LIMIT %(limit)s
                FOR UPDATE SKIP LOCKED
            ), claimed AS (
                UPDATE clx.jobs j SET state = 'running', attempts = attempts + 1,
                    lease_token = %(token)s, worker_id = %(worker)s, started_at = {NOW},
                    lease_expires = {NOW} + make_interval(secs => %(lease)s), not_before = NULL
                FROM picked WHERE j.id = picked.id AND j.state = 'pending'
                RETURNING {", ".join(f"j.{c}" for c in _CLAIM_COLUMNS)}
            )
            SELECT {columns} FROM claimed
            UNION ALL
            SELECT {columns} FROM clx.jobs WHERE id IN (SELECT id FROM mine)"""
        params = self._p(
            session=session,
            kinds=kinds,
            limit=limit,
            token=token,
            worker=worker_id,
            lease=float(lease_seconds),
        )
        rows = self._call(lambda db: db.execute(sql, params).fetchall())
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
                lease_expires=_utc(r[8]),  # type: ignore[arg-type]
            )
            for r in rows
        ]

    def heartbeat(self, token: str, lease_seconds: float = DEFAULT_LEASE_SECONDS) -> set[int]:
        rows = self._call(
            lambda db: db.execute(
                f"UPDATE clx.jobs SET lease_expires = {NOW} + make_interval(secs => %(lease)s) "
                "WHERE lease_token = %(token)s AND state = 'running' RETURNING id",
                self._p(lease=float(lease_seconds), token=token),
            ).fetchall()
        )
        return {r[0] for r in rows}

    def complete_many(self, completions: Sequence[Completion]) -> list[bool]:
        if not completions:
            return []
        ids = sorted({c.job_id for c in completions})

        def op(db: psycopg.Connection) -> list[bool]:
            accepted = [False] * len(completions)
            with db.transaction():
                keys = [
                    r[0]
                    for r in db.execute(
                        "SELECT DISTINCT session_key FROM clx.jobs WHERE id = ANY(%s) "
                        "AND state = 'running'",
                        (ids,),
                    )
                ]
                if not keys:
                    return accepted
                self._lock_sessions(db, keys)
                live = {
                    job_id: (token, key)
                    for job_id, token, key in db.execute(
                        "SELECT id, lease_token, session_key FROM clx.jobs "
                        "WHERE id = ANY(%s) AND state = 'running' ORDER BY id FOR UPDATE",
                        (ids,),
                    )
                }
                rows = []
                for i, c in enumerate(completions):
                    hit = live.get(c.job_id)
                    if hit is not None and hit[0] == c.token:
                        del live[c.job_id]  # a second completion of the same job is rejected
                        accepted[i] = True
                        rows.append(
                            (hit[1], c.job_id, JobState.SUCCEEDED, _dump_optional(c.result), None)
                        )
                self._finish(db, rows)
            return accepted

        return self._call(op)

    def _running_row(
        self, db: psycopg.Connection, job_id: int, token: str
    ) -> tuple[int, int, int] | None:
        """(session key, attempts, max_attempts) of a job running under ``token``, with
        its session and its row locked; None if the fence rejects it."""
        row = db.execute(
            "SELECT session_key FROM clx.jobs WHERE id = %s AND state = 'running' "
            "AND lease_token = %s",
            (job_id, token),
        ).fetchone()
        if row is None:
            return None
        self._lock_sessions(db, [row[0]])
        return db.execute(
            "SELECT session_key, attempts, max_attempts FROM clx.jobs WHERE id = %s "
            "AND state = 'running' AND lease_token = %s FOR UPDATE",
            (job_id, token),
        ).fetchone()

    def fail(
        self,
        job_id: int,
        token: str,
        error: JobError,
        *,
        result: Mapping[str, Any] | None = None,
    ) -> bool:
        def op(db: psycopg.Connection) -> bool:
            with db.transaction():
                row = self._running_row(db, job_id, token)
                if row is None:
                    return False
                key, attempts, max_attempts = row
                self._failed_attempt(
                    db, key, job_id, attempts, max_attempts, error, _dump_optional(result)
                )
                return True

        return self._call(op)

    def release(self, job_ids: Iterable[int], token: str) -> int:
        wanted = sorted(set(job_ids))

        def op(db: psycopg.Connection) -> int:
            released = 0
            with db.transaction():
                for job_id in wanted:
                    row = self._running_row(db, job_id, token)
                    if row is None:
                        continue
                    if self._to_pending(
                        db,
                        job_id,
                        "attempts = attempts - 1, lease_token = NULL, lease_expires = NULL, "
                        "worker_id = NULL, started_at = NULL",
                        {},
                    ):
                        released += 1
                    else:  # an identical job is pending already
                        self._finish(db, [(row[0], job_id, JobState.CANCELLED, None, None)])
            return released

        return self._call(op)

    def _reclaim(
        self, where: str, params: dict[str, Any], describe: Callable[..., JobError]
    ) -> int:
        select = "SELECT session_key FROM clx.jobs WHERE state = 'running' AND " + where

        def op(db: psycopg.Connection) -> int:
            with db.transaction():
                keys = [r[0] for r in db.execute(select, self._p(**params))]
                if not keys:
                    return 0
                self._lock_sessions(db, keys)
                rows = db.execute(
                    "SELECT id, session_key, attempts, max_attempts, worker_id, "
                    "payload::json->>'file' FROM clx.jobs WHERE state = 'running' AND "
                    f"{where} ORDER BY id FOR UPDATE",
                    self._p(**params),
                ).fetchall()
                for job_id, key, attempts, max_attempts, worker_id, file in rows:
                    error = describe(worker_id, attempts, max_attempts, file)
                    self._failed_attempt(db, key, job_id, attempts, max_attempts, error, None)
                return len(rows)

        return self._call(op)

    def reclaim_expired(self) -> int:
        def describe(worker_id: str | None, attempt: int, max_attempts: int, file: Any) -> JobError:
            return JobError.of(
                Category.INFRASTRUCTURE,
                f"worker {worker_id} stopped renewing its lease (it died, hung or lost its "
                f"connection) during attempt {attempt} of {max_attempts}",
                file=file if isinstance(file, str) else None,
            )

        return self._reclaim(f"lease_expires < {NOW}", {}, describe)

    def release_worker(self, worker_id: str, error: JobError) -> int:
        def describe(_w: str | None, _a: int, _m: int, file: Any) -> JobError:
            if not isinstance(file, str):
                return error
            return JobError(
                error.category,
                tuple(p if p.file else replace(p, file=file) for p in error.problems),
            )

        return self._reclaim("worker_id = %(worker)s", {"worker": worker_id}, describe)

    # --- status ------------------------------------------------------------------------

    def counts(self, session: str) -> dict[str, dict[JobState, int]]:
        sql = (
            f"SELECT kind, state, count(*) FROM ({_session_rows('j.kind, j.state')}) t "
            "GROUP BY kind, state"
        )
        rows = self._call(
            lambda db: db.execute(
                sql.replace("%(key)s", _SESSION_KEY), {"session": session}
            ).fetchall()
        )
        out: dict[str, dict[JobState, int]] = {}
        for kind, state, n in rows:
            out.setdefault(kind, dict.fromkeys(JobState, 0))[JobState(state)] = n
        return out

    def finished_since(
        self, session: str, cursor: int = 0, *, limit: int | None = None
    ) -> FinishedJobs:
        sql = (
            f"SELECT {_JOB_COLUMNS}, j.finished_seq {_JOB_FROM} WHERE s.id = %s "
            "AND j.finished_seq > %s ORDER BY j.finished_seq"
        )
        params: tuple[Any, ...] = (session, cursor)
        if limit is not None:
            sql += " LIMIT %s"
            params += (limit,)
        rows = self._call(lambda db: db.execute(sql, params).fetchall())
        return FinishedJobs([_job_record(r) for r in rows], rows[-1][-1] if rows else cursor)

    def running(self, session: str) -> list[RunningJob]:
        rows = self._call(
            lambda db: db.execute(
                "SELECT j.id, j.kind, j.worker_id, j.attempts, j.started_at, j.lease_expires, "
                f"j.outputs, extract(epoch FROM {NOW} - j.started_at) "
                "FROM clx.jobs j WHERE j.state = 'running' "
                "AND j.session_key = (SELECT key FROM clx.sessions WHERE id = %(session)s) "
                "ORDER BY j.started_at, j.id",
                self._p(session=session),
            ).fetchall()
        )
        return [
            RunningJob(
                id=job_id,
                kind=kind,
                worker_id=worker,
                attempts=attempts,
                started_at=_utc(started),  # type: ignore[arg-type]
                lease_expires=_utc(expires),  # type: ignore[arg-type]
                elapsed=max(float(elapsed), 0.0),
                outputs=tuple(_decode(outputs)),
            )
            for job_id, kind, worker, attempts, started, expires, outputs, elapsed in rows
        ]

    def jobs(
        self,
        session: str,
        *,
        states: Iterable[JobState] | None = None,
        kinds: Iterable[str] | None = None,
    ) -> list[JobRecord]:
        states = None if states is None else list(states)
        ids = _session_rows("j.id", _parts(JobState if states is None else states))
        if not ids:
            return []
        sql = f"SELECT {_JOB_COLUMNS} {_JOB_FROM} WHERE j.id IN ({ids})"
        params: dict[str, Any] = {"session": session}
        for column, values in (("state", states), ("kind", kinds)):
            if values is not None:
                sql += f" AND j.{column} = ANY(%({column})s)"
                params[column] = [str(v) for v in values]
        sql = sql.replace("%(key)s", _SESSION_KEY) + " ORDER BY j.id"
        rows = self._call(lambda db: db.execute(sql, params).fetchall())
        return [_job_record(r) for r in rows]

    def get(self, job_id: int) -> JobRecord | None:
        row = self._call(
            lambda db: db.execute(
                f"SELECT {_JOB_COLUMNS}, j.payload {_JOB_FROM} WHERE j.id = %s", (job_id,)
            ).fetchone()
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
        self._call(
            lambda db: db.execute(
                "INSERT INTO clx.workers (id, session, kinds, state, pid, host, started_at, "
                f"heartbeat_at) VALUES (%(id)s, %(session)s, %(kinds)s, 'starting', %(pid)s, "
                f"%(host)s, {NOW}, {NOW}) "
                "ON CONFLICT (id) DO UPDATE SET session = excluded.session, "
                "kinds = excluded.kinds, state = 'starting', "
                "pid = coalesce(excluded.pid, clx.workers.pid), "
                "host = coalesce(excluded.host, clx.workers.host), error = NULL, "
                "current_job = NULL, stopped_at = NULL, heartbeat_at = excluded.heartbeat_at",
                self._p(
                    id=worker_id, session=session, kinds=_encode(list(kinds)), pid=pid, host=host
                ),
            )
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
        sets: list[str] = []
        params: dict[str, Any] = {}
        if state is not None:
            sets.append("state = %(state)s")
            params["state"] = str(state)
            if WorkerState(state).gone:
                sets.append(f"stopped_at = {NOW}")
        for column, value in (("pid", pid), ("host", host), ("current_job", current_job)):
            if value is not UNSET:
                sets.append(f"{column} = %({column})s")
                params[column] = value
        if jobs_done is not None:
            sets.append("jobs_done = %(jobs_done)s")
            params["jobs_done"] = jobs_done
        if not isinstance(error, Unset):
            sets.append("error = %(error)s")
            params["error"] = None if error is None else _encode(error.to_dict())
        if heartbeat:
            sets.append(f"heartbeat_at = {NOW}")
        if not sets:
            return
        sql = f"UPDATE clx.workers SET {', '.join(sets)} WHERE id = %(worker)s"
        self._call(lambda db: db.execute(sql, self._p(worker=worker_id, **params)))

    def workers(self, session: str | None = None) -> list[WorkerRecord]:
        sql = (
            "SELECT id, session, kinds, state, pid, host, current_job, jobs_done, started_at, "
            "heartbeat_at, stopped_at, error FROM clx.workers"
        )
        params: tuple[Any, ...] = ()
        if session is not None:
            sql += " WHERE session = %s"
            params = (session,)
        sql += " ORDER BY position"
        rows = self._call(lambda db: db.execute(sql, params).fetchall())
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
                started_at=_utc(r[8]),  # type: ignore[arg-type]
                heartbeat_at=_utc(r[9]),
                stopped_at=_utc(r[10]),
                error=_load_error(r[11]),
            )
            for r in rows
        ]

    # --- lifetime ----------------------------------------------------------------------

    def close(self) -> None:
        if self._pid == os.getpid():
            for conn in (self._conn, self._listener):
                if conn is not None:
                    with contextlib.suppress(Exception):
                        conn.close()
        self._conn, self._listener, self._listening = None, None, set()

    # --- administration ----------------------------------------------------------------

    def sessions(self, *, limit: int | None = None) -> list[SessionRecord]:
        sql = "SELECT id, state, info, created_at, closed_at FROM clx.sessions ORDER BY key DESC"
        params: tuple[Any, ...] = ()
        if limit is not None:
            sql += " LIMIT %s"
            params = (limit,)
        rows = self._call(lambda db: db.execute(sql, params).fetchall())
        return [
            SessionRecord(
                id=r[0],
                state=SessionState(r[1]),
                info={} if r[2] is None else _decode(r[2]),
                created_at=_utc(r[3]),  # type: ignore[arg-type]
                closed_at=_utc(r[4]),
            )
            for r in rows
        ]

    def retry(self, session: str | None, job_ids: Iterable[int] | None = None) -> list[int]:
        if session is None and job_ids is None:
            raise ValueError("retry needs a session or job ids")
        wanted = None if job_ids is None else sorted(set(job_ids))

        def op(db: psycopg.Connection) -> list[int]:
            sql = (
                "SELECT j.id, j.session_key "
                + _JOB_FROM
                + (" WHERE j.state IN ('failed', 'cancelled')")
            )
            params: list[Any] = []
            if session is not None:
                sql += " AND s.id = %s"
                params.append(session)
            if wanted is not None:
                sql += " AND j.id = ANY(%s)"
                params.append(wanted)
            retried: list[int] = []
            with db.transaction():
                found = db.execute(sql, params).fetchall()
                self._lock_sessions(db, [k for _, k in found])
                ids = sorted(
                    r[0]
                    for r in db.execute(
                        "SELECT id FROM clx.jobs WHERE id = ANY(%s) "
                        "AND state IN ('failed', 'cancelled') FOR UPDATE",
                        ([i for i, _ in found],),
                    )
                )
                for job_id in ids:
                    if self._to_pending(
                        db,
                        job_id,
                        "attempts = 0, lease_token = NULL, lease_expires = NULL, "
                        "worker_id = NULL, not_before = NULL, result = NULL, error = NULL, "
                        "finished_seq = NULL, finished_at = NULL, started_at = NULL",
                        {},
                    ):
                        retried.append(job_id)
            return retried

        return self._call(op)
