"""Diagram jobs through a real worker process and the SQLite queue."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import psutil
from diagram_samples import (
    PUML_BROKEN,
    PUML_BROKEN_LINE,
    PUML_CLASS,
    RED,
    box_model,
    count,
    drawio_file,
    image,
)

from clx.diagrams.payload import DiagramJobPayload
from clx.problems import Category
from clx.queue import JobState, NewJob, SqliteQueue, WorkerState
from clx.store import BlobStore


def test_one_worker_serves_both_kinds_and_leaves_no_tools_behind(tmp_path: Path) -> None:
    state = tmp_path / ".clx"
    state.mkdir()
    queue = SqliteQueue(state / "clx.db")
    session = queue.open_session()
    blobs = BlobStore(state / "blobs")
    out = tmp_path / "out"
    sources = {
        ("plantuml", "t/pu/good.pu"): PUML_CLASS,
        ("plantuml", "t/pu/broken.pu"): PUML_BROKEN,
        ("drawio", "t/drawio/box.drawio"): drawio_file(box_model("#ff0000"), compressed=True),
        ("drawio", "t/drawio/bad.drawio"): "<mxfile>\n<diagram>\n<<",
    }
    jobs = []
    for (kind, rel), text in sources.items():
        digest = blobs.put(text.encode("utf-8"))
        stem = Path(rel).stem
        outputs = {"png": str(out / f"{stem}.png"), "svg": str(out / f"{stem}.svg")}
        payload = DiagramJobPayload(rel, digest, outputs, target=f"img/{stem}.png")
        jobs.append(NewJob(kind, payload.to_dict(), f"{kind}:{digest}", list(outputs.values())))
    queue.enqueue_many(session, jobs)
    worker = subprocess.Popen(
        [sys.executable, "-m", "clx.workers", "--db", str(state / "clx.db")]
        + ["--session", session, "--kinds", "plantuml,drawio", "--log-level", "WARNING"]
    )
    tools: dict[int, psutil.Process] = {}
    seen: set[str] = set()
    try:
        deadline = time.monotonic() + 120
        while True:
            records = queue.jobs(session)
            if all(r.state.finished for r in records):
                break
            assert worker.poll() is None, "the worker died"
            assert time.monotonic() < deadline, [r.state for r in records]
            for p in psutil.Process(worker.pid).children(recursive=True):
                tools.setdefault(p.pid, p)
                seen.update(Path(arg).name for arg in _cmdline(p)[:1])
            time.sleep(0.05)
        (w,) = queue.workers(session)
        assert w.state in (WorkerState.READY, WorkerState.BUSY)
    finally:
        queue.close_session(session)
        worker.wait(timeout=60)

    by_file = {r.outputs[0].rsplit("/", 1)[-1]: r for r in queue.jobs(session)}
    assert by_file["good.png"].state is JobState.SUCCEEDED
    assert by_file["box.png"].state is JobState.SUCCEEDED
    assert count(image((out / "good.png").read_bytes()), RED) > 5000
    assert count(image((out / "box.png").read_bytes()), RED) > 300 * 100
    assert (out / "box.svg").read_bytes().count(b"<svg") == 1

    broken = by_file["broken.png"]
    assert broken.state is JobState.FAILED and broken.attempts == 1  # content: no retry
    assert broken.error is not None and broken.error.category is Category.CONTENT
    problem = broken.error.problems[0]
    assert (problem.file, problem.line, problem.target) == (
        "t/pu/broken.pu",
        PUML_BROKEN_LINE,
        "img/broken.png",
    )
    bad = by_file["bad.png"]
    assert bad.state is JobState.FAILED and bad.attempts == 1
    assert "not well-formed XML" in bad.error.problems[0].message
    assert not (out / "broken.png").exists() and not (out / "bad.png").exists()

    assert {"java", "chromium"} <= seen, seen  # the tools were seen running …
    assert not [p for p in tools.values() if _alive(p)]  # … and are gone


def _cmdline(proc: psutil.Process) -> list[str]:
    try:
        return proc.cmdline()
    except psutil.Error:
        return []


def _alive(proc: psutil.Process) -> bool:
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False
