"""Worker crashes and retries reach the text and the JSON report, naming the decks and
why; no raw log lines of the pool on the console."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from clx.pipeline.retries import reason_of
from clxtest import TWO_TOPICS_SPEC, notebook, write_tree

# Kills the worker that runs it, once (the marker file says it did).
KILLER = """import os, pathlib, signal, psutil
marker = pathlib.Path({marker!r})
if not marker.exists():
    marker.write_text("killed")
    p = psutil.Process()
    while "clx.workers" not in " ".join(p.cmdline()):
        p = p.parent()
    os.kill(p.pid, signal.SIGKILL)
print("ok")"""


def test_a_killed_worker_is_reported_as_a_retry(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path / "course",
        {
            "course-specs/c.xml": TWO_TOPICS_SPEC,
            "slides/m_1/topic_100_alpha/slides_alpha.py": notebook(
                "A", "A", KILLER.format(marker=str(tmp_path / "marker"))
            ),
            "slides/m_1/topic_200_beta/slides_beta.py": notebook("B", "B", "print(2)"),
        },
    )
    report = tmp_path / "report.json"
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "clx.cli.main",
            "build",
            str(root / "course-specs/c.xml"),
            "--lang",
            "de",
            "--workers",
            "1",
            "--json-report",
            str(report),
        ],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert r.returncode == 0, r.stderr
    assert "WARNING clx" not in r.stderr and "ERROR clx" not in r.stderr, r.stderr
    lines = [line for line in r.stderr.splitlines() if line.startswith("retried")]
    assert len(lines) == 1, r.stderr
    assert "slides/m_1/topic_100_alpha/slides_alpha.py" in lines[0], lines
    assert "worker killed" in lines[0], lines
    doc = json.loads(report.read_text())
    assert doc["retries"]["jobs"] == 1
    assert doc["retries"]["by_reason"] == {"worker killed": 1}
    [deck] = doc["retries"]["decks"]
    assert deck["file"] == "slides/m_1/topic_100_alpha/slides_alpha.py"
    assert deck["retries"] == 1 and deck["reasons"] == ["worker killed"]
    assert "exited with code -9" in deck["messages"][0]


def test_reasons_from_the_messages_the_pool_and_queue_write() -> None:
    assert reason_of("worker notebook-1-ab12 exited with code -9 while running this job") == (
        "worker killed"
    )
    assert reason_of("worker notebook-1-ab12 exited with code 3 while running this job") == (
        "worker crashed"
    )
    assert (
        reason_of(
            "worker notebook-1-ab12 stopped renewing its lease (it died or hung) during attempt 1 of 3"
        )
        == "lease expired"
    )
    assert reason_of("the kernel died while executing cell 3") == "kernel died"
    assert reason_of("cell timed out after 120 s") == "timeout"
