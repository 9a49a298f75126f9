"""Job queue: the ``Queue`` contract and its SQLite implementation.

The queue stores and hands out jobs; it never imports course, notebook or diagram code.
"""

from clx.queue.base import Queue
from clx.queue.connection import connect
from clx.queue.model import (
    DEFAULT_LEASE_SECONDS,
    DEFAULT_MAX_ATTEMPTS,
    FINISHED_STATES,
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
    WorkerRecord,
    WorkerState,
    utc_now,
)
from clx.queue.sqlite import SqliteQueue

__all__ = [
    "DEFAULT_LEASE_SECONDS",
    "DEFAULT_MAX_ATTEMPTS",
    "FINISHED_STATES",
    "UNSET",
    "ClaimedJob",
    "Completion",
    "FinishedJobs",
    "JobError",
    "JobRecord",
    "JobState",
    "NewJob",
    "Queue",
    "RunningJob",
    "SessionState",
    "SqliteQueue",
    "WorkerRecord",
    "WorkerState",
    "connect",
    "utc_now",
]
