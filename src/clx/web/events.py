"""What a build running in this process tells the page, besides what the queue knows.

The queue knows jobs, workers and failures; only the build knows how many jobs the cache
answered, when a build (or a watch rebuild) starts and ends, and how it ended.
``WebProgress`` wraps the CLI's own progress display and records those events in a
``BuildEvents``. Recording is a few assignments under a lock and a wake-up call, so the
build never waits for the page.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from clx.pipeline.progress import Progress
from clx.problems import Problem
from clx.queue.model import RunningJob


@dataclass
class BuildRun:
    """One build of this process (a watch session has one per rebuild)."""

    number: int
    started: float  # Unix seconds
    jobs_by_kind: dict[str, int]
    cached_by_kind: dict[str, int]
    ended: float | None = None
    ok: bool | None = None
    errors: int = 0
    outputs: int | None = None
    problems: list[Problem] = field(default_factory=list)  # the report's errors, at the end


@dataclass
class BuildEvents:
    """The builds of this process, newest last; read by the page, written by the build."""

    history: int = 20
    runs: list[BuildRun] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Called (from the build's thread) after every change: the server wakes its poller.
    on_change: Callable[[], None] = lambda: None
    clock: Callable[[], float] = time.time

    def started(self, jobs_by_kind: Mapping[str, int], cached_by_kind: Mapping[str, int]) -> None:
        with self.lock:
            number = self.runs[-1].number + 1 if self.runs else 1
            self.runs.append(
                BuildRun(number, self.clock(), dict(jobs_by_kind), dict(cached_by_kind))
            )
            del self.runs[: -self.history]
        self.on_change()

    def changed(self) -> None:
        self.on_change()

    def ended(
        self,
        *,
        ok: bool | None = None,
        errors: int = 0,
        outputs: int | None = None,
        problems: Sequence[Problem] = (),
    ) -> None:
        """The build is over; ``ok`` etc. once the report is known (a second call)."""
        with self.lock:
            if not self.runs:
                return
            run = self.runs[-1]
            if run.ended is None:
                run.ended = self.clock()
            if ok is not None:
                run.ok, run.errors, run.outputs = ok, errors, outputs
                run.problems = list(problems)
        self.on_change()

    def snapshot(self) -> list[BuildRun]:
        with self.lock:
            return [BuildRun(**{**vars(r), "problems": list(r.problems)}) for r in self.runs]


class WebProgress:
    """A ``Progress`` that shows on the terminal as before and feeds ``BuildEvents``."""

    def __init__(self, inner: Progress, events: BuildEvents) -> None:
        self.inner = inner
        self.events = events

    def start(self, jobs_by_kind: Mapping[str, int], cached_by_kind: Mapping[str, int]) -> None:
        self.events.started(jobs_by_kind, cached_by_kind)
        self.inner.start(jobs_by_kind, cached_by_kind)

    def job_finished(self, kind: str, state: str, problems: Sequence[Problem]) -> None:
        self.events.changed()  # the queue has the job's outcome: the page asks it now
        self.inner.job_finished(kind, state, problems)

    def running(self, jobs: Sequence[RunningJob]) -> None:
        self.inner.running(jobs)

    def message(self, line: str) -> None:
        self.inner.message(line)

    def stop(self) -> None:
        self.events.ended()
        self.inner.stop()
