"""The worker process: claim → run the handler → write outputs → complete, until told to stop.

One worker serves one or more job kinds, each through a handler whose tool stays warm
for the whole build. The main thread runs jobs; a heartbeat thread renews the lease,
publishes the worker's state and notices when a job was cancelled or the worker must
stop while a handler is stuck. Signal handlers only set flags.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import threading
import time
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from clx.blobs import Blobs, blobs_for
from clx.problems import Category, ClxError, ConfigurationError, InfrastructureError, Problem
from clx.processes import die_with_parent, kill_tree, parent_alive
from clx.queue import (
    DEFAULT_LEASE_SECONDS,
    ClaimedJob,
    Completion,
    JobError,
    Queue,
    SessionState,
    WorkerState,
)
from clx.queue.location import open_queue
from clx.store import atomic_write
from clx.workers import registry
from clx.workers.handler import Handler, JobView, Outcome

log = logging.getLogger(__name__)

EXIT_OK = 0
#: The worker left a cancelled job whose handler would not return; the pool restarts the
#: worker without counting a crash.
EXIT_ABANDONED = 3
EXIT_START_FAILED = 4  # a tool died during start-up: the pool restarts the worker
#: Completions are buffered at most this long (or until the claimed batch is done).
FLUSH_SECONDS = 0.2


@dataclass(frozen=True)
class WorkerConfig:
    #: The SQLite queue file; None when the queue is a server (``queue_url``).
    db_path: Path | None
    session: str
    kinds: tuple[str, ...]
    worker_id: str
    lease_seconds: float = DEFAULT_LEASE_SECONDS
    #: Jobs per claim; default: the smallest ``claim_batch`` of the handlers (else 1).
    #: Slow jobs must be claimed one at a time, or one worker hoards the queue.
    batch: int | None = None
    poll_min: float = 0.005
    poll_max: float = 0.25
    backoff_base: float = 1.0
    #: After a stop request a running job may finish for this long; then it is handed
    #: back to the queue and the worker exits.
    stop_grace: float = 1.0
    #: A cancelled job whose handler has not returned after this long makes the worker
    #: exit (EXIT_ABANDONED), killing the tools it was using.
    abandon_grace: float = 2.0
    #: Exit after this many jobs (recycling); None: never.
    max_jobs: int | None = None
    #: A PostgreSQL queue instead of ``db_path``.
    queue_url: str | None = None
    #: The state folder handed to handlers; default: the SQLite file's folder (``.clx``).
    work_dir: Path | None = None
    #: Serve the jobs of every open build session, taking turns (``clx worker``);
    #: ``session`` is then the pool's own session, which only bounds the worker's life.
    serve_all: bool = False

    @property
    def state_dir(self) -> Path | None:
        if self.work_dir is not None:
            return self.work_dir
        return None if self.db_path is None else self.db_path.parent

    def open_queue(self) -> Queue:
        target = self.queue_url or self.db_path
        if target is None:
            raise ValueError("a worker needs a queue: a SQLite file or a PostgreSQL URL")
        return open_queue(target, backoff_base=self.backoff_base)


def _tail(exc: BaseException, lines: int = 20) -> str:
    text = "".join(traceback.format_exception(exc))
    return "\n".join(text.rstrip().splitlines()[-lines:])


def _source_file(job: ClaimedJob) -> str | None:
    file = job.payload.get("file")
    return file if isinstance(file, str) else None


def _name_file(problems: Sequence[Problem], file: str | None) -> tuple[Problem, ...]:
    """Problems made without knowing the job's source file get it from the payload."""
    if file is None:
        return tuple(problems)
    return tuple(p if p.file else replace(p, file=file) for p in problems)


class _ToolDiedAtStart(Exception):
    pass


def error_from_exception(exc: BaseException, job: ClaimedJob) -> JobError:
    """Map a handler's exception onto the failure categories (content and configuration
    fail at once; everything unexpected is infrastructure and is retried)."""
    file = _source_file(job)
    if isinstance(exc, ClxError):
        problems = exc.problems or [
            Problem(message=str(exc) or type(exc).__name__, category=exc.category)
        ]
        return JobError(exc.category, _name_file(problems, file))
    problem = Problem(
        message=f"{type(exc).__name__}: {exc}",
        category=Category.INFRASTRUCTURE,
        detail=_tail(exc),
    )
    return JobError(Category.INFRASTRUCTURE, _name_file([problem], file))


