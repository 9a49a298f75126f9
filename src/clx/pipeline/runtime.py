"""The queue session and worker pool a build runs its jobs on.

A one-shot build owns one for its lifetime; watch mode keeps one across rebuilds, so
kernels, the PlantUML JVM and the Chromium page stay warm between saves.

Opening one also tidies the database: sessions left open by build processes that no
longer exist are closed (their unfinished jobs cancelled), and only the newest
``KEEP_FINISHED_BUILDS`` finished builds keep their job records, so ``clx.db`` does not
grow with every build.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import psutil

from clx.blobs import FileBlobs, PostgresBlobs
from clx.problems import Problem
from clx.queue.base import Queue, SessionRecord
from clx.queue.location import open_queue
from clx.queue.model import JobRecord, SessionState
from clx.queue.postgres import PostgresQueue
from clx.workers.pool import WorkerPool

log = logging.getLogger(__name__)

# Finished builds whose jobs stay inspectable (clx status / jobs list --session).
KEEP_FINISHED_BUILDS = 20


def _started(pid: int) -> float | None:
    """When process ``pid`` started (Unix seconds), or None if there is no such process."""
    try:
        return psutil.Process(pid).create_time()
    except (psutil.NoSuchProcess, psutil.AccessDenied, ValueError):
        return None


def build_is_running(queue: Queue, s: SessionRecord) -> bool:
    """The session is open and its build process (started before the session opened) or
    one of its workers (started after) is alive.

    The start times keep a recycled process id from making a crashed build look alive.
    A session opened on another host (a shared server queue) counts as running: its
    processes cannot be seen from here.
    """
    if s.state is not SessionState.OPEN:
        return False
    if s.info.get("host", socket.gethostname()) != socket.gethostname():
        return True
    opened = s.created_at.timestamp()
    pid = s.info.get("pid")
    if isinstance(pid, int) and (started := _started(pid)) is not None and started <= opened + 1:
        return True
    return any(
        (started := _started(w.pid)) is not None and started >= opened - 1
        for w in queue.workers(s.id)
        if not w.state.gone and w.pid
    )


def running_builds(queue: Queue, *, exclude_pid: int | None = None) -> list[SessionRecord]:
    """The builds running now; ``exclude_pid`` leaves out the build of that process."""
    return [
        s
        for s in queue.sessions()
        if exclude_pid is None or s.info.get("pid") != exclude_pid
        if build_is_running(queue, s)
    ]


def tidy(queue: Queue, keep: int = KEEP_FINISHED_BUILDS) -> None:
    """Close the sessions of builds that died without closing them, then prune.

    Only sessions that recorded their build process count as abandoned: without one,
    nothing tells a crashed build from one that has not started its workers yet.
    """
    for s in queue.sessions():
        recorded = isinstance(s.info.get("pid"), int)
        if recorded and s.state is SessionState.OPEN and not build_is_running(queue, s):
            log.info("closing build %s: its process %s is gone", s.id[:8], s.info.get("pid"))
            queue.close_session(s.id)
            queue.cancel(s.id)
    pruned = queue.prune_sessions(keep)
    if pruned:
        log.info("forgot %d finished build(s)", len(pruned))


# The shortest time a blob on a shared server is kept after its last use: longer than
# any build runs (prune_server_blobs).
SERVER_BLOB_MIN_DAYS = 2.0


class BuildRuntime:
    """``db`` is the course's ``.clx/clx.db``; with ``queue_url`` the jobs go to that
    PostgreSQL queue instead (inputs and outputs travel as blobs through it), and
    ``local_workers`` caps the local pool per kind (0: none, remote workers serve)."""

    def __init__(
        self,
        db: Path,
        *,
        info: Mapping[str, object] | None = None,
        queue_url: str | None = None,
        local_workers: int | None = None,
        python: str | None = None,
    ) -> None:
        self.db = db
        self.python = python  # the course's interpreter, for the workers' warm kernel
        self.queue_url = queue_url
        self.local_workers = local_workers
        self.queue: Queue = open_queue(queue_url or db)
        tidy(self.queue)
        self.session = self.queue.open_session(
            info=dict(info or {}, pid=os.getpid(), host=socket.gethostname())
        )
        self.blobs = PostgresBlobs(self.queue) if isinstance(self.queue, PostgresQueue) else None
        self.pool: WorkerPool | None = None
        self.counts: dict[str, int] = {}

    def ensure_workers(
        self, counts: Mapping[str, int], warm_kernels: Sequence[str] = (),
        preload: Sequence[str] = (),
    ) -> WorkerPool | None:
        """Make sure at least ``counts`` workers per kind run; grows the pool if needed.
        None when the build starts no local workers. ``warm_kernels``: the kernelspecs a
        new pool's notebook workers boot spares of as they start; ``preload``: the modules
        their Python fork servers import meanwhile."""
        if self.local_workers is not None:
            counts = {k: min(n, self.local_workers) for k, n in counts.items()}
            counts = {k: n for k, n in counts.items() if n > 0}
            if not counts:
                return self.pool
        wanted = dict(self.counts)
        for kind, n in counts.items():
            wanted[kind] = max(wanted.get(kind, 0), n)
        if self.pool is None or wanted != self.counts:
            if self.pool is not None:
                log.info("restarting the worker pool for %s", wanted)
                self.pool.stop()
            self.pool = WorkerPool(
                self.queue_url or self.db,
                self.session,
                wanted,
                state_dir=self.db.parent,
                warm_kernels=warm_kernels,
                preload=preload,
                course_python=self.python or "",
            )
            self.pool.start()
            self.counts = wanted
        return self.pool

    def publish_inputs(self, digests: Iterable[str]) -> int:
        """Server queues: upload the input blobs the server lacks (else nothing to do)."""
        if self.blobs is None:
            return 0
        from clx.pipeline.remote import publish_inputs

        sent = publish_inputs(FileBlobs(self.db.parent / "blobs"), self.blobs, digests)
        if sent:
            log.info("uploaded %d input blob(s) to the queue database", sent)
        return sent

    def prune_server_blobs(self, keep_days: float) -> None:
        """Server queues: drop the blobs no build has used for ``keep_days`` days, but at
        least ``SERVER_BLOB_MIN_DAYS``: the table is shared by every course and build on
        the server, and one course's ``cache-keep-days = 0`` must not delete the inputs
        and unfetched outputs of builds running elsewhere. A failure is only logged."""
        if not isinstance(self.blobs, PostgresBlobs):
            return
        try:
            count, size = self.blobs.prune(max(keep_days, SERVER_BLOB_MIN_DAYS))
        except Exception as e:  # noqa: BLE001 - a clean-up never fails a build
            log.warning("pruning the queue database's blobs failed: %s", e)
            return
        if count:
            log.info("pruned %d blob(s), %d bytes, from the queue database", count, size)

    def land_outputs(self, job: JobRecord, planned_outputs: Iterable[str]) -> list[Problem]:
        """Server queues: write a finished job's returned outputs into the output tree,
        to the paths the build planned for it."""
        if self.blobs is None:
            return []
        from clx.pipeline.remote import land_outputs

        return land_outputs(job, self.blobs, planned_outputs)

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
