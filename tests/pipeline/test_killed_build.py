"""Finished work survives a killed build: results are cached as jobs finish, so the next
build runs only what had not finished; SIGTERM stops a build like Ctrl-C (exit 143)."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from clx.queue.model import SessionState
from clx.queue.sqlite import SqliteQueue
from clxtest import notebook, write_tree

SPEC = """<course>
  <name><de>Kurs</de><en>Course</en></name>
  <prog-lang>python</prog-lang>
  <sections><section><name><de>Teil</de><en>Part</en></name>
    <topics><topic>a</topic><topic>b</topic><topic>slow</topic></topics></section></sections>
</course>
"""
FAST_JOBS = 4  # topics a and b, German and English


def cache_entries(root: Path) -> int:
    db = root / ".clx" / "cache.db"
    if not db.exists():
        return 0
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            return conn.execute("SELECT count(*) FROM entries").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


def clx(*args: str, **kw) -> list[str]:
    return [sys.executable, "-m", "clx.cli.main", *args]


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["kill", "term"])
def test_a_killed_build_keeps_what_finished(tmp_path: Path, sig: signal.Signals) -> None:
    root = write_tree(
        tmp_path / "course",
        {
            "course-specs/c.xml": SPEC,
            "slides/m/topic_1_a/slides_a.py": notebook("A", "A", "print(1)"),
            "slides/m/topic_2_b/slides_b.py": notebook("B", "B", "print(2)"),
            "slides/m/topic_3_slow/slides_slow.py": notebook(
                "L", "L", "import time\ntime.sleep(600)"
            ),
        },
    )
    spec = root / "course-specs" / "c.xml"
    proc = subprocess.Popen(
        clx("build", str(spec), "--workers", "3"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while cache_entries(root) < FAST_JOBS and time.monotonic() < deadline:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            time.sleep(0.2)
        proc.send_signal(sig)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    stderr = proc.stderr.read() if proc.stderr else ""
    if sig == signal.SIGTERM:
        assert proc.returncode == 143, stderr
        assert "Traceback" not in stderr, stderr
        assert "terminated" in stderr, stderr
        with SqliteQueue(root / ".clx" / "clx.db") as q:  # the build closed its session
            assert [s.state for s in q.sessions()] == [SessionState.CLOSED]
    # The slow notebook is fixed; the next build runs only its jobs.
    (root / "slides/m/topic_3_slow/slides_slow.py").write_text(notebook("L", "L", "print(3)"))
    r = subprocess.run(
        clx("build", str(spec), "--output", "json"), capture_output=True, text=True, timeout=240
    )
    assert r.returncode == 0, r.stderr
    jobs = json.loads(r.stdout)["jobs"]["notebook"]
    assert jobs == {"cached": FAST_JOBS, "succeeded": 2}, jobs
