"""What `clx build` shows on stderr while it runs.

On a terminal: a live display (rich) with done/total per job kind and the jobs running
right now with their elapsed time; failures are printed above it as they happen. In logs
and CI (stderr not a terminal): the build's plain lines. ``--quiet``: nothing.

A missing tool fails every job that needs it with the same configuration error; it is
shown once, prominently, and the repeats are only counted (``ProblemFilter``).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TextIO

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, TaskID, TextColumn
from rich.progress import Progress as Bars
from rich.table import Table
from rich.text import Text

from clx.pipeline.progress import PlainProgress, Progress, SilentProgress
from clx.problems import Category, Problem
from clx.queue.model import RunningJob


class ProblemFilter:
    """Lets each error through as it happens, but a configuration error (a missing tool,
    the same message for every job that needs it) only the first time."""

    def __init__(self) -> None:
        self.config_seen: dict[str, int] = {}  # message -> jobs it failed

    def first_time(self, problems: Sequence[Problem]) -> list[Problem]:
        out = []
        for p in problems:
            if not p.is_error:
                continue
            if p.category is Category.CONFIGURATION:
                n = self.config_seen.get(p.message, 0)
                self.config_seen[p.message] = n + 1
                if n:
                    continue
            out.append(p)
        return out


def headline(p: Problem) -> str:
    """A configuration problem says so: it needs an install, not an edit of the course."""
    if p.category is Category.CONFIGURATION:
        return f"clx: configuration problem (affects every job that needs it): {p.message}"
    return p.format()


class PlainLines(PlainProgress):
    """The build's plain lines, with configuration errors shown once."""

    def __init__(self, write: Callable[[str], None] | None = None, every: int = 20) -> None:
        super().__init__(write, every)
        self.filter = ProblemFilter()

    def job_finished(self, kind: str, state: str, problems: Sequence[Problem]) -> None:
        self.done += 1
        for p in self.filter.first_time(problems):
            self.write(headline(p))
        if self.done == self.total or self.done % self.every == 0:
            self.write(f"[{self.done}/{self.total}] jobs finished")


class _Running:
    """The running jobs, with elapsed times that keep ticking between queue polls."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.jobs: Sequence[RunningJob] = ()
        self.seen_at = time.monotonic()
        self.starting = True  # until the first job runs or finishes

    def __rich__(self) -> RenderableType:
        if not self.jobs:
            if self.starting:  # workers boot their kernels, JVM or browser first
                return Text("  starting workers…", style="dim")
            return Group()
        extra = time.monotonic() - self.seen_at
        table = Table.grid(padding=(0, 2))
        for j in sorted(self.jobs, key=lambda j: -j.elapsed)[: self.limit]:
            # outputs[0] is the display name the build gives (clx.pipeline.run._named)
            name = j.outputs[0].rsplit("/", 1)[-1] if j.outputs else f"job {j.id}"
            table.add_row(
                Text(f"  {j.kind}", style="cyan"),
                Text(f"{j.elapsed + extra:5.1f} s"),
                Text(name, overflow="ellipsis", no_wrap=True),
                Text(j.worker_id or "", style="dim"),
            )
        if len(self.jobs) > self.limit:
            table.add_row(
                Text(f"  … {len(self.jobs) - self.limit} more running", style="dim"), "", "", ""
            )
        return table


class LiveProgress:
    """``Progress`` on a terminal: bars per job kind, running jobs, failures as they happen."""

    def __init__(self, console: Console | None = None, *, max_running: int = 8) -> None:
        self.console = console or Console(stderr=True, highlight=False)
        self.filter = ProblemFilter()
        self._bars = Bars(
            TextColumn("{task.description:>9}"),
            BarColumn(bar_width=30),
            MofNCompleteColumn(),
            TextColumn("{task.fields[note]}"),
            console=self.console,
            auto_refresh=False,
        )
        self._tasks: dict[str, TaskID] = {}
        self._failed: dict[str, int] = {}
        self._total: dict[str, int] = {}
        self._done: dict[str, int] = {}
        self._cached: Mapping[str, int] = {}
        self._running = _Running(max_running)
        self._live = Live(
            Group(self._bars, self._running),
            console=self.console,
            refresh_per_second=4,
            redirect_stderr=False,
            redirect_stdout=False,
        )
        self._started = False

    def start(self, jobs_by_kind: Mapping[str, int], cached_by_kind: Mapping[str, int]) -> None:
        self._cached = cached_by_kind
        total, cached = sum(jobs_by_kind.values()), sum(cached_by_kind.values())
        self.console.print(f"{total} job(s) to run, {cached} answered from the cache")
        self._total = dict(jobs_by_kind)
        for kind in sorted(set(jobs_by_kind)):
            self._tasks[kind] = self._bars.add_task(
                kind, total=jobs_by_kind[kind], note=self._note(kind)
            )
        if self._tasks:
            self._live.start()
            self._started = True

    def _note(self, kind: str) -> str:
        parts = []
        if self._failed.get(kind):
            parts.append(f"[red]{self._failed[kind]} failed[/red]")
        if self._cached.get(kind):
            parts.append(f"[dim]{self._cached[kind]} cached[/dim]")
        return "  ".join(parts)

    def job_finished(self, kind: str, state: str, problems: Sequence[Problem]) -> None:
        self._running.starting = False
        self._done[kind] = self._done.get(kind, 0) + 1
        if state != "succeeded":
            self._failed[kind] = self._failed.get(kind, 0) + 1
        task = self._tasks.get(kind)
        if task is None:  # a kind the start did not announce (adopted work in watch mode)
            task = self._tasks[kind] = self._bars.add_task(kind, total=0, note="")
        self._bars.update(task, advance=1, note=self._note(kind))
        self._forget_finished(kind)
        for p in self.filter.first_time(problems):
            style = "bold yellow" if p.category is Category.CONFIGURATION else "red"
            self.console.print(Text(headline(p), style=style))

    def _forget_finished(self, kind: str) -> None:
        """The running list comes from a poll twice a second: never show more running
        jobs of a kind than are left to finish (a finished job does not linger)."""
        left = max(self._total.get(kind, 0) - self._done.get(kind, 0), 0)
        same = sorted((j for j in self._running.jobs if j.kind == kind), key=lambda j: j.elapsed)
        drop = {j.id for j in same[left:]} if len(same) > left else set()
        if drop:
            self._running.jobs = [j for j in self._running.jobs if j.id not in drop]

    def running(self, jobs: Sequence[RunningJob]) -> None:
        self._running.jobs = list(jobs)
        self._running.seen_at = time.monotonic()
        if jobs:
            self._running.starting = False

    def message(self, line: str) -> None:
        self.console.print(escape(line))

    def stop(self) -> None:
        self._running.jobs = ()
        if self._started:
            self._started = False
            self._live.refresh()
            self._live.stop()


def choose_progress(quiet: bool, stream: TextIO | None = None) -> Progress:
    """Live display on a terminal, plain lines otherwise, nothing with ``--quiet``."""
    stream = stream or sys.stderr
    if quiet:
        return SilentProgress()
    if stream.isatty():
        return LiveProgress(Console(file=stream, highlight=False))
    return PlainLines(lambda line: print(line, file=stream, flush=True))
