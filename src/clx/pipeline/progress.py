"""How a build tells the outside world what it is doing while it runs.

The build calls a ``Progress`` object; the CLI chooses the implementation (a live
terminal display, plain lines for logs and CI, or nothing). The build itself never
prints.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from clx.problems import Problem
from clx.queue.model import RunningJob


class Progress(Protocol):
    def start(self, jobs_by_kind: Mapping[str, int], cached_by_kind: Mapping[str, int]) -> None:
        """Jobs to run per kind, and jobs answered from the cache per kind."""

    def job_finished(self, kind: str, state: str, problems: Sequence[Problem]) -> None:
        """One job reached a final state (its errors are in ``problems``)."""

    def running(self, jobs: Sequence[RunningJob]) -> None:
        """The jobs running right now (called about twice a second while waiting);
        ``outputs[0]`` of each is its display name (source file, and language)."""

    def message(self, line: str) -> None:
        """A free-form status line."""

    def stop(self) -> None:
        """The build is over (also after an error or Ctrl-C)."""


class PlainProgress:
    """Plain lines: failures as they happen and a counter every few jobs."""

    def __init__(self, write: Callable[[str], None] | None = None, every: int = 20) -> None:
        self.write = write or (lambda line: print(line, file=sys.stderr, flush=True))
        self.every = every
        self.total = 0
        self.done = 0

    def start(self, jobs_by_kind: Mapping[str, int], cached_by_kind: Mapping[str, int]) -> None:
        self.total = sum(jobs_by_kind.values())
        cached = sum(cached_by_kind.values())
        self.write(f"{self.total} job(s) to run, {cached} answered from the cache")
        if self.total:
            self.write("starting workers…")

    def job_finished(self, kind: str, state: str, problems: Sequence[Problem]) -> None:
        self.done += 1
        for p in problems:
            if p.is_error:
                self.write(p.format())
        if self.done == self.total or self.done % self.every == 0:
            self.write(f"[{self.done}/{self.total}] jobs finished")

    def running(self, jobs: Sequence[RunningJob]) -> None:
        pass

    def message(self, line: str) -> None:
        self.write(line)

    def stop(self) -> None:
        pass


class SilentProgress(PlainProgress):
    def __init__(self) -> None:
        super().__init__(write=lambda _line: None)