def _json_safe(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


class Worker:
    def __init__(self, config: WorkerConfig, handlers: Mapping[str, Handler] | None = None) -> None:
        self.config = config
        self._handlers: dict[str, Handler] = dict(handlers or {})
        self._config_errors: dict[str, JobError] = {}
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._lock = threading.Lock()
        # Shared with the heartbeat thread (under _lock):
        self._token: str | None = None
        self._held: set[int] = set()
        self._lost: set[int] = set()
        self._current: int | None = None
        self._current_lost_at: float | None = None
        self._stop_requested_at: float | None = None
        self._jobs_done = 0
        self._pending: list[Completion] = []
        self._pending_since = 0.0
        self._queue: Queue | None = None
        self._remote_blobs: Blobs | None = None
        self._turn = 0

    # --- control -----------------------------------------------------------------------

    def request_stop(self, *_: Any) -> None:
        """Safe from a signal handler: only sets flags."""
        self._stop.set()
        self._wake.set()

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGTERM, self.request_stop)
        signal.signal(signal.SIGINT, self.request_stop)

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    # --- lifecycle ---------------------------------------------------------------------

    def run(self) -> int:
        cfg = self.config
        parent = os.getppid()
        die_with_parent()
        if not parent_alive(parent):
            return EXIT_OK
        self._queue = queue = cfg.open_queue()
        # A server queue: inputs come from its blob table and outputs go back there, for
        # the build to write; no file system is shared with the build's host.
        self._remote_blobs = blobs_for(queue, None) if queue.blocking_claim else None
        queue.register_worker(
            cfg.worker_id, cfg.session, cfg.kinds, pid=os.getpid(), host=socket.gethostname()
        )
        heartbeat = _Heartbeat(self, parent)
        try:
            try:
                self._start_handlers()
            except _ToolDiedAtStart as e:
                # A tool process died while warming up (SIGKILLed, out of memory): not
                # the operator's to fix. Exit as crashed; the pool starts a new worker.
                log.error("a tool died while the worker started: %s", e)
                return EXIT_START_FAILED
            error = self._startup_error()
            queue.update_worker(
                cfg.worker_id,
                state=WorkerState.CONFIG_ERROR if error else WorkerState.READY,
                error=error,
            )
            heartbeat.start()
            log.info("worker %s ready for %s", cfg.worker_id, ",".join(cfg.kinds))
            self._loop(queue, parent)
        finally:
            heartbeat.finish()
            self._shutdown(queue)
        return EXIT_OK

    def _start_handlers(self) -> None:
        for kind in self.config.kinds:
            try:
                handler = self._handlers.get(kind) or registry.create(kind)
                self._handlers[kind] = handler
                handler.start()
            except InfrastructureError as e:
                raise _ToolDiedAtStart(f"the {kind} handler: {e}") from e
            except Exception as e:  # any other failure to start is the operator's to fix
                problems = getattr(e, "problems", None) or [
                    Problem(
                        message=f"the {kind} worker cannot start: {e}",
                        category=Category.CONFIGURATION,
                        detail=None if isinstance(e, ConfigurationError) else _tail(e),
                    )
                ]
                self._config_errors[kind] = JobError(Category.CONFIGURATION, tuple(problems))
                log.error("cannot start the %s handler: %s", kind, e)

    def _startup_error(self) -> JobError | None:
        if not self._config_errors:
            return None
        problems = tuple(p for e in self._config_errors.values() for p in e.problems)
        return JobError(Category.CONFIGURATION, problems)

    def _shutdown(self, queue: Queue) -> None:
        with self._lock:
            token, unstarted = self._token, self._held - self._lost
            self._token, self._held = None, set()
        try:
            self._flush(queue)
            if token and unstarted:
                queue.release(unstarted, token)
        finally:
            for kind, handler in self._handlers.items():
                if kind in self._config_errors:
                    continue
                try:
                    handler.stop()
                except Exception:
                    log.exception("stopping the %s handler failed", kind)
            queue.update_worker(
                self.config.worker_id,
                state=WorkerState.STOPPED,
                current_job=None,
                jobs_done=self._jobs_done,
            )
            kill_tree(os.getpid(), include_root=False)  # tools a handler failed to stop
            queue.close()
            log.info("worker %s stopped after %d jobs", self.config.worker_id, self._jobs_done)

    # --- the loop ----------------------------------------------------------------------

    def _batch(self) -> int:
        if self.config.batch:
            return self.config.batch
        sizes = [getattr(h, "claim_batch", 1) for h in self._handlers.values()]
        return max(1, min(sizes, default=1))

    def _loop(self, queue: Queue, parent: int) -> None:
        cfg = self.config
        batch = self._batch()
        delay = cfg.poll_min
        maintenance_every = min(max(cfg.lease_seconds / 2, 0.05), 1.0)
        next_maintenance = 0.0
        while not self.stopping and parent_alive(parent):
            jobs = self._claim(queue, batch)
            if not jobs:
                self._flush(queue)
                if time.monotonic() >= next_maintenance:
                    next_maintenance = time.monotonic() + maintenance_every
                    if queue.reclaim_expired():
                        continue  # reclaimed jobs may be ours to take right away
                    if queue.session_state(cfg.session) is not SessionState.OPEN:
                        log.info("session %s is closed; exiting", cfg.session)
                        return
                if queue.blocking_claim:
                    # Woken by the engine when work arrives; the timeout keeps the
                    # maintenance above and a stop request timely.
                    queue.wait_for_jobs(min(maintenance_every, 0.5))
                else:
                    self._wake.wait(delay)
                    delay = min(delay * 2, cfg.poll_max)
                continue
            delay = cfg.poll_min
            self._run_batch(queue, jobs)
            if cfg.max_jobs is not None and self._jobs_done >= cfg.max_jobs:
                log.info("recycling after %d jobs", self._jobs_done)
                return

    def _claim(self, queue: Queue, batch: int) -> list[ClaimedJob]:
        cfg = self.config
        if not cfg.serve_all:
            return queue.claim(
                cfg.session, cfg.kinds, cfg.worker_id, limit=batch, lease_seconds=cfg.lease_seconds
            )
        # Every open build, in turns: after a claim the next build is asked first, so one
        # busy build cannot starve another. Kinds whose tool is missing here are left to
        # workers on other hosts instead of being failed for every build.
        kinds = [k for k in cfg.kinds if k not in self._config_errors]
        if not kinds:
            return []
        builds = [
            s.id
            for s in queue.sessions()
            if s.state is SessionState.OPEN and not s.info.get("worker_pool")
        ]
        for i in range(len(builds)):
            session = builds[(self._turn + i) % len(builds)]
            jobs = queue.claim(
                session, kinds, cfg.worker_id, limit=batch, lease_seconds=cfg.lease_seconds
            )
            if jobs:
                self._turn = (self._turn + i + 1) % len(builds)
                return jobs
        return []

    def _run_batch(self, queue: Queue, jobs: list[ClaimedJob]) -> None:
        token = jobs[0].token
        with self._lock:
            self._token, self._held, self._lost = token, {j.id for j in jobs}, set()
        for job in jobs:
            if self.stopping:
                break
            with self._lock:
                if job.id in self._lost:
                    continue  # cancelled before it started
                self._current, self._current_lost_at = job.id, None
            try:
                self._run_one(queue, job)
            finally:
                with self._lock:
                    self._current = None
                    self._held.discard(job.id)
                    self._jobs_done += 1
            if self._pending and time.monotonic() - self._pending_since > FLUSH_SECONDS:
                self._flush(queue)
        self._flush(queue)
        with self._lock:
            unstarted, self._token, self._held = self._held - self._lost, None, set()
        if unstarted:
            queue.release(unstarted, token)

    def _is_lost(self, job_id: int) -> bool:
        with self._lock:
            return job_id in self._lost

    def _run_one(self, queue: Queue, job: ClaimedJob) -> None:
        if job.kind in self._config_errors:
            error = self._config_errors[job.kind]
            queue.fail(
                job.id,
                job.token,
                replace(error, problems=_name_file(error.problems, _source_file(job))),
            )
            return
        view = JobView(
            id=job.id,
            kind=job.kind,
            payload=job.payload,
            attempt=job.attempt,
            state_dir=self.config.state_dir,
            blobs=self._remote_blobs,
        )
        try:
            outcome = self._handlers[job.kind].run(view)
        except Exception as e:
            if self._is_lost(job.id):
                return
            error = error_from_exception(e, job)
            log.warning("job %d (%s) failed: %s", job.id, error.category, error.message)
            queue.fail(job.id, job.token, error)
            return
        if self._is_lost(job.id):
            log.info(
                "job %d was cancelled or reclaimed while running; dropping its outcome", job.id
            )
            return
        self._record(queue, job, outcome)

    def _record(self, queue: Queue, job: ClaimedJob, outcome: Outcome) -> None:
        written: list[str] = []
        blobs: dict[str, str] = {}
        try:
            if self._remote_blobs is not None:
                paths = sorted(outcome.files)
                digests = self._remote_blobs.put_many(outcome.files[p] for p in paths)
                blobs = dict(zip(paths, digests, strict=True))
            else:
                for path, data in sorted(outcome.files.items()):
                    if atomic_write(Path(path), data):
                        written.append(path)
        except OSError as e:
            # The output tree refuses the file (read-only, full, gone): name the output, no
            # traceback; the operator has to act, so it is not retried.
            problem = Problem(
                f"cannot write {e.filename or path}: {e.strerror or e}",
                file=_source_file(job),
                category=Category.CONFIGURATION,
            )
            queue.fail(job.id, job.token, JobError(Category.CONFIGURATION, (problem,)))
            return
        result = {
            "files": sorted(outcome.files),
            "written": written,
            # Output bytes by digest, for the build to write (server queues only).
            **({"blobs": blobs} if blobs else {}),
            "warnings": [p.to_dict() for p in outcome.problems if not p.is_error],
            "info": _json_safe(outcome.info),
        }
        if outcome.failed:
            errors = [p for p in outcome.problems if p.is_error]
            category = (
                Category.CONFIGURATION
                if any(p.category is Category.CONFIGURATION for p in errors)
                else Category.CONTENT
            )
            problems = _name_file(outcome.problems, _source_file(job))
            queue.fail(job.id, job.token, JobError(category, problems), result=result)
            return
        if not self._pending:
            self._pending_since = time.monotonic()
        self._pending.append(Completion(job.id, job.token, result))

    def _flush(self, queue: Queue) -> None:
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        for completion, ok in zip(pending, queue.complete_many(pending), strict=True):
            if not ok:
                log.warning("completion of job %d rejected: lease lost", completion.job_id)

    # --- for the heartbeat thread ------------------------------------------------------

    def _snapshot(self) -> tuple[str | None, set[int], int | None, int]:
        with self._lock:
            return self._token, set(self._held), self._current, self._jobs_done

    def _mark_lost(self, lost: set[int]) -> None:
        with self._lock:
            self._lost |= lost
            if self._current in lost and self._current_lost_at is None:
                self._current_lost_at = time.monotonic()

    def _hard_exit_reason(self) -> tuple[int, str] | None:
        """Whether a stuck handler forces the worker out (only while a job runs)."""
        now = time.monotonic()
        with self._lock:
            if self._current is None:
                return None
            if self._current_lost_at is not None and now - self._current_lost_at > (
                self.config.abandon_grace
            ):
                return EXIT_ABANDONED, f"abandoning cancelled job {self._current}"
            if self.stopping:
                if self._stop_requested_at is None:
                    self._stop_requested_at = now
                elif now - self._stop_requested_at > self.config.stop_grace:
                    return EXIT_OK, f"stop requested while job {self._current} runs"
        return None


