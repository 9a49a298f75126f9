"""`clx build --watch`: rebuild on every save, with the workers kept warm.

Each rebuild is an ordinary incremental build on a shared queue session: the plan is
computed again (so new, renamed and deleted files and changed titles are picked up),
unchanged jobs come from the cache, and only the saved notebook's jobs run. A save
during a rebuild cancels the jobs it invalidates and starts the next rebuild at once;
jobs still valid keep running and are adopted by the next rebuild.

`clx workers stop` closes the watch's queue session from another process: the running
rebuild ends with its jobs cancelled, and the watch ends with it (exit status 1) instead
of queueing the next rebuild for workers that are gone.
"""

from __future__ import annotations

import logging
import queue as stdqueue
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from watchfiles import Change, watch

from clx.course.course import default_course_root
from clx.course.ignore import ignored_dir, ignored_file
from clx.course.spec import SpecError
from clx.notebooks.environments import course_python
from clx.pipeline.progress import Progress, SilentProgress
from clx.pipeline.report import BuildReport
from clx.pipeline.run import BuildOptions, Superseded, build
from clx.pipeline.runtime import BuildRuntime
from clx.problems import Category
from clx.queue.model import SessionState

log = logging.getLogger(__name__)


class ChangeFeed:
    """Collects changed course files (relative paths) from a watcher thread."""

    def __init__(self, root: Path, output_root: Path, debounce_ms: int = 150) -> None:
        self.root = root.resolve()
        self.output_root = output_root.resolve()
        self.debounce_ms = debounce_ms
        self._events: stdqueue.Queue[set[str]] = stdqueue.Queue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="clx-watch", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def relevant(self, path: Path) -> bool:
        try:
            rel = path.resolve().relative_to(self.root)
        except ValueError:
            return False
        if path.resolve().is_relative_to(self.output_root) or rel.parts[:1] == (".clx",):
            return False
        if any(ignored_dir(part) for part in rel.parts[:-1]):
            return False
        name = rel.name
        return not (ignored_file(name) or name.endswith(("~", ".swp", ".tmp")))

    def _run(self) -> None:
        for batch in watch(self.root, stop_event=self._stop, debounce=self.debounce_ms,
                           step=30, watch_filter=lambda _c, p: self.relevant(Path(p)),
                           raise_interrupt=False):
            rels = {Path(p).resolve().relative_to(self.root).as_posix() for _c, p in batch
                    if isinstance(_c, Change)}
            if rels:
                self._events.put(rels)

    def poll(self) -> set[str]:
        """Everything changed since the last poll or take (never blocks)."""
        out: set[str] = set()
        while True:
            try:
                out |= self._events.get_nowait()
            except stdqueue.Empty:
                return out

    def take(self, timeout: float | None = None) -> set[str]:
        """Block until something changed; returns all changes gathered so far."""
        try:
            first = self._events.get(timeout=timeout)
        except stdqueue.Empty:
            return set()
        return first | self.poll()


def status_line(report: BuildReport, changed: set[str]) -> str:
    ran = sum(n for states in report.jobs_by_kind.values() for s, n in states.items()
              if not s.startswith("cached"))
    cached = sum(n for states in report.jobs_by_kind.values() for s, n in states.items()
                 if s.startswith("cached"))
    what = ", ".join(sorted(changed)[:3]) + (" …" if len(changed) > 3 else "") or "start"
    errors = len({(e.file, e.line, e.message) for e in report.errors})
    stamp = datetime.now().strftime("%H:%M:%S")
    return (f"[{stamp}] {what}: {ran} job(s) run, {cached} cached, {errors} error(s), "
            f"{report.outputs} outputs, {report.wall_seconds:.1f} s")


class ErrorsShown:
    """The errors of each rebuild, with configuration errors (a missing kernel, a missing
    tool) shown once per watch: they come back on every rebuild until the set-up changes,
    and would bury the errors of the notebook just saved."""

    def __init__(self) -> None:
        self._seen: set[tuple[str | None, int | None, str]] = set()

    def lines(self, report: BuildReport) -> list[str]:
        shown, again = [], 0
        current: set[tuple[str | None, int | None, str]] = set()
        for e in report.errors:
            key = (e.file, e.line, e.message)
            if e.category is Category.CONFIGURATION:
                current.add(key)
                if key in self._seen:
                    again += 1
                    continue
            shown.append("  " + e.format())
        self._seen = current  # one that was fixed and comes back is shown again
        if again:
            shown.append(f"  ({again} configuration error(s) shown before still apply)")
        return shown


def watch_build(opts: BuildOptions, echo: Callable[[str], None],
                stop: threading.Event | None = None, *, progress: Progress | None = None,
                on_report: Callable[[BuildReport], None] | None = None) -> int:
    """Build, then rebuild on every change until Ctrl-C (or ``stop`` is set).

    The rebuilds report through ``echo`` lines; ``progress`` (default: none) and
    ``on_report`` also see every rebuild (the live page uses them).
    """
    root = (opts.course_root or default_course_root(opts.spec)).resolve()
    output_root = (opts.output_root or root / "output").resolve()
    feed = ChangeFeed(root, output_root)
    feed.start()
    stop = stop or threading.Event()
    pending: set[str] = set()

    def superseded() -> set[str]:
        pending.update(feed.poll())
        return set(pending)

    o = replace(opts, superseded=superseded, progress=progress or SilentProgress())
    try:
        with BuildRuntime(root / ".clx" / "clx.db", info={"spec": str(opts.spec),
                                                          "mode": "watch"},
                          queue_url=opts.queue_url,
                          local_workers=opts.local_workers,
                          python=course_python(root, opts.python)) as runtime:

            def stopped_elsewhere() -> bool:
                closed = runtime.queue.session_state(runtime.session) is SessionState.CLOSED
                if closed:
                    echo("watch ended: its workers were stopped (clx workers stop)")
                return closed

            changed: set[str] = set()
            errors_shown = ErrorsShown()
            while not stop.is_set():
                if stopped_elsewhere():
                    return 1
                pending.clear()
                try:
                    report = build(o, runtime)
                    if on_report is not None:
                        on_report(report)
                    echo(status_line(report, changed))
                    for line in errors_shown.lines(report):
                        echo(line)
                except Superseded:
                    echo(f"[{datetime.now():%H:%M:%S}] changed again, restarting: "
                         + ", ".join(sorted(pending)[:3]))
                    changed = set(pending)
                    continue
                except SpecError as e:
                    for prob in e.problems:
                        echo(prob.format())
                changed = set(pending)
                while not changed and not stop.is_set():
                    changed = feed.take(timeout=0.5)
                    if stopped_elsewhere():
                        return 1
    except KeyboardInterrupt:
        echo("watch stopped")
    finally:
        feed.stop()
    return 0
