"""SqliteBackend: submit a build's jobs in one transaction, then wait for all of them.

Waiting asks the queue one batched question per poll cycle ("what finished since my
cursor?"), never one query per job, and polls faster while jobs are finishing.
Jobs put back to pending by `clx jobs retry` while the build runs are waited for again,
and their new outcome replaces the old one.
A build is declared stalled only when nothing finishes for ``stall_timeout`` seconds
while work is outstanding — a long but healthy build is never killed by a deadline.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from clx.problems import Category, Problem
from clx.queue.base import Queue
from clx.queue.model import JobRecord, JobState, NewJob

log = logging.getLogger(__name__)


class StallError(Exception):
    """No job finished for too long; ``problems`` say which jobs run where."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems


@dataclass
class WaitResult:
    finished: dict[int, JobRecord] = field(default_factory=dict)

    def by_state(self, state: JobState) -> list[JobRecord]:
        return [j for j in self.finished.values() if j.state is state]


ProgressFn = Callable[[JobRecord, int, int], None]  # (job, done, total)


class SqliteBackend:
    def __init__(
        self,
        queue: Queue,
        session: str,
        *,
        poll_min: float = 0.02,
        poll_max: float = 0.5,
        stall_timeout: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.queue = queue
        self.session = session
        self.poll_min = poll_min
        self.poll_max = poll_max
        self.stall_timeout = stall_timeout
        self.clock = clock
        self.job_ids: set[int] = set()
        self._cursor = 0

    def submit(self, jobs: Iterable[NewJob]) -> list[int]:
        """Enqueue all jobs in one transaction; identical pending jobs share one id."""
        ids = self.queue.enqueue_many(self.session, list(jobs))
        self.job_ids.update(ids)
        return ids

    def wait(
        self,
        *,
        on_finished: ProgressFn | None = None,
        check: Callable[[], None] | None = None,
    ) -> WaitResult:
        """Block until every submitted job is finished.

        ``check`` runs once per cycle (the worker pool restarts dead workers there and
        may raise to abort). Raises StallError when nothing finishes for too long.
        """
        result = WaitResult()
        outstanding = set(self.job_ids)
        interval = self.poll_min
        last_progress = self.clock()
        while outstanding:
            batch = self.queue.finished_since(self.session, self._cursor)
            self._cursor = batch.cursor
            progressed = False
            for job in batch.jobs:
                # A job finished before and again: `clx jobs retry` ran it a second time,
                # and its latest outcome is the one that counts.
                if job.id in outstanding or job.id in result.finished:
                    outstanding.discard(job.id)
                    result.finished[job.id] = job
                    progressed = True
                    if on_finished:
                        on_finished(job, len(result.finished), len(self.job_ids))
            if not outstanding:
                outstanding = self._requeued()
                if not outstanding:
                    break
            now = self.clock()
            if progressed:
                last_progress = now
                interval = self.poll_min
            else:
                interval = min(self.poll_max, interval * 1.5)
                if now - last_progress > self.stall_timeout:
                    raise StallError(self._stall_report(outstanding, now - last_progress))
            if check:
                check()
            if self.queue.blocking_claim:
                # Woken when a job finishes; the timeout keeps ``check`` regular.
                self.queue.wait_for_finished(self.session, self.poll_max)
            else:
                time.sleep(interval)
        return result

    def _requeued(self) -> set[int]:
        """Jobs of this build that finished and went back to pending (`clx jobs retry`):
        the build waits for them too, so they neither stay pending nor count as failed."""
        live = self.queue.jobs(self.session, states=[JobState.PENDING, JobState.RUNNING])
        return {j.id for j in live if j.id in self.job_ids}

    def cancel(self) -> int:
        return self.queue.cancel(self.session, sorted(self.job_ids))

    def _stall_report(self, outstanding: set[int], idle: float) -> list[Problem]:
        running = {r.id: r for r in self.queue.running(self.session)}
        problems = [Problem(
            f"build stalled: no job finished for {idle:.0f} s; {len(outstanding)} outstanding "
            f"({len(running)} running)", category=Category.INFRASTRUCTURE,
        )]
        for r in sorted(running.values(), key=lambda r: -r.elapsed):
            what = ", ".join(r.outputs[:2]) + (" …" if len(r.outputs) > 2 else "")
            problems.append(Problem(
                f"job {r.id} ({r.kind}) running on {r.worker_id or '?'} for {r.elapsed:.0f} s: "
                f"{what}", category=Category.INFRASTRUCTURE,
            ))
        return problems
