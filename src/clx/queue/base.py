"""The Queue contract: what every storage engine must guarantee, method by method.

The build (producer) and the workers (consumers) only talk to this interface, so a
PostgreSQL engine can replace SQLite without either side noticing. A claim never
deletes a job: it hands out a lease with a token, and only the holder of a live lease
may record the outcome. Everything a worker learns about its job afterwards (cancelled,
lease lost) it learns through ``heartbeat``.

Time is the engine's clock in UTC: the client's for SQLite (all processes of a build run
on one host), the server's for PostgreSQL (hosts' clocks differ). Tests pass a ``clock``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

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


@dataclass(frozen=True)
class SessionRecord:
    """A session as ``Queue.sessions`` lists it (for status commands)."""

    id: str
    state: SessionState
    info: dict[str, Any]
    created_at: datetime
    closed_at: datetime | None


class Queue(ABC):
    #: True if ``claim`` can wait for work by itself (e.g. LISTEN/NOTIFY); otherwise
    #: workers poll with backoff.
    blocking_claim: ClassVar[bool] = False

    # --- waiting (engines with notifications) -----------------------------------------

    def wait_for_jobs(self, timeout: float) -> bool:
        """Block until jobs may have become claimable (enqueued, retried, handed back) or
        ``timeout`` seconds pass; True if woken early. Without notifications
        (``blocking_claim`` False) return False at once: the caller polls."""
        return False

    def wait_for_finished(self, session: str, timeout: float) -> bool:
        """Block until a job of some session finished or ``timeout`` passes; True if
        woken. Without notifications return False at once: the caller polls."""
        return False

    # --- sessions (one build = one session) -------------------------------------------

    @abstractmethod
    def open_session(
        self, session: str | None = None, *, info: Mapping[str, Any] | None = None
    ) -> str:
        """Create a session (a random id if none is given) and return its id.

        Opening an existing open session is allowed and keeps its jobs.
        """

    @abstractmethod
    def close_session(self, session: str) -> None:
        """Mark the session closed; its workers stop claiming and exit. Jobs are kept."""

    @abstractmethod
    def session_state(self, session: str) -> SessionState | None:
        """The session's state, or None if it does not exist."""

    @abstractmethod
    def delete_session(self, session: str) -> None:
        """Remove the session with all its jobs and worker records."""

    @abstractmethod
    def prune_sessions(self, keep: int) -> list[str]:
        """Delete closed sessions (with their jobs and worker records) except the ``keep``
        newest closed ones, so the database does not grow with every build. Open sessions
        are never touched. Returns the ids deleted."""

    # --- producer ----------------------------------------------------------------------

    @abstractmethod
    def enqueue_many(self, session: str, jobs: Iterable[NewJob]) -> list[int]:
        """Add all jobs in one transaction (all or nothing) and return their ids in order.

        A job identical to a job that is still pending in the same session (same kind,
        ``cache_key`` and ``outputs``) is not added again; its position gets the
        id of the pending job. Jobs enter the state ``pending``.
        """

    def enqueue(self, session: str, job: NewJob) -> int:
        """One job; same guarantees as ``enqueue_many``."""
        return self.enqueue_many(session, [job])[0]

    @abstractmethod
    def cancel(self, session: str, job_ids: Iterable[int] | None = None) -> int:
        """Cancel the session's pending and running jobs (all, or those listed).

        Returns how many were cancelled. A running job becomes ``cancelled`` at once; its
        worker notices at its next heartbeat, abandons the job, and its later
        ``complete`` or ``fail`` is rejected. Finished jobs are left alone.
        """

    # --- consumer ----------------------------------------------------------------------

    @abstractmethod
    def claim(
        self,
        session: str,
        kinds: Sequence[str],
        worker_id: str,
        *,
        limit: int = 1,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
    ) -> list[ClaimedJob]:
        """Atomically move up to ``limit`` pending jobs of these kinds in this session to
        ``running`` and lease them to ``worker_id``.

        No job is ever handed to two live leases: the selection and the state change are
        one atomic step. Jobs come highest priority first, then oldest first; jobs whose
        retry backoff (``not_before``) has not passed are skipped. All jobs of one call
        share one new token and expire after ``lease_seconds`` unless heartbeats extend
        them. Each claim counts one attempt. Returns an empty list if nothing is ready.
        """

    @abstractmethod
    def heartbeat(self, token: str, lease_seconds: float = DEFAULT_LEASE_SECONDS) -> set[int]:
        """Extend the lease of every job still running under ``token`` to now +
        ``lease_seconds`` and return their ids.

        A claimed job missing from the answer was cancelled or reclaimed: the worker must
        abandon it and write nothing.
        """

    @abstractmethod
    def complete_many(self, completions: Sequence[Completion]) -> list[bool]:
        """Record success for each job whose lease ``token`` is still the live one; one
        transaction for all.

        Returns one flag per completion: False means the fence rejected it (stale token,
        job cancelled, reclaimed or already finished) and nothing was changed.
        """

    def complete(self, job_id: int, token: str, result: Mapping[str, Any] | None = None) -> bool:
        """One completion; same guarantees as ``complete_many``."""
        return self.complete_many([Completion(job_id, token, result)])[0]

    @abstractmethod
    def fail(
        self,
        job_id: int,
        token: str,
        error: JobError,
        *,
        result: Mapping[str, Any] | None = None,
    ) -> bool:
        """Record a failed attempt, fenced by ``token`` like ``complete``.

        Content and configuration errors fail the job at once. Infrastructure errors put
        it back to ``pending`` after an exponential backoff while attempts remain, and
        fail it after ``max_attempts``. ``result`` keeps what the attempt did produce
        (e.g. the files of the variants that worked). Returns False if rejected.
        """

    @abstractmethod
    def release(self, job_ids: Iterable[int], token: str) -> int:
        """Give claimed jobs that were never started back to ``pending`` without
        counting the attempt (a worker that stops cleanly). Fenced by ``token``."""

    @abstractmethod
    def reclaim_expired(self) -> int:
        """Treat every running job whose lease has expired as an infrastructure failure
        (the worker died or hung): retry with backoff or fail after ``max_attempts``.
        Safe to call from any process at any time; returns how many were reclaimed."""

    @abstractmethod
    def release_worker(self, worker_id: str, error: JobError) -> int:
        """The worker is known to be dead: handle its running jobs now, like
        ``reclaim_expired`` does after the lease, recording ``error``."""

    # --- status (batched: one query per question for a whole session) ------------------

    @abstractmethod
    def counts(self, session: str) -> dict[str, dict[JobState, int]]:
        """Number of jobs per kind and state, in one query (absent states are 0)."""

    @abstractmethod
    def finished_since(
        self, session: str, cursor: int = 0, *, limit: int | None = None
    ) -> FinishedJobs:
        """Jobs that reached a final state after ``cursor`` (0 = from the start), in the
        order they finished, without payloads; pass the returned cursor next time.

        Every job appears exactly once over a sequence of calls, so a waiting build never
        needs to ask about single jobs.
        """

    @abstractmethod
    def running(self, session: str) -> list[RunningJob]:
        """The session's running jobs with worker and elapsed time (for stall reports)."""

    @abstractmethod
    def jobs(
        self,
        session: str,
        *,
        states: Iterable[JobState] | None = None,
        kinds: Iterable[str] | None = None,
    ) -> list[JobRecord]:
        """The session's jobs (optionally filtered), oldest first, without payloads."""

    @abstractmethod
    def get(self, job_id: int) -> JobRecord | None:
        """One job with its payload, or None."""

    # --- workers -----------------------------------------------------------------------

    @abstractmethod
    def register_worker(
        self,
        worker_id: str,
        session: str,
        kinds: Sequence[str],
        *,
        pid: int | None = None,
        host: str | None = None,
    ) -> None:
        """Insert or reset the worker's row in state ``starting`` (before or when the
        process starts, so a status command sees it from the first moment)."""

    @abstractmethod
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
        """Change the given fields of the worker's row and (by default) stamp its
        heartbeat. Fields left UNSET stay as they are."""

    @abstractmethod
    def workers(self, session: str | None = None) -> list[WorkerRecord]:
        """Worker rows (of one session or all), in registration order."""

    # --- lifetime ----------------------------------------------------------------------

    @abstractmethod
    def close(self) -> None:
        """Release the connection(s); the object must not be used afterwards."""

    def __enter__(self) -> Queue:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- administration (status and repair commands) -----------------------------------

    @abstractmethod
    def sessions(self, *, limit: int | None = None) -> list[SessionRecord]:
        """Sessions, newest first (at most ``limit``), for commands that inspect builds."""

    @abstractmethod
    def retry(self, session: str | None, job_ids: Iterable[int] | None = None) -> list[int]:
        """Put failed and cancelled jobs back to ``pending`` as if new: attempts 0, no
        lease, result, error or backoff. Returns the ids that went back, in id order.

        ``session`` limits the jobs to one session (all its failed and cancelled jobs if
        ``job_ids`` is None); with ``session=None`` only the listed jobs are considered,
        whatever their session. Jobs in other states are left alone, and so is a job whose
        identical twin (same kind, ``cache_key`` and ``outputs``) is already pending: the
        twin does the work. One transaction for all.
        """
