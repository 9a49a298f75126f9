"""`clx jobs retry` while a build runs: the build waits for the retried jobs and reports,
places and caches their new outcome (real build, real workers and kernels)."""

from __future__ import annotations

import json
import time
from pathlib import Path

from cli_course import notebook

from clx.queue import JobState, SqliteQueue


def _wait_for(predicate, timeout: float = 90.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def _jobs(db: Path) -> dict[str, JobState]:
    """{source file: state} of the newest build's jobs."""
    if not db.exists():
        return {}
    with SqliteQueue(db) as q:
        sessions = q.sessions(limit=1)
        if not sessions:
            return {}
        return {
            (q.get(j.id).payload or {})["file"].rsplit("/", 1)[-1]: j.state
            for j in q.jobs(sessions[0].id)
        }


def test_retried_jobs_count_with_their_new_outcome(make_course, tmp_path: Path) -> None:
    ok, release = tmp_path / "ok", tmp_path / "release"
    wait = (
        f"import os, time\nfor _ in range(900):\n    if os.path.exists({str(release)!r}):\n"
        "        break\n    time.sleep(0.1)"
    )
    fails = f"import os\nassert os.path.exists({str(ok)!r}), 'not yet'"
    c = make_course(
        {
            "slides/m_100/topic_100_first/slides_first.py": notebook("A", "A", wait),
            "slides/m_100/topic_200_second/slides_second.py": notebook("B", "B", fails),
            "slides/m_100/topic_300_third/slides_third.py": notebook("C", "C", wait),
        },
        topics="<topic>first</topic><topic>second</topic><topic>third</topic>",
    )
    spec, db = str(c.spec), c.root / ".clx" / "clx.db"
    build = c.popen(
        "build", spec, "--lang", "de", "--section", "1", "--workers", "3", "--output", "json"
    )
    try:
        _wait_for(
            lambda: (
                _jobs(db).get("slides_second.py") is JobState.FAILED
                and _jobs(db).get("slides_third.py") is JobState.RUNNING
            ),
            what="B failed while C runs",
        )
        ok.touch()
        r = c.clx("jobs", "retry", spec)
        assert r.returncode == 0 and "1 job(s) queued again" in r.stdout, r.stdout + r.stderr
        _wait_for(lambda: _jobs(db)["slides_second.py"] is JobState.SUCCEEDED, what="B again")

        # a cancelled job that is retried runs again within the same build
        ids = {name: j for name, j in _jobs(db).items()}
        with SqliteQueue(db) as q:
            third = next(
                j.id
                for j in q.jobs(q.sessions(limit=1)[0].id)
                if (q.get(j.id).payload or {})["file"].endswith("slides_third.py")
            )
        assert ids["slides_third.py"] is JobState.RUNNING
        r = c.clx("jobs", "cancel", spec, str(third))
        assert r.stdout.strip() == "1 job(s) cancelled", r.stdout + r.stderr
        r = c.clx("jobs", "retry", spec, str(third))
        assert r.stdout.strip() == f"1 job(s) queued again: {third}", r.stdout + r.stderr
        release.touch()
        out, err = build.communicate(timeout=120)
    finally:
        if build.poll() is None:
            build.kill()
            build.wait()
    assert build.returncode == 0, err
    doc = json.loads(out)
    assert doc["errors"] == [], doc["errors"]
    assert _jobs(db)["slides_third.py"] is JobState.SUCCEEDED  # not left pending
    part = c.out / "public/De/Kurs/Folien/Html/Completed/Teil Eins"
    assert (part / "02 B.html").is_file() and (part / "03 C.html").is_file()

    # the success was cached, not the failure: the next build runs nothing and reports ok
    ok.unlink()
    r = c.clx("build", spec, "--lang", "de", "--section", "1", "--output", "json")
    assert r.returncode == 0, r.stderr
    counts = json.loads(r.stdout)["jobs"]["notebook"]
    assert counts.get("cached") == 3 and not counts.get("cached-failed"), counts
