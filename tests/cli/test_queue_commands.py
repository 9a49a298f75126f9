"""`clx status`, `clx jobs …`, `clx workers …` as subprocesses on real queue databases."""

from __future__ import annotations

import json
import os
import time

from cli_course import notebook, plain_course

from clx.problems import Category, Problem
from clx.queue import JobError, JobState, NewJob, SqliteQueue, WorkerState


def _job(name: str, kind: str = "notebook", lang: str | None = None) -> NewJob:
    payload = {"file": f"slides/m/{name}"} | ({"lang": lang} if lang else {})
    return NewJob(kind, payload, cache_key=name, outputs=[f"out/{name}"])


def _record_build(
    db, *, pid: int | None, close: bool, worker: str = "notebook-1-abc"
) -> tuple[str, list[int]]:
    """A build as the queue remembers it: one success, one content failure, one pending."""
    with SqliteQueue(db) as q:
        info = {"spec": "course-specs/c.xml"} | ({"pid": pid} if pid else {})
        s = q.open_session(info=info)
        ids = q.enqueue_many(
            s, [_job("a.py", lang="en"), _job("b.py", lang="de"), _job("c.pu", "plantuml")]
        )
        q.register_worker(worker, s, ["notebook"], pid=1, host="h")
        ok, bad = q.claim(s, ["notebook"], worker, limit=2)
        q.complete(ok.id, ok.token)
        problem = Problem(
            "ZeroDivisionError: division by zero",
            file="slides/m/b.py",
            line=9,
            variants=("de/completed/html",),
        )
        q.fail(bad.id, bad.token, JobError(Category.CONTENT, (problem,)))
        q.update_worker(worker, state=WorkerState.READY, jobs_done=2)
        if close:
            q.close_session(s)
    return s, ids


def test_status_jobs_and_workers_of_the_latest_build(make_course) -> None:
    c = plain_course(make_course)
    r = c.clx("status", str(c.spec))
    assert r.returncode == 2 and "no build has run for this course yet" in r.stderr
    assert not (c.root / ".clx").exists()  # inspecting never creates the database
    db = c.root / ".clx" / "clx.db"
    db.parent.mkdir()
    _record_build(db, pid=None, close=True, worker="notebook-1-old")
    latest, ids = _record_build(db, pid=None, close=True)

    r = c.clx("status", str(c.spec))
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert out.startswith(f"build {latest[:8]} (finished, course-specs/c.xml")
    assert out.count("build ") == 1  # only the latest build when none runs
    notebook_row = next(line.split() for line in out.splitlines() if line.startswith("  notebook"))
    assert notebook_row == ["notebook", "0", "0", "1", "1", "0", "2"]
    plantuml_row = next(line.split() for line in out.splitlines() if line.startswith("  plantuml"))
    assert plantuml_row == ["plantuml", "1", "0", "0", "0", "0", "1"]
    assert "notebook-1-abc  ready" in out
    assert f"job {ids[1]}: error: slides/m/b.py:9 [de/completed/html]: ZeroDivisionError" in out

    doc = json.loads(c.clx("status", str(c.spec), "--output", "json").stdout)
    (build,) = doc["builds"]
    assert build["session"] == latest and build["running"] is False
    assert build["counts"]["notebook"]["failed"] == 1
    assert build["failures"][0]["source"] == "slides/m/b.py"
    assert build["failures"][0]["problems"][0]["line"] == 9
    assert build["workers"][0]["jobs_done"] == 2
    assert build["workers"][0]["heartbeat_age_seconds"] >= 0

    r = c.clx("jobs", "list", str(c.spec), "--state", "failed,succeeded")
    assert r.stdout.split("\n")[0].split() == ["id", "kind", "lang", "state", "tries", "time", "source"]
    rows = [line.split() for line in r.stdout.splitlines()[1:]]
    assert [row[:4] for row in rows] == [
        [str(ids[0]), "notebook", "en", "succeeded"],
        [str(ids[1]), "notebook", "de", "failed"],
    ]
    assert rows[1][-1] == "slides/m/b.py"
    r = c.clx("jobs", "list", str(c.spec), "--kind", "plantuml", "--output", "json")
    (job,) = json.loads(r.stdout)["jobs"]
    assert job["state"] == "pending" and job["source"] == "slides/m/c.pu" and job["lang"] is None
    r = c.clx("jobs", "list", str(c.spec), "--limit", "1")
    assert "2 earlier job(s) not shown" in r.stdout
    r = c.clx("jobs", "list", str(c.spec), "--state", "done")
    assert r.returncode == 2 and "--state: unknown value(s) done" in r.stderr

    r = c.clx("workers", "list", str(c.spec), "--all")
    assert "notebook-1-old" in r.stdout and "notebook-1-abc" in r.stdout  # every build
    r = c.clx("workers", "list", str(c.spec), "--output", "json")
    assert [w["state"] for w in json.loads(r.stdout)["workers"]] == ["ready"]

    r = c.clx("status", str(c.spec), "--session", "zz")
    assert r.returncode == 2 and "--session zz: no such build" in r.stderr
    # nothing runs: repair commands explain what to do instead
    for args in (("jobs", "retry"), ("jobs", "cancel"), ("workers", "stop")):
        r = c.clx(*args, str(c.spec))
        assert r.returncode == 2 and "no build is running for this course" in r.stderr, args
        assert "--retry-failed" in r.stderr


