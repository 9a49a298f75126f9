"""Real worker processes on a real queue: a SQLite file in a temporary course state folder,
or (tests parametrised with ``engine``, indirect) a fresh database on the test server."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from clx.processes import kill_tree, popen
from clx.queue import FINISHED_STATES, Queue
from clx.queue.location import open_queue

BACKOFF = 0.05


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / ".clx" / "clx.db"


@pytest.fixture
def engine(request) -> str:
    return getattr(request, "param", "sqlite")


@pytest.fixture
def target(engine: str, db: Path, request) -> Path | str:
    """What workers and pools are given: the SQLite file or the PostgreSQL URL."""
    return db if engine == "sqlite" else request.getfixturevalue("postgres_url")


@pytest.fixture
def queue(target: Path | str):
    q = open_queue(target, backoff_base=BACKOFF)
    yield q
    q.close()


@pytest.fixture
def session(queue: Queue) -> str:
    return queue.open_session("build-1")


def wait_until(predicate: Callable[[], Any], timeout: float = 20.0, interval: float = 0.02) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)


@pytest.fixture
def wait() -> Callable[..., Any]:
    return wait_until


@pytest.fixture
def all_finished(queue: Queue) -> Callable[[str], bool]:
    def check(session: str) -> bool:
        jobs = queue.jobs(session)
        return bool(jobs) and all(j.state in FINISHED_STATES for j in jobs)

    return check


@pytest.fixture
def start_worker(db: Path, target: Path | str, session: str, tmp_path: Path):
    """Start ``python -m clx.workers`` directly (no pool); killed at teardown."""
    procs: list[subprocess.Popen] = []

    def start(kinds: str, *extra: str, worker_id: str | None = None) -> subprocess.Popen:
        worker_id = worker_id or f"{kinds}-{len(procs) + 1}"
        log = open(tmp_path / f"{worker_id}.log", "ab")  # noqa: SIM115 - the child owns it
        where = ["--db", str(db)] if target == db else ["--queue", str(target)]
        args = [sys.executable, "-m", "clx.workers", *where, "--state-dir", str(db.parent)]
        args += ["--session", session]
        args += ["--kinds", kinds, "--worker-id", worker_id, "--backoff-base", str(BACKOFF)]
        p = popen([*args, *extra], stdout=log, stderr=subprocess.STDOUT)
        log.close()
        procs.append(p)
        return p

    yield start
    for p in procs:
        kill_tree(p.pid)
        p.wait(timeout=10)
