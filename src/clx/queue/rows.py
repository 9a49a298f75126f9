"""Job rows as both engines store them, and back into ``JobRecord``s.

SQLite and PostgreSQL select the same job columns in the same order (each engine's
``_JOB_COLUMNS``) and keep payloads, results and errors as the same compact JSON text, so
one decoder serves both; only how a stored time becomes a ``datetime`` differs, and the
engine passes that in.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import orjson

from clx.queue.model import JobError, JobRecord, JobState

# Like the standard library, accept non-string keys (written as strings).
JSON_OPTIONS = orjson.OPT_NON_STR_KEYS


def encode(value: Any) -> str:
    """Compact JSON text; orjson, because encoding every payload of a bulk enqueue with
    the standard library took about a third of its time."""
    return orjson.dumps(value, option=JSON_OPTIONS).decode()


decode = orjson.loads


def dump_optional(value: Mapping[str, Any] | None) -> str | None:
    return None if value is None else encode(dict(value))


def load_error(text: str | None) -> JobError | None:
    return None if text is None else JobError.from_dict(decode(text))


def job_record(
    row: Sequence[Any], to_time: Callable[[Any], datetime | None], payload: str | None = None
) -> JobRecord:
    """A ``JobRecord`` from a row of the engines' job columns; ``to_time`` reads a stored
    time (``None`` stays ``None``)."""
    return JobRecord(
        id=row[0],
        session=row[1],
        kind=row[2],
        state=JobState(row[3]),
        priority=row[4],
        cache_key=row[5],
        outputs=tuple(decode(row[6])),
        attempts=row[7],
        max_attempts=row[8],
        worker_id=row[9],
        lease_token=row[10],
        lease_expires=to_time(row[11]),
        not_before=to_time(row[12]),
        result=None if row[13] is None else decode(row[13]),
        error=load_error(row[14]),
        created_at=to_time(row[15]),  # type: ignore[arg-type]
        started_at=to_time(row[16]),
        finished_at=to_time(row[17]),
        payload=None if payload is None else decode(payload),
    )