class _Heartbeat(threading.Thread):
    """Renews the lease of the claimed jobs and publishes the worker's state."""

    def __init__(self, worker: Worker, parent: int) -> None:
        super().__init__(name="clx-heartbeat", daemon=True)
        self.worker = worker
        self.parent = parent
        self.interval = max(min(worker.config.lease_seconds / 3, 5.0), 0.02)
        self._done = threading.Event()

    def finish(self) -> None:
        self._done.set()
        if self.is_alive():
            self.join(timeout=5)

    def run(self) -> None:
        cfg = self.worker.config
        queue = cfg.open_queue()
        tick = min(self.interval, 0.1)
        next_beat = 0.0
        try:
            while not self._done.wait(tick):
                if not parent_alive(self.parent):
                    self.worker.request_stop()
                reason = self.worker._hard_exit_reason()
                if reason is not None:
                    self._exit_now(queue, *reason)
                if time.monotonic() >= next_beat:
                    next_beat = time.monotonic() + self.interval
                    self._beat(queue)
        except Exception:
            log.exception("heartbeat thread failed; stopping the worker")
            self.worker.request_stop()
        finally:
            queue.close()

    def _beat(self, queue: Queue) -> None:
        cfg = self.worker.config
        token, held, current, done = self.worker._snapshot()
        if token is not None:
            alive = queue.heartbeat(token, cfg.lease_seconds)
            lost = held - alive
            if lost:
                log.info("jobs %s were cancelled or reclaimed", sorted(lost))
                self.worker._mark_lost(lost)
        state = (
            WorkerState.CONFIG_ERROR
            if self.worker._config_errors
            else WorkerState.BUSY
            if current is not None
            else WorkerState.READY
        )
        queue.update_worker(cfg.worker_id, state=state, current_job=current, jobs_done=done)

    def _exit_now(self, queue: Queue, code: int, why: str) -> None:
        """The main thread is stuck in a handler: hand its jobs back and leave."""
        cfg = self.worker.config
        log.warning("%s; exiting without waiting for the handler", why)
        token, held, _, done = self.worker._snapshot()
        try:
            if token is not None and held:
                queue.release(held, token)
            queue.update_worker(
                cfg.worker_id, state=WorkerState.STOPPED, current_job=None, jobs_done=done
            )
        finally:
            kill_tree(os.getpid(), include_root=False, timeout=1.0)
            logging.shutdown()
            os._exit(code)
