"""Handlers with scripted behaviour, so the runtime's tests and benchmarks exercise real
worker processes without the notebook or diagram tool stacks.

Payload conventions (all optional):

* ``seconds``: how long ``run`` takes.
* ``files``: ``{absolute path: {"text": str, "repeat": int}}`` — the Outcome writes
  ``text * repeat`` (UTF-8) to each path, so tests can ask for big outputs.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from clx.problems import (
    Category,
    ConfigurationError,
    ContentError,
    InfrastructureError,
    Problem,
    Severity,
)
from clx.processes import kill_tree, popen
from clx.store import atomic_write
from clx.workers.handler import JobView, Outcome


def _files(payload: dict[str, Any]) -> dict[str, bytes]:
    return {
        path: spec.get("text", "").encode() * int(spec.get("repeat", 1))
        for path, spec in payload.get("files", {}).items()
    }


def _state(job: JobView, *parts: str) -> Path:
    assert job.state_dir is not None, "the runtime always passes the state folder"
    folder = job.state_dir.joinpath(*parts)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class _Base:
    kind = ""

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass


class SleepHandler(_Base):
    """Takes ``seconds``, then produces ``files``."""

    kind = "sleep"

    def run(self, job: JobView) -> Outcome:
        time.sleep(float(job.payload.get("seconds", 0)))
        return Outcome(files=_files(job.payload))


class CrashHandler(_Base):
    """Kills its own worker with SIGKILL after ``seconds`` while ``job.attempt`` is at
    most ``crash_attempts`` (default: always), then succeeds like SleepHandler."""

    kind = "crash"

    def run(self, job: JobView) -> Outcome:
        time.sleep(float(job.payload.get("seconds", 0)))
        if job.attempt <= int(job.payload.get("crash_attempts", 1_000_000)):
            os.kill(os.getpid(), signal.SIGKILL)
        return Outcome(files=_files(job.payload))


class FailHandler(_Base):
    """Fails the way ``raise`` says (content, configuration, infrastructure, runtime) while
    ``job.attempt`` is at most ``fail_attempts`` (default: always); without ``raise`` it
    returns ``files`` plus an error problem per entry of ``problems`` (messages)."""

    kind = "fail"

    def run(self, job: JobView) -> Outcome:
        p = job.payload
        how = p.get("raise")
        message = p.get("message", "scripted failure")
        if how and job.attempt <= int(p.get("fail_attempts", 1_000_000)):
            problems = [Problem(message=message, file=p.get("file"), line=p.get("line"))]
            if how == "content":
                raise ContentError(message, problems)
            if how == "configuration":
                raise ConfigurationError(message)
            if how == "infrastructure":
                raise InfrastructureError(message)
            raise RuntimeError(message)
        problems = [
            Problem(
                message=m, file=p.get("file"), severity=Severity.ERROR, category=Category.CONTENT
            )
            for m in p.get("problems", [])
        ]
        return Outcome(files=_files(p), problems=problems)


class TallyHandler(_Base):
    """Appends the job id to a file per worker process, so tests can count executions."""

    kind = "tally"
    claim_batch = 16

    def run(self, job: JobView) -> Outcome:
        with open(_state(job, "tally") / f"{os.getpid()}.txt", "a", encoding="utf-8") as f:
            f.write(f"{job.id}\n")
        return Outcome()


class MisconfiguredHandler(_Base):
    """A handler whose tool is missing: ``start`` refuses."""

    kind = "misconfigured"

    def start(self) -> None:
        raise ConfigurationError("the tool 'frobnicate' is not installed (needed for tests)")

    def run(self, job: JobView) -> Outcome:  # pragma: no cover - never reached
        raise AssertionError("run() called although start() failed")


class HangingStartHandler(_Base):
    """``start`` hangs for an hour the first time: when the file that
    ``CLX_TEST_HANG_MARKER`` names does not exist yet (it creates it); then it starts
    like SleepHandler."""

    kind = "hangstart"

    def start(self) -> None:
        marker = Path(os.environ["CLX_TEST_HANG_MARKER"])
        try:
            marker.touch(exist_ok=False)
        except FileExistsError:
            return
        time.sleep(3600)

    def run(self, job: JobView) -> Outcome:
        return Outcome(files=_files(job.payload))


class ToolChildHandler(_Base):
    """Keeps a 'warm tool' child process (in its own session, like kernels and JVMs) and
    records its pid, so tests can check that stopping leaves no process behind."""

    kind = "toolchild"

    def __init__(self) -> None:
        self.child: subprocess.Popen | None = None

    def start(self) -> None:
        self.child = popen(
            [sys.executable, "-c", "import time; time.sleep(3600)", "clx-test-tool-child"]
        )

    def run(self, job: JobView) -> Outcome:
        assert self.child is not None
        pids = _state(job, "toolchild")
        atomic_write(pids / f"{os.getpid()}.pid", str(self.child.pid).encode())
        time.sleep(float(job.payload.get("seconds", 0)))
        return Outcome(files=_files(job.payload))

    def stop(self) -> None:
        if self.child is not None:
            kill_tree(self.child.pid)
            self.child.wait()
            self.child = None
