"""One ``python -m clx.workers`` process at a time: outcomes, failures, stop and cancel."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psutil

from clx.problems import Category
from clx.queue import JobState, NewJob, WorkerState


def files(*paths, text="x", repeat=1):
    return {str(p): {"text": text, "repeat": repeat} for p in paths}


def test_outcomes_and_failures_are_recorded_by_category(
    queue, session, start_worker, wait, all_finished, tmp_path
):
    out = tmp_path / "out"
    jobs = {
        "ok": NewJob("sleep", {"files": files(out / "ok.html", text="<p>")}, "ok"),
        "content": NewJob("fail", {"raise": "content", "file": "a.py", "line": 4}, "c"),
        "config": NewJob("fail", {"raise": "configuration", "file": "b.py"}, "g"),
        "bug": NewJob("fail", {"raise": "runtime", "file": "c.py"}, "r", max_attempts=2),
        "flaky": NewJob("fail", {"raise": "infrastructure", "fail_attempts": 1}, "i"),
        "partial": NewJob(
            "fail",
            {"files": files(out / "de.html"), "problems": ["cell 3 failed"], "file": "d.py"},
            "p",
        ),
    }
    ids = dict(zip(jobs, queue.enqueue_many(session, list(jobs.values())), strict=True))
    start_worker("sleep,fail")
    wait(lambda: all_finished(session))
    rec = {name: queue.get(job_id) for name, job_id in ids.items()}

    assert rec["ok"].state is JobState.SUCCEEDED
    assert (out / "ok.html").read_text() == "<p>"
    assert rec["ok"].result["written"] == [str(out / "ok.html")]

    assert (rec["content"].state, rec["content"].attempts) == (JobState.FAILED, 1)
    problem = rec["content"].error.problems[0]
    assert rec["content"].error.category is Category.CONTENT
    assert (problem.file, problem.line, problem.message) == ("a.py", 4, "scripted failure")

    assert (rec["config"].state, rec["config"].attempts) == (JobState.FAILED, 1)
    assert rec["config"].error.category is Category.CONFIGURATION
    assert rec["config"].error.problems[0].file == "b.py"

    assert (rec["bug"].state, rec["bug"].attempts) == (JobState.FAILED, 2)
    assert rec["bug"].error.category is Category.INFRASTRUCTURE
    assert "RuntimeError: scripted failure" in rec["bug"].error.message
    assert "Traceback" in rec["bug"].error.problems[0].detail

    assert (rec["flaky"].state, rec["flaky"].attempts) == (JobState.SUCCEEDED, 2)

    # A handler's error problems fail the job, but the files that worked still land.
    assert (rec["partial"].state, rec["partial"].attempts) == (JobState.FAILED, 1)
    assert rec["partial"].error.problems[0].message == "cell 3 failed"
    assert (out / "de.html").read_text() == "x"
    assert rec["partial"].result["files"] == [str(out / "de.html")]


def test_unchanged_outputs_are_not_rewritten(
    queue, session, start_worker, wait, all_finished, tmp_path
):
    target = tmp_path / "out" / "same.html"
    first = queue.enqueue(session, NewJob("sleep", {"files": files(target)}, "k1"))
    start_worker("sleep")
    wait(lambda: all_finished(session))
    mtime = target.stat().st_mtime_ns
    second = queue.enqueue(session, NewJob("sleep", {"files": files(target)}, "k2"))
    wait(lambda: queue.get(second).state is JobState.SUCCEEDED)
    assert queue.get(first).result["written"] == [str(target)]
    assert queue.get(second).result["written"] == []
    assert target.stat().st_mtime_ns == mtime


def test_a_worker_whose_tool_is_missing_fails_its_jobs_at_once(
    queue, session, start_worker, wait, all_finished
):
    bad = queue.enqueue_many(
        session, [NewJob("misconfigured", {"file": f"t{i}.py"}, f"m{i}") for i in range(3)]
    )
    good = queue.enqueue(session, NewJob("sleep", {}, "s"))
    start_worker("misconfigured,sleep", worker_id="w-bad")
    wait(lambda: all_finished(session))
    (worker,) = queue.workers(session)
    assert worker.state is WorkerState.CONFIG_ERROR
    assert "frobnicate" in worker.error.message
    for i, job_id in enumerate(bad):
        rec = queue.get(job_id)
        assert (rec.state, rec.attempts) == (JobState.FAILED, 1)
        assert rec.error.category is Category.CONFIGURATION
        assert "frobnicate" in rec.error.message and rec.error.problems[0].file == f"t{i}.py"
    assert queue.get(good).state is JobState.SUCCEEDED  # its other kind still works


def test_cancelled_job_that_keeps_running_makes_the_worker_leave(
    queue, session, start_worker, wait, tmp_path
):
    target = tmp_path / "out" / "never.html"
    job_id = queue.enqueue(session, NewJob("sleep", {"seconds": 30, "files": files(target)}, "k"))
    worker = start_worker("sleep", "--lease", "0.6", "--abandon-grace", "0.3")
    wait(lambda: queue.get(job_id).state is JobState.RUNNING)
    t0 = time.monotonic()
    assert queue.cancel(session) == 1
    assert worker.wait(timeout=10) == 3  # EXIT_ABANDONED
    assert time.monotonic() - t0 < 3
    assert not target.exists()
    assert queue.get(job_id).state is JobState.CANCELLED
    assert queue.workers(session)[0].state is WorkerState.STOPPED


def test_outcome_of_a_job_cancelled_while_running_is_dropped(
    queue, session, start_worker, wait, tmp_path
):
    dropped = tmp_path / "out" / "dropped.html"
    job_id = queue.enqueue(session, NewJob("sleep", {"seconds": 1.0, "files": files(dropped)}, "a"))
    worker = start_worker("sleep", "--lease", "0.3", "--abandon-grace", "10")
    wait(lambda: queue.get(job_id).state is JobState.RUNNING)
    queue.cancel(session)
    later = tmp_path / "out" / "later.html"
    next_id = queue.enqueue(session, NewJob("sleep", {"files": files(later)}, "b"))
    wait(lambda: queue.get(next_id).state is JobState.SUCCEEDED)
    assert later.exists() and not dropped.exists()
    assert worker.poll() is None  # the worker carried on


def test_worker_exits_when_its_session_is_closed(queue, session, start_worker, wait):
    worker = start_worker("noop")
    wait(lambda: queue.workers(session) and queue.workers(session)[0].state is WorkerState.READY)
    queue.close_session(session)
    assert worker.wait(timeout=5) == 0
    assert queue.workers(session)[0].state is WorkerState.STOPPED


def test_sigterm_during_a_long_job_hands_the_job_back(queue, session, start_worker, wait):
    job_id = queue.enqueue(session, NewJob("sleep", {"seconds": 30}, "k"))
    worker = start_worker("sleep", "--stop-grace", "0.3")
    wait(lambda: queue.get(job_id).state is JobState.RUNNING)
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=5) == 0
    rec = queue.get(job_id)
    assert (rec.state, rec.attempts) == (JobState.PENDING, 0)
    assert queue.workers(session)[0].state is WorkerState.STOPPED


def test_worker_exits_when_the_process_that_started_it_dies(db, queue, session, wait):
    starter = (
        "import subprocess, sys, time;"
        f"p = subprocess.Popen([sys.executable, '-m', 'clx.workers', '--db', {str(db)!r},"
        f" '--session', {session!r}, '--kinds', 'noop', '--worker-id', 'orphan']);"
        "print(p.pid, flush=True); time.sleep(60)"
    )
    parent = subprocess.Popen([sys.executable, "-c", starter], stdout=subprocess.PIPE, text=True)
    pid = int(parent.stdout.readline())
    wait(lambda: any(w.state is WorkerState.READY for w in queue.workers(session)))
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()

    def gone() -> bool:
        try:
            return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return True

    wait(gone, timeout=10)
    assert queue.workers(session)[0].state is WorkerState.STOPPED


def test_a_notebook_worker_boots_the_spares_the_build_names_as_it_starts(monkeypatch) -> None:
    from clx.workers.handlers.notebook import NotebookHandler
    from clx.workers.pool import WARM_KERNELS_VARIABLE

    monkeypatch.setenv(WARM_KERNELS_VARIABLE, "java,no-such-kernel")
    # Kernels of other tests' executors in this session (tests/notebooks keeps spares).
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    handler = NotebookHandler()
    handler.start()  # a kernel the build reports as missing does not stop the worker
    try:
        booting = [
            p.name() for p in psutil.Process().children(recursive=True) if p.pid not in before
        ]
        assert "java" in booting, booting
    finally:
        handler.stop()
    left = psutil.Process().children(recursive=True)
    assert not [p for p in left if p.name() == "java" and p.pid not in before]


def test_a_notebook_worker_preloads_what_the_build_names_while_it_starts(monkeypatch) -> None:
    from clx.workers.handlers.notebook import NotebookHandler
    from clx.workers.pool import PRELOAD_VARIABLE, WARM_KERNELS_VARIABLE

    monkeypatch.setenv(WARM_KERNELS_VARIABLE, "python3")
    monkeypatch.setenv(PRELOAD_VARIABLE, "yaml,clx_no_such_module")
    handler = NotebookHandler()
    handler.start()  # returns at once; the fork server imports them on a thread
    try:
        pool = handler._executor.pool
        deadline = time.monotonic() + 60
        zygote = None
        while time.monotonic() < deadline:
            zygote = pool._zygotes.get(sys.executable)
            if zygote is not None and "yaml" in zygote.loaded:
                break
            time.sleep(0.05)
        assert zygote is not None and "yaml" in zygote.loaded
        time.sleep(0.5)  # the thread that started the fork server has ended by now
        kernel = pool.take("python3", None, ["yaml"])  # forked after the preload
        kernel.wait_ready(60)  # alive: the server did not die with that thread
        assert "yaml" in kernel.preloaded
        pool.discard(kernel)
    finally:
        handler.stop()
