"""The queue session and worker pool a build runs its jobs on.

A one-shot build owns one for its lifetime; watch mode keeps one across rebuilds, so
kernels, the PlantUML JVM and the Chromium page stay warm between saves.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path

from clx.queue.sqlite import SqliteQueue
from clx.workers.pool import WorkerPool

log = logging.getLogger(__name__)


class BuildRuntime:
    def __init__(self, db: Path, *, info: Mapping[str, object] | None = None) -> None:
        self.db = db
        self.queue = SqliteQueue(db)
        self.session = self.queue.open_session(info=dict(info or {}, pid=os.getpid()))
        self.pool: WorkerPool | None = None
        self.counts: dict[str, int] = {}

    def ensure_workers(self, counts: Mapping[str, int]) -> WorkerPool:
        """Make sure at least ``counts`` workers per kind run; grows the pool if needed."""
        wanted = dict(self.counts)
        for kind, n in counts.items():
            wanted[kind] = max(wanted.get(kind, 0), n)
        if self.pool is None or wanted != self.counts:
            if self.pool is not None:
                log.info("restarting the worker pool for %s", wanted)
                self.pool.stop()
            self.pool = WorkerPool(self.db, self.session, wanted)
            self.pool.start()
            self.counts = wanted
        return self.pool

    def close(self) -> None:
        try:
            if self.pool is not None:
                self.pool.stop()
        finally:
            try:
                self.queue.close_session(self.session)
            finally:
                self.queue.close()

    def __enter__(self) -> BuildRuntime:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
