"""The values that cross the Queue interface: plain data, no database types.

Everything here is what a PostgreSQL backend would hand out just the same: integer job
ids, string session and worker ids, timezone-aware UTC datetimes and JSON-able dicts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from clx.problems import Category, Problem

DEFAULT_MAX_ATTEMPTS = 3
DEFAULT_LEASE_SECONDS = 30.0


class JobState(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self in FINISHED_STATES


FINISHED_STATES = frozenset({JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED})


class WorkerState(StrEnum):
    STARTING = "starting"
    READY = "ready"
    BUSY = "busy"
    STOPPED = "stopped"
    DEAD = "dead"
    CONFIG_ERROR = "config-error"

    @property
    def gone(self) -> bool:
        """The worker process has ended: stopped, or found dead."""
        return self in (WorkerState.STOPPED, WorkerState.DEAD)


class SessionState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


def utc_now() -> datetime:
    return datetime.now(UTC)


def format_time(t: datetime) -> str:
    """Fixed-width UTC text, so that text order is time order in any database."""
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


@dataclass(frozen=True)
class JobError:
    """Why a job failed: who has to act (category) and the problems that explain it."""

    category: Category
    problems: tuple[Problem, ...] = ()

    @classmethod
    def of(cls, category: Category, message: str, **problem_fields: Any) -> JobError:
        return cls(category, (Problem(message=message, category=category, **problem_fields),))

    @property
    def message(self) -> str:
        return "; ".join(p.message for p in self.problems) or str(self.category)

    def to_dict(self) -> dict[str, Any]:
        return {"category": str(self.category), "problems": [p.to_dict() for p in self.problems]}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> JobError:
        return cls(
            Category(d["category"]),
            tuple(Problem.from_dict(p) for p in d.get("problems", ())),
        )


@dataclass(frozen=True)
class NewJob:
    """A job to enqueue.

    ``payload`` carries the canonical input (source text, hashes of the files it reads),
    so the worker processes exactly what was hashed into ``cache_key``. ``outputs`` are
    the paths the job will write; with ``kind`` and ``cache_key`` they identify duplicate
    pending work. Higher ``priority`` runs first; equal priorities run oldest first.
    """

    kind: str
    payload: Mapping[str, Any]
    cache_key: str
    outputs: Sequence[str] = ()
    priority: int = 0
    max_attempts: int = DEFAULT_MAX_ATTEMPTS


@dataclass(frozen=True)
class ClaimedJob:
    """A job handed to one worker; ``token`` fences every later write about it."""

    id: int
    session: str
    kind: str
    payload: dict[str, Any]
    cache_key: str
    outputs: tuple[str, ...]
    attempt: int
    max_attempts: int
    token: str
    lease_expires: datetime


@dataclass(frozen=True)
class Completion:
    job_id: int
    token: str
    result: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class JobRecord:
    """A job as status queries see it (``payload`` only from ``Queue.get``)."""

    id: int
    session: str
    kind: str
    state: JobState
    priority: int
    cache_key: str
    outputs: tuple[str, ...]
    attempts: int
    max_attempts: int
    worker_id: str | None
    lease_token: str | None
    lease_expires: datetime | None
    not_before: datetime | None
    result: dict[str, Any] | None
    error: JobError | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    payload: dict[str, Any] | None = None


@dataclass(frozen=True)
class FinishedJobs:
    """Jobs that reached a final state after a cursor, and the cursor to ask with next."""

    jobs: list[JobRecord]
    cursor: int


@dataclass(frozen=True)
class RunningJob:
    id: int
    kind: str
    worker_id: str | None
    attempts: int
    started_at: datetime
    lease_expires: datetime
    elapsed: float  # seconds since the current attempt started
    outputs: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class WorkerRecord:
    id: str
    session: str
    kinds: tuple[str, ...]
    state: WorkerState
    pid: int | None
    host: str | None
    current_job: int | None
    jobs_done: int
    started_at: datetime
    heartbeat_at: datetime | None
    stopped_at: datetime | None
    error: JobError | None


class Unset:
    """Marks 'leave this field alone' where None is a meaningful new value."""

    _instance: Unset | None = None

    def __new__(cls) -> Unset:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNSET"


UNSET = Unset()