def test_retry_and_cancel_in_a_running_build(make_course) -> None:
    c = plain_course(make_course)
    db = c.root / ".clx" / "clx.db"
    db.parent.mkdir()
    _record_build(db, pid=None, close=True, worker="w1")
    gone, _ = _record_build(db, pid=2**22 + 12345, close=False, worker="w2")  # process gone
    session, ids = _record_build(db, pid=os.getpid(), close=False)  # this test "runs" it

    out = c.clx("status", str(c.spec)).stdout
    assert out.startswith(f"build {session[:8]} (running")
    assert gone[:8] not in out
    r = c.clx("status", str(c.spec), "--session", gone[:8])
    assert "open, build process gone" in r.stdout

    r = c.clx("jobs", "retry", str(c.spec))
    assert r.returncode == 0 and r.stdout.strip() == f"1 job(s) queued again: {ids[1]}"
    with SqliteQueue(db) as q:
        job = q.get(ids[1])
        assert job.state is JobState.PENDING and job.attempts == 0 and job.error is None
    r = c.clx("jobs", "cancel", str(c.spec), str(ids[2]))
    assert r.returncode == 0 and r.stdout.strip() == "1 job(s) cancelled"
    r = c.clx("jobs", "retry", str(c.spec), str(ids[2]))
    assert r.stdout.strip() == f"1 job(s) queued again: {ids[2]}"
    r = c.clx("jobs", "cancel", str(c.spec))
    assert r.stdout.strip() == "2 job(s) cancelled"
    r = c.clx("jobs", "retry", str(c.spec), "999999")
    assert r.returncode == 2 and "no job 999999" in r.stderr
    r = c.clx("jobs", "retry", str(c.spec), "1")  # a job of the first, finished build
    assert r.returncode == 2 and "belongs to a build that is not running" in r.stderr


SLEEPY = "import time\ntime.sleep(120)"


def _wait_for(predicate, timeout: float = 60.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def test_live_build_retry_cancel_and_workers_stop(make_course) -> None:
    """A real build with real workers: one notebook fails at once, two sleep until the
    workers are told to stop, which ends the build (exit 1, jobs cancelled)."""
    c = make_course(
        {
            "slides/m_100/topic_100_first/slides_first.py": notebook("A", "A", SLEEPY),
            # The longest source starts first (durations.estimate): B must be claimed first.
            "slides/m_100/topic_200_second/slides_second.py": notebook(
                "B", "B", "# " + "padding " * 40 + "\n1 / 0"
            ),
            "slides/m_100/topic_300_third/slides_third.py": notebook("C", "C", SLEEPY),
        },
        topics="<topic>first</topic><topic>second</topic><topic>third</topic>",
    )
    spec = str(c.spec)
    build = c.popen("build", spec, "--lang", "de", "--section", "1", "--workers", "2")
    try:

        def listed(state: str) -> list[dict]:
            r = c.clx("jobs", "list", spec, "--state", state, "--output", "json")
            return json.loads(r.stdout)["jobs"] if r.returncode == 0 else []

        # B and one sleeper are claimed first; B fails, and its worker takes the other
        _wait_for(
            lambda: len(listed("running")) == 2 and len(listed("failed")) == 1,
            what="two sleeping notebooks and one failure",
        )
        (failed,) = listed("failed")
        assert failed["source"].endswith("slides_second.py")
        status = c.clx("status", spec)
        assert "(running" in status.stdout and "busy" in status.stdout
        assert "ZeroDivisionError" in status.stdout
        workers = json.loads(c.clx("workers", "list", spec, "--output", "json").stdout)
        busy = [w for w in workers["workers"] if w["state"] == "busy"]
        assert len(busy) == 2 and all(w["current_job"] for w in busy)

        r = c.clx("jobs", "retry", spec)
        assert r.stdout.strip() == f"1 job(s) queued again: {failed['id']}", r.stderr
        (pending,) = listed("pending")  # both workers are busy sleeping
        assert pending["id"] == failed["id"] and pending["attempts"] == 0
        r = c.clx("jobs", "cancel", spec, str(pending["id"]))
        assert r.stdout.strip() == "1 job(s) cancelled"

        r = c.clx("workers", "stop", spec, timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "asked 2 worker(s) to stop; 2 unfinished job(s) cancelled" in r.stdout
        assert "all stopped" in r.stdout
        _, err = build.communicate(timeout=60)
        assert build.returncode == 1, err
        assert "job cancelled" in err
    finally:
        if build.poll() is None:
            build.kill()
            build.wait()
    doc = json.loads(c.clx("status", spec, "--output", "json").stdout)["builds"][0]
    assert doc["state"] == "closed"
    assert {w["state"] for w in doc["workers"]} <= {"stopped", "dead"}
