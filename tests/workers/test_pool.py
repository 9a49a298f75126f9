"""The pool with real worker processes: the acceptance scenarios of the queue issue."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

import psutil
import pytest

from clx.blobs import PostgresBlobs
from clx.pipeline.remote import land_outputs
from clx.problems import Category
from clx.queue import JobState, NewJob, WorkerState
from clx.workers.pool import PoolError, WorkerPool, default_counts
from clxtest import ENGINES

BACKOFF = 0.05


def pool(target, session, counts, **kw) -> WorkerPool:
    kw.setdefault("backoff_base", BACKOFF)
    kw.setdefault("lease_seconds", 3.0)
    if not isinstance(target, Path):  # a server URL: handlers keep state in a folder
        kw.setdefault("state_dir", kw.pop("db_dir"))
    kw.pop("db_dir", None)
    return WorkerPool(target, session, counts, **kw)


@ENGINES
def test_four_workers_drain_2000_jobs_each_exactly_once(
    db, target, queue, session, wait, all_finished
):
    with pool(target, session, {"tally": 4}, db_dir=db.parent) as p:
        # Jobs arrive once every worker is up: the first one up could drain them alone.
        p.wait_ready()
        ids = queue.enqueue_many(session, [NewJob("tally", {}, str(i)) for i in range(2000)])
        wait(lambda: all_finished(session), timeout=40)
        workers = set(p.worker_ids)
    jobs = queue.jobs(session)
    assert all(j.state is JobState.SUCCEEDED and j.attempts == 1 for j in jobs)
    assert {j.worker_id for j in jobs} <= workers and len({j.worker_id for j in jobs}) >= 2
    # Every handler execution left a line: each job ran exactly once.
    runs = Counter(
        int(line) for f in (db.parent / "tally").glob("*.txt") for line in f.read_text().split()
    )
    assert runs == Counter(ids)


@ENGINES
def test_kill_9_mid_job_reruns_it_within_one_lease_and_fences_the_dead_claim(
    db, engine, target, queue, session, wait, tmp_path
):
    lease = 3.0
    page = tmp_path / "out" / "page.html"
    spec = {"text": "<p>slide</p>", "repeat": 1000}
    job_id = queue.enqueue(
        session,
        NewJob("sleep", {"seconds": 0.8, "files": {str(page): spec}}, "k", outputs=[str(page)]),
    )
    with pool(target, session, {"sleep": 2}, lease_seconds=lease, db_dir=db.parent) as p:
        running = wait(lambda: queue.running(session))
        dead = queue.get(job_id)
        victim = next(w for w in queue.workers(session) if w.id == running[0].worker_id)
        os.kill(victim.pid, signal.SIGKILL)
        t0 = time.monotonic()
        wait(lambda: queue.get(job_id).state is JobState.SUCCEEDED, timeout=2 * lease)
        assert time.monotonic() - t0 < lease
        p.check()
    rec = queue.get(job_id)
    assert rec.attempts == 2 and rec.worker_id != victim.id
    # The dead claim's late writes are rejected by the fence.
    assert queue.complete(job_id, dead.lease_token, {"late": True}) is False
    assert queue.fail(job_id, dead.lease_token, rec.error or _infra()) is False
    if engine == "postgresql":  # the worker returned the bytes; the build writes them
        assert not page.exists() and list(rec.result["blobs"]) == [str(page)]
        assert land_outputs(rec, PostgresBlobs(queue), rec.outputs) == []
    assert rec.result["written"] == [str(page)]
    assert page.read_text() == "<p>slide</p>" * 1000
    dead_row = next(w for w in queue.workers(session) if w.id == victim.id)
    assert dead_row.state is WorkerState.DEAD and "-9" in dead_row.error.message


def _infra():
    from clx.queue import JobError

    return JobError.of(Category.INFRASTRUCTURE, "late")


def test_a_kill_during_the_output_write_never_leaves_a_torn_file(
    db, queue, session, wait, tmp_path
):
    out = tmp_path / "out"
    out.mkdir()
    size = 60_000_000
    caught = 0
    with pool(db, session, {"sleep": 1}) as p:
        for attempt in range(4):
            target = out / f"big{attempt}.bin"
            job_id = queue.enqueue(
                session,
                NewJob(
                    "sleep", {"files": {str(target): {"text": "z", "repeat": size}}}, str(attempt)
                ),
            )
            # Kill the worker the moment its temporary file appears, i.e. mid-write.
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and queue.get(job_id).state is not JobState.SUCCEEDED:
                if any(out.glob(f".{target.name}.*.tmp")):
                    pid = queue.workers(session)[-1].pid
                    running = queue.running(session)
                    if running and pid:
                        os.kill(pid, signal.SIGKILL)
                        caught += 1
                        assert not target.exists() or target.stat().st_size == size
                    break
                time.sleep(0.001)
            wait(lambda job_id=job_id: queue.get(job_id).state is JobState.SUCCEEDED, timeout=20)
            assert target.stat().st_size == size
            p.check()
            if caught >= 2:
                break
    assert caught >= 1, "never caught the worker mid-write"


@ENGINES
def test_two_sessions_sharing_one_db_never_take_each_others_jobs(
    db, target, queue, wait, all_finished
):
    a, b = queue.open_session("build-a"), queue.open_session("build-b")
    ids = {
        s: queue.enqueue_many(s, [NewJob("tally", {"s": s}, str(i)) for i in range(300)])
        for s in (a, b)
    }
    with (
        pool(target, a, {"tally": 2}, db_dir=db.parent) as pa,
        pool(target, b, {"tally": 2}, db_dir=db.parent) as pb,
    ):
        wait(lambda: all_finished(a) and all_finished(b), timeout=30)
        owners = {a: set(pa.worker_ids), b: set(pb.worker_ids)}
    for s in (a, b):
        jobs = queue.jobs(s)
        assert [j.id for j in jobs] == ids[s]
        assert all(j.state is JobState.SUCCEEDED and j.worker_id in owners[s] for j in jobs)
        assert {w.id for w in queue.workers(s)} == owners[s]


POOL_SCRIPT = textwrap.dedent(
    """
    import json, sys, time
    from clx.queue import NewJob, SqliteQueue
    from clx.workers.pool import WorkerPool
    db, session = sys.argv[1], "build-1"
    q = SqliteQueue(db)
    q.open_session(session)
    q.enqueue_many(session, [NewJob("toolchild", {"seconds": 60}, str(i)) for i in range(2)]
                   + [NewJob("sleep", {"seconds": 60}, "s")])
    with WorkerPool(db, session, {"toolchild": 2, "sleep": 1}, backoff_base=0.05) as pool:
        while len(q.running(session)) < 3:
            time.sleep(0.02)
        print(json.dumps(pool.pids()), flush=True)
        time.sleep(120)
    """
)


def test_ctrl_c_of_the_pool_leaves_no_process_behind(db, queue, wait):
    script = subprocess.Popen(
        [sys.executable, "-c", POOL_SCRIPT, str(db)], stdout=subprocess.PIPE, text=True
    )
    try:
        worker_pids = json.loads(script.stdout.readline())
        tool_dir = db.parent / "toolchild"
        wait(lambda: len(list(tool_dir.glob("*.pid"))) == 2)
        tool_pids = [int(f.read_text()) for f in tool_dir.glob("*.pid")]
        tree = psutil.Process(script.pid).children(recursive=True)
        assert {p.pid for p in tree} >= set(worker_pids) | set(tool_pids)
        assert len(worker_pids) == 3

        script.send_signal(signal.SIGINT)
        assert script.wait(timeout=15) != 0  # KeyboardInterrupt after the cleanup
    finally:
        if script.poll() is None:
            script.kill()
    _, alive = psutil.wait_procs(tree, timeout=5)
    assert [p for p in alive if p.status() != psutil.STATUS_ZOMBIE] == []
    assert {w.state for w in queue.workers("build-1")} == {WorkerState.STOPPED}
    assert queue.running("build-1") == []


def test_a_job_that_kills_its_worker_fails_after_max_attempts(
    db, queue, session, wait, all_finished
):
    crash = queue.enqueue(session, NewJob("crash", {"file": "boom.py"}, "c", max_attempts=3))
    fine = queue.enqueue_many(session, [NewJob("tally", {}, str(i)) for i in range(20)])
    with pool(db, session, {"crash": 1, "tally": 1}) as p:
        wait(lambda: all_finished(session), timeout=30)
        p.check()  # the crash slot was restarted, not given up
        (slot,) = [w for w in p.slots if w.kinds == ("crash",)]
        assert slot.crashes == 3 and slot.restarts == 3 and not slot.gave_up
    rec = queue.get(crash)
    assert (rec.state, rec.attempts) == (JobState.FAILED, 3)
    assert rec.error.category is Category.INFRASTRUCTURE
    assert "exited with code -9" in rec.error.message and rec.error.problems[0].file == "boom.py"
    assert all(queue.get(i).state is JobState.SUCCEEDED for i in fine)
    dead = [w for w in queue.workers(session) if w.state is WorkerState.DEAD]
    assert len(dead) == 3


def test_pool_reports_a_kind_whose_workers_keep_dying(db, queue, session, wait):
    queue.enqueue(session, NewJob("crash", {}, "c", max_attempts=5))
    with pool(db, session, {"crash": 1}, max_restarts=0) as p:
        wait(lambda: p.slots[0].gave_up)
        with pytest.raises(PoolError, match="crash"):
            p.check()


def test_workers_are_registered_before_they_start(db, queue, session):
    p = pool(db, session, {"noop": 2, "sleep,fail": 1})
    try:
        p.start(monitor=False)
        rows = {w.id: w for w in queue.workers(session)}
        assert set(rows) == set(p.worker_ids)
        assert {w.pid for w in rows.values()} == set(p.pids())
        assert rows[p.slots[2].worker_id].kinds == ("sleep", "fail")
        ready = p.wait_ready(timeout=20)
        assert {w.state for w in ready} == {WorkerState.READY}
        assert all((p.log_dir / f"{w}.log").exists() for w in p.worker_ids)
        assert p.log_dir == db.parent / "logs"
        pids = p.pids()
    finally:
        p.stop()
    assert not any(psutil.pid_exists(pid) for pid in pids)
    assert {w.state for w in queue.workers(session)} == {WorkerState.STOPPED}


def test_default_sizes_follow_the_cpu_count(db, session):
    assert default_counts(6) == {"notebook": 6, "plantuml": 1, "drawio": 1}
    p = WorkerPool(db, session)
    assert len(p.slots) == (os.cpu_count() or 1) + 2


def test_a_worker_whose_start_hangs_is_restarted_after_the_start_timeout(
    db, queue, session, wait, all_finished, tmp_path
):
    job = queue.enqueue(session, NewJob("hangstart", {}, "h"))
    marker = tmp_path / "hung-once"
    env = dict(os.environ, CLX_TEST_HANG_MARKER=str(marker))
    with pool(db, session, {"hangstart": 1}, env=env, start_timeout=2.0) as p:
        wait(lambda: all_finished(session), timeout=60)
        (slot,) = p.slots
        assert marker.exists() and slot.crashes == 1 and slot.restarts == 1
    assert queue.get(job).state is JobState.SUCCEEDED
    [dead] = [w for w in queue.workers(session) if w.state is WorkerState.DEAD]
    assert "did not finish starting within 2 s" in dead.error.message
