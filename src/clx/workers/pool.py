"""The build's worker pool: start workers, keep them alive, stop them without orphans.

Workers are registered in the database before their processes start, so a status
command sees them from the first moment. A supervisor pass (a background thread, and
``check()`` for the build's wait loop) notices a worker that died, hands its running
jobs back to the queue at once instead of waiting for the lease to expire, kills what
is left of its process tree and starts a replacement. Stopping (also on Ctrl-C) kills
every worker together with its tools.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from clx.notebooks.environments import COURSE_PYTHON_VARIABLE
from clx.problems import Category, InfrastructureError
from clx.processes import descendants, kill_processes, kill_tree, kill_tree_now, popen
from clx.queue import (
    DEFAULT_LEASE_SECONDS,
    JobError,
    Queue,
    SessionState,
    WorkerRecord,
    WorkerState,
)
from clx.queue.location import is_server_url, open_queue
from clx.workers.runtime import EXIT_ABANDONED, EXIT_OK

log = logging.getLogger(__name__)


def default_counts(cpu_count: int | None = None) -> dict[str, int]:
    """Notebooks are CPU-bound (one per core); one PlantUML JVM and one Chromium suffice
    (a second gave nothing resp. 1.3x in the measurements)."""
    return {"notebook": max(1, cpu_count or os.cpu_count() or 1), "plantuml": 1, "drawio": 1}


class PoolError(InfrastructureError):
    """The pool cannot serve a job kind any more (its workers keep dying)."""

# How long a worker may take to start (a JVM, Chromium and a page, kernels booting, on a
# loaded machine) before the pool takes it for hung; CLX_WORKER_START_TIMEOUT (seconds)
# overrides it.
DEFAULT_START_TIMEOUT = 180.0


def _start_timeout() -> float:
    try:
        return float(os.environ.get("CLX_WORKER_START_TIMEOUT", "") or DEFAULT_START_TIMEOUT)
    except ValueError:
        return DEFAULT_START_TIMEOUT


@dataclass
class PoolWorker:
    """One slot of the pool; its process is replaced when it dies."""

    slot: str
    kinds: tuple[str, ...]
    worker_id: str = ""
    process: subprocess.Popen | None = None
    log_path: Path | None = None
    crashes: int = 0
    restarts: int = 0
    gave_up: bool = False
    # Last seen descendants, killed if the worker dies and leaves them behind.
    tree: list[psutil.Process] = field(default_factory=list)
    tmp: Path | None = None  # the worker's TMPDIR (kernel folders, browser profiles)
    spawned_at: float = 0.0  # time.monotonic() of the last spawn
    started: bool = False  # its record left "starting" since the last spawn
    stuck: str = ""  # why the pool killed it, for the exit's reason

    @property
    def pid(self) -> int | None:
        return None if self.process is None else self.process.pid


class WorkerPool:
    """Worker processes for one build session.

    ``counts`` maps a job kind (or several, comma-separated, served by one worker) to a
    number of workers; default ``default_counts()``. ``queue`` is the SQLite file or a
    PostgreSQL URL (handed to the workers in their environment, never on a command line);
    ``state_dir`` is the folder handlers keep state in (default: the SQLite file's);
    ``warm_kernels`` the kernelspecs notebook workers boot spares of as they start and
    ``preload`` the modules their Python fork servers import then, ``course_python``
    the interpreter of the course's Python notebooks;
    ``start_timeout`` how long a worker may stay "starting" before it is restarted.
    Use as a context manager.
    """

    def __init__(
        self,
        queue: Path | str,
        session: str,
        counts: Mapping[str, int] | None = None,
        *,
        state_dir: Path | str | None = None,
        log_dir: Path | str | None = None,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        backoff_base: float = 1.0,
        max_restarts: int = 10,
        monitor_interval: float = 0.25,
        stop_timeout: float = 3.0,
        worker_args: Sequence[str] = (),
        python: str = sys.executable,
        env: Mapping[str, str] | None = None,
        warm_kernels: Sequence[str] = (),
        start_timeout: float | None = None,
        preload: Sequence[str] = (),
        course_python: str = "",
    ) -> None:
        self.queue_url = str(queue) if is_server_url(queue) else None
        self.db_path = None if self.queue_url else Path(queue).resolve()
        if state_dir is None and self.db_path is None:
            raise ValueError("a pool on a PostgreSQL queue needs a state_dir")
        self.state_dir = Path(state_dir).resolve() if state_dir else self.db_path.parent
        self.session = session
        self.counts = dict(default_counts() if counts is None else counts)
        self.log_dir = Path(log_dir) if log_dir else self.state_dir / "logs"
        self.lease_seconds = lease_seconds
        self.backoff_base = backoff_base
        self.max_restarts = max_restarts
        self.monitor_interval = monitor_interval
        self.stop_timeout = stop_timeout
        self.worker_args = list(worker_args)
        self.python = python
        self.env = dict(env) if env is not None else None
        self.warm_kernels = list(warm_kernels)
        self.preload = list(preload)
        self.course_python = course_python
        self.start_timeout = _start_timeout() if start_timeout is None else start_timeout
        self.tmp_root = worker_temp_root(self.state_dir)
        self.slots: list[PoolWorker] = [
            PoolWorker(slot=f"{spec.replace(',', '+')}-{i + 1}", kinds=_kinds(spec))
            for spec, n in self.counts.items()
            for i in range(n)
        ]
        self._lock = threading.RLock()
        self._local = threading.local()
        self._stop_event = threading.Event()
        self._monitor: threading.Thread | None = None
        self._started = False
        self._stopped = False
        self._next_reclaim = 0.0

    # --- public ------------------------------------------------------------------------

    def __enter__(self) -> WorkerPool:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def worker_ids(self) -> list[str]:
        return [w.worker_id for w in self.slots]

    def pids(self) -> list[int]:
        return [w.pid for w in self.slots if w.pid is not None]

    def start(self, *, monitor: bool = True) -> None:
        """Register every worker, then start all processes at once (no waiting between)."""
        if self._started:
            return
        self._started = True
        self.log_dir.mkdir(parents=True, exist_ok=True)
        remove_stale_temp(self.tmp_root)
        queue = self._queue()
        for w in self.slots:
            w.worker_id = f"{w.slot}-{secrets.token_hex(3)}"
            queue.register_worker(w.worker_id, self.session, w.kinds)
        for w in self.slots:
            self._spawn(w, queue, register=False)
        if monitor:
            self._monitor = threading.Thread(
                target=self._monitor_loop, name="clx-pool", daemon=True
            )
            self._monitor.start()

    def check(self) -> None:
        """One supervision pass: replace dead workers, reclaim expired leases.

        Raises PoolError if some job kind has no worker left that could serve it.
        """
        self._supervise(self._queue())
        served = {k for w in self.slots if not w.gave_up for k in w.kinds}
        lost = sorted({k for w in self.slots for k in w.kinds} - served)
        if lost:
            logs = ", ".join(str(w.log_path) for w in self.slots if w.gave_up)
            raise PoolError(
                f"no worker left for job kind(s) {', '.join(lost)}: they kept dying (see {logs})"
            )

    def wait_ready(self, timeout: float = 60.0) -> list[WorkerRecord]:
        """Wait until every worker finished starting (ready, busy or config-error)."""
        deadline = time.monotonic() + timeout
        queue = self._queue()
        while True:
            mine = {w.worker_id for w in self.slots}
            records = [r for r in queue.workers(self.session) if r.id in mine]
            if all(r.state is not WorkerState.STARTING for r in records) or (
                time.monotonic() > deadline
            ):
                return records
            time.sleep(0.02)

    def stop(self) -> None:
        """Stop every worker and its whole process tree; safe to call twice."""
        if self._stopped or not self._started:
            return
        self._stopped = True
        previous = _ignore_sigint()
        try:
            self._stop_event.set()
            if self._monitor is not None:
                self._monitor.join(timeout=self.stop_timeout + 5)
            with self._lock:
                self._stop_all()
        finally:
            if previous is not None:
                signal.signal(signal.SIGINT, previous)

    # --- internals ---------------------------------------------------------------------

    def _open_queue(self) -> Queue:
        return open_queue(self.queue_url or self.db_path, backoff_base=self.backoff_base)

    def _queue(self) -> Queue:
        queue = getattr(self._local, "queue", None)
        if queue is None:
            queue = self._open_queue()
            self._local.queue = queue
        return queue

    def _spawn(self, w: PoolWorker, queue: Queue, *, register: bool = True) -> None:
        if register:
            w.worker_id = f"{w.slot}-{secrets.token_hex(3)}"
            queue.register_worker(w.worker_id, self.session, w.kinds)
        w.log_path = self.log_dir / f"{w.worker_id}.log"
        args = [
            self.python,
            "-m",
            "clx.workers",
            *(["--db", str(self.db_path)] if self.db_path else []),
            "--state-dir",
            str(self.state_dir),
            "--session",
            self.session,
            "--kinds",
            ",".join(w.kinds),
            "--worker-id",
            w.worker_id,
            "--lease",
            str(self.lease_seconds),
            "--backoff-base",
            str(self.backoff_base),
            *self.worker_args,
        ]
        env = dict(os.environ if self.env is None else self.env)
        env.setdefault("PYTHONUNBUFFERED", "1")
        # Kernel folders, the JVM's work folder and Chromium profiles go below a folder
        # of this worker's, removed when it ends (also when it was SIGKILLed).
        w.tmp = self.tmp_root / w.worker_id
        w.tmp.mkdir(parents=True, exist_ok=True)
        env["TMPDIR"] = env[TMPDIR_VARIABLE] = str(w.tmp)
        if self.warm_kernels:
            env[WARM_KERNELS_VARIABLE] = ",".join(self.warm_kernels)
        if self.preload:
            env[PRELOAD_VARIABLE] = ",".join(self.preload)
        if self.course_python:
            env[COURSE_PYTHON_VARIABLE] = self.course_python
        if self.queue_url:
            env["CLX_QUEUE_URL"] = self.queue_url
        with open(w.log_path, "ab") as logfile:
            w.process = popen(
                args, stdin=subprocess.DEVNULL, stdout=logfile, stderr=subprocess.STDOUT, env=env
            )
        w.tree = []
        w.spawned_at, w.started, w.stuck = time.monotonic(), False, ""
        (w.tmp / OWNER_FILE).write_text(f"{w.process.pid} {_start_time(w.process.pid)}")
        queue.update_worker(w.worker_id, pid=w.process.pid, heartbeat=False)
        log.debug("started worker %s (pid %d)", w.worker_id, w.process.pid)

    def _monitor_loop(self) -> None:
        queue = self._open_queue()
        try:
            while not self._stop_event.wait(self.monitor_interval):
                try:
                    self._supervise(queue)
                except Exception:
                    log.exception("worker pool supervision failed")
        finally:
            queue.close()

    def _supervise(self, queue: Queue) -> None:
        with self._lock:
            if self._stopped:
                return
            for w in self.slots:
                if w.process is None:
                    continue
                code = w.process.poll()
                if code is None:
                    w.tree = descendants(w.process.pid)
                else:
                    self._handle_exit(w, code, queue)
            self._kill_stuck_starts(queue)
            if time.monotonic() >= self._next_reclaim:
                self._next_reclaim = time.monotonic() + max(self.lease_seconds / 4, 0.05)
                queue.reclaim_expired()

    def _kill_stuck_starts(self, queue: Queue) -> None:
        """A worker whose start hangs (a tool that never answers) sends no heartbeat and
        claims nothing: after ``start_timeout`` it is killed and restarted like a crashed
        one, instead of leaving the build to wait for its stall timeout."""
        now = time.monotonic()
        due = [w for w in self.slots if w.process is not None and not w.started
               and not w.stuck and now - w.spawned_at > self.start_timeout]
        if not due and all(w.started or w.process is None for w in self.slots):
            return
        states = {r.id: r.state for r in queue.workers(self.session)}
        for w in self.slots:
            if w.process is not None and states.get(w.worker_id) not in (
                None, WorkerState.STARTING
            ):
                w.started = True
        for w in due:
            if w.started:
                continue
            w.stuck = f"did not finish starting within {self.start_timeout:g} s"
            log.info("worker %s %s: killing it", w.worker_id, w.stuck)
            assert w.process is not None
            kill_tree_now(w.process.pid)  # reaps it, so its exit code is ours to say
            self._handle_exit(w, -signal.SIGKILL, queue)

    def _handle_exit(self, w: PoolWorker, code: int, queue: Queue) -> None:
        kill_processes(w.tree)
        w.process, w.tree = None, []
        _remove_temp(w)
        crashed = code not in (EXIT_OK, EXIT_ABANDONED)
        why = f"worker {w.worker_id} exited with code {code}"
        if w.stuck:
            why = f"worker {w.worker_id} {w.stuck}"
        if crashed:
            w.crashes += 1
            error = JobError.of(Category.INFRASTRUCTURE, f"{why} (log: {w.log_path})")
            queue.update_worker(w.worker_id, state=WorkerState.DEAD, current_job=None, error=error)
            # Not a console warning: the job is retried and the build report lists the
            # retry with this reason (clx.pipeline.retries).
            log.info("%s; its log: %s", why, w.log_path)
        released = queue.release_worker(
            w.worker_id,
            JobError.of(Category.INFRASTRUCTURE, f"{why} while running this job"),
        )
        if released:
            log.info("handed %d job(s) of %s back to the queue", released, w.worker_id)
        if queue.session_state(self.session) is not SessionState.OPEN:
            return  # the build is over; nothing to restart for
        if w.crashes > self.max_restarts:
            w.gave_up = True
            log.info("not restarting %s: it died %d times", w.slot, w.crashes)  # check() raises
            return
        w.restarts += 1
        self._spawn(w, queue)

    def _stop_all(self) -> None:
        alive = [w for w in self.slots if w.process is not None]
        for w in alive:
            assert w.process is not None
            w.tree = descendants(w.process.pid) or w.tree
        if alive:
            with ThreadPoolExecutor(max_workers=len(alive)) as ex:
                list(ex.map(lambda w: kill_tree(w.process.pid, timeout=self.stop_timeout), alive))
        queue = self._queue()
        for w in alive:
            assert w.process is not None
            with contextlib.suppress(subprocess.TimeoutExpired):
                w.process.wait(timeout=self.stop_timeout)
            kill_processes(w.tree)
            code = w.process.returncode
            w.process, w.tree = None, []
            _remove_temp(w)
            # A worker killed before it could clean up leaves its row and jobs behind.
            queue.update_worker(
                w.worker_id, state=WorkerState.STOPPED, current_job=None, heartbeat=False
            )
            queue.release_worker(
                w.worker_id,
                JobError.of(
                    Category.INFRASTRUCTURE,
                    f"worker {w.worker_id} was stopped (exit code {code}) while running this job",
                ),
            )
        queue.close()
        self._local.queue = None
        for w in self.slots:  # also those whose process never started (Ctrl-C meanwhile)
            _remove_temp(w)
        with contextlib.suppress(OSError):
            self.tmp_root.rmdir()  # only if no other build's workers use it


TMPDIR_VARIABLE = "CLX_WORKER_TMPDIR"  # the worker removes this folder when it exits
# Kernelspecs a notebook worker boots spares of as it starts (clx.workers.handlers.notebook).
WARM_KERNELS_VARIABLE = "CLX_WARM_KERNELS"
# Modules its Python fork server imports as it starts (clx.pipeline.preload).
PRELOAD_VARIABLE = "CLX_PRELOAD_MODULES"
OWNER_FILE = ".clx-owner"  # "<pid> <start time>" of the worker a temp folder belongs to


def worker_temp_root(state_dir: Path) -> Path:
    """Where the workers of a course keep their temporary folders: short (kernels put
    unix sockets there, whose paths must stay under about 100 bytes), one per course."""
    digest = hashlib.sha256(str(state_dir).encode()).hexdigest()[:8]
    return Path(tempfile.gettempdir()) / f"clx-{digest}"


def _start_time(pid: int) -> float | None:
    try:
        return psutil.Process(pid).create_time()
    except psutil.Error:
        return None


def _younger_than(folder: Path, seconds: float) -> bool:
    try:
        return time.time() - folder.stat().st_mtime < seconds
    except OSError:
        return False


def _remove_temp(w: PoolWorker) -> None:
    if w.tmp is not None:
        shutil.rmtree(w.tmp, ignore_errors=True)
        w.tmp = None


def remove_stale_temp(root: Path) -> None:
    """Remove temporary folders of workers that no longer run (a build or worker that
    was SIGKILLed could not remove its own); those of live workers stay."""
    try:
        folders = [p for p in root.iterdir() if p.is_dir()]
    except OSError:
        return
    for folder in folders:
        try:
            pid, started = (folder / OWNER_FILE).read_text().split()
            alive = str(_start_time(int(pid))) == started
        except (OSError, ValueError):  # no owner yet: a worker starting right now?
            alive = _younger_than(folder, 60.0)
        if not alive:
            shutil.rmtree(folder, ignore_errors=True)


def _kinds(spec: str) -> tuple[str, ...]:
    kinds = tuple(k.strip() for k in spec.split(",") if k.strip())
    if not kinds:
        raise ValueError(f"empty job kind in worker counts: {spec!r}")
    return kinds


def _ignore_sigint():
    """While stopping, a second Ctrl-C must not interrupt the cleanup."""
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGINT, signal.SIG_IGN)
