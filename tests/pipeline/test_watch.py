"""Watch mode with real workers: edits, deletions and renamed headers reach the outputs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

from clxtest import TWO_TOPICS_SPEC, notebook, write_tree

SPEC = TWO_TOPICS_SPEC
nb = notebook


class Watcher:
    def __init__(self, spec: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "clx.cli.main", "build", str(spec), "--watch"],
            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, predicate, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            if self.proc.poll() is not None:
                raise AssertionError("watch ended:\n" + "\n".join(self.lines))
            time.sleep(0.1)
        raise AssertionError("timed out; output so far:\n" + "\n".join(self.lines))

    def rebuilds(self) -> int:
        return sum(1 for line in self.lines if " job(s) run, " in line)


def test_watch_follows_edits_deletions_and_renames(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "course", {
        "course-specs/c.xml": SPEC,
        "slides/m_1/topic_100_alpha/slides_alpha.py": nb("Alpha", "Alpha", "print('v1')"),
        "slides/m_1/topic_200_beta/slides_beta.py": nb("Beta", "Beta", "print('b')"),
    })
    out = root / "output"
    html = out / "public/En/Course/Slides/Html/Completed/Part/01 Alpha.html"
    w = Watcher(root / "course-specs/c.xml")
    procs: list[psutil.Process] = []
    try:
        w.wait_for(lambda: w.rebuilds() >= 1)
        procs = psutil.Process(w.proc.pid).children(recursive=True)
        assert "v1" in html.read_text()

        (root / "slides/m_1/topic_100_alpha/slides_alpha.py").write_text(
            nb("Alpha", "Alpha", "print('v2-' + 'edited')"))
        w.wait_for(lambda: html.exists() and "v2-edited" in html.read_text())
        w.wait_for(lambda: w.rebuilds() >= 2)
        assert "2 job(s) run" in [line for line in w.lines if " job(s) run, " in line][-1]

        (root / "slides/m_1/topic_100_alpha/slides_alpha.py").write_text(
            nb("Erster", "First", "print('v2-edited')"))
        renamed = out / "public/En/Course/Slides/Html/Completed/Part/01 First.html"
        w.wait_for(lambda: renamed.exists() and not html.exists())

        (root / "slides/m_1/topic_200_beta/slides_beta.py").unlink()
        w.wait_for(lambda: not list(out.rglob("02 Beta.*")))
        assert list(out.rglob("01 First.ipynb"))
    finally:
        os.kill(w.proc.pid, signal.SIGINT)
        w.proc.wait(timeout=60)
    time.sleep(0.5)
    alive = [p for p in procs if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert not alive, [p.pid for p in alive]


def test_workers_stop_ends_the_watch(tmp_path: Path) -> None:
    """Stopped from another terminal, the watch ends instead of queueing rebuilds for
    workers that are gone, and leaves no process behind."""
    root = write_tree(tmp_path / "course", {
        "course-specs/c.xml": SPEC,
        "slides/m_1/topic_100_alpha/slides_alpha.py": nb("Alpha", "Alpha", "print('a')"),
        "slides/m_1/topic_200_beta/slides_beta.py": nb("Beta", "Beta", "print('b')"),
    })
    spec = root / "course-specs/c.xml"
    w = Watcher(spec)
    try:
        w.wait_for(lambda: w.rebuilds() >= 1)
        procs = psutil.Process(w.proc.pid).children(recursive=True)
        assert procs
        stop = subprocess.run([sys.executable, "-m", "clx.cli.main", "workers", "stop", str(spec)],
                              capture_output=True, text=True, timeout=60)
        assert stop.returncode == 0, stop.stdout + stop.stderr
        assert w.proc.wait(timeout=30) == 1
        w._reader.join(timeout=5)
        assert any("watch ended: its workers were stopped" in line for line in w.lines), w.lines
        gone, alive = psutil.wait_procs(procs, timeout=10)
        assert not alive, alive
    finally:
        if w.proc.poll() is None:
            os.kill(w.proc.pid, signal.SIGINT)
            w.proc.wait(timeout=60)


def test_a_missing_kernel_is_shown_once_per_watch_not_on_every_rebuild(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "course", {
        "course-specs/c.xml": SPEC,
        "slides/m_1/topic_100_alpha/slides_alpha.py": nb("Alpha", "Alpha", "print('v1')"),
        "slides/m_1/topic_200_beta/slides_beta.rs": nb("Beta", "Beta", "let x = 1;")
        .replace("# ", "// "),
    })
    w = Watcher(root / "course-specs/c.xml")
    try:
        w.wait_for(lambda: w.rebuilds() >= 1)
        (root / "slides/m_1/topic_100_alpha/slides_alpha.py").write_text(
            nb("Alpha", "Alpha", "print('v2')"))
        w.wait_for(lambda: w.rebuilds() >= 2)
        w.wait_for(lambda: any("shown before still apply" in line for line in w.lines))
    finally:
        os.kill(w.proc.pid, signal.SIGINT)
        w.proc.wait(timeout=60)
    missing = [line for line in w.lines if "Jupyter kernel 'rust'" in line]
    assert len(missing) == 1, w.lines
    statuses = [line for line in w.lines if " job(s) run, " in line]
    assert all("1 error(s)" in line for line in statuses), statuses  # still counted


def test_a_configuration_error_fixed_and_back_is_shown_again() -> None:
    from clx.pipeline.report import BuildReport
    from clx.pipeline.watch import ErrorsShown
    from clx.problems import Category, Problem

    missing = Problem("Jupyter kernel 'rust' is not installed", file="c.xml",
                      category=Category.CONFIGURATION)
    shown = ErrorsShown()
    assert shown.lines(BuildReport(errors=[missing])) == ["  " + missing.format()]
    assert shown.lines(BuildReport(errors=[missing])) == [
        "  (1 configuration error(s) shown before still apply)"
    ]
    assert shown.lines(BuildReport(errors=[])) == []  # fixed
    assert shown.lines(BuildReport(errors=[missing])) == ["  " + missing.format()]  # back
