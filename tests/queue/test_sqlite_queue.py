"""SqliteQueue: what only the SQLite engine promises (the contract: test_queue_contract)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from clx.dbconnect import current_version
from clx.problems import Category
from clx.queue import JobError, JobState, NewJob, SqliteQueue, connect
from clx.queue.migrations import LATEST

# The contract suite sits next to this file so that future backends can reuse it.
sys.path.insert(0, str(Path(__file__).parent))
from queue_contract import Clock, job  # noqa: E402


def test_every_connection_gets_the_shared_settings(tmp_path):
    conn = connect(tmp_path / "clx.db", busy_timeout=12.5)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 12500
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert current_version(conn) == LATEST


def test_foreign_keys_protect_jobs(tmp_path):
    import sqlite3

    conn = connect(tmp_path / "clx.db")
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute(
            "INSERT INTO jobs (session_key, kind, payload, cache_key, created_at) "
            "VALUES (999, 'noop', '{}', 'k', 'now')"
        )


def test_final_states_and_finish_numbers_go_together(tmp_path):
    """Per-session queries find finished jobs by their finish number: the schema holds
    every final state to having one, and no other state to having one."""
    import sqlite3

    q = SqliteQueue(tmp_path / "clx.db")
    s = q.open_session()
    job_id = q.enqueue(s, job("a"))
    db = q._db()
    with pytest.raises(sqlite3.IntegrityError):
        db.execute("UPDATE jobs SET state = 'succeeded' WHERE id = ?", (job_id,))
    with pytest.raises(sqlite3.IntegrityError):
        db.execute("UPDATE jobs SET finished_seq = 1 WHERE id = ?", (job_id,))


def test_timestamps_are_stored_as_utc_text(tmp_path):
    q = SqliteQueue(tmp_path / "clx.db")
    s = q.open_session()
    q.enqueue(s, job("a"))
    (created,) = q._db().execute("SELECT created_at FROM jobs").fetchone()
    assert created.endswith("Z") and len(created) == len("2026-01-01T00:00:00.000000Z")
    assert q.jobs(s)[0].created_at.utcoffset().total_seconds() == 0


def test_migrations_run_once_even_when_processes_race(tmp_path):
    db = tmp_path / "fresh.db"
    code = f"from clx.queue import SqliteQueue; SqliteQueue({str(db)!r}).open_session('s')"
    procs = [subprocess.Popen([sys.executable, "-c", code]) for _ in range(4)]
    assert [p.wait(timeout=30) for p in procs] == [0] * 4
    conn = connect(db)
    assert conn.execute("SELECT count(*), max(version) FROM schema_version").fetchone() == (
        1,
        LATEST,
    )


CLAIMER = textwrap.dedent(
    """
    import json, pathlib, sys, time
    from clx.queue import SqliteQueue, Completion
    q = SqliteQueue(sys.argv[1])
    # Start together: on two cores the first process up could otherwise drain the queue alone.
    here = pathlib.Path(sys.argv[1]).parent
    (here / f"ready-{sys.argv[2]}").touch()
    while not (here / "go").exists():
        time.sleep(0.005)
    got = []
    while True:
        jobs = q.claim("s", ["noop"], sys.argv[2], limit=7)
        if not jobs:
            break
        got += [j.id for j in jobs]
        if len(got) == len(jobs):
            # Hold the first lease until every claimer holds one: on a loaded machine a
            # claimer scheduled late would otherwise find the queue drained by the others.
            (here / f"claimed-{sys.argv[2]}").touch()
            deadline = time.monotonic() + 60
            while len(list(here.glob("claimed-*"))) < 3 and time.monotonic() < deadline:
                time.sleep(0.005)
        assert all(q.complete_many([Completion(j.id, j.token) for j in jobs]))
    print(json.dumps(got))
    """
)


def test_concurrent_claimers_never_share_a_job(tmp_path):
    db = tmp_path / "clx.db"
    q = SqliteQueue(db)
    q.open_session("s")
    ids = q.enqueue_many("s", [NewJob("noop", {}, str(i)) for i in range(3000)])
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CLAIMER, str(db), f"w{i}"], stdout=subprocess.PIPE, text=True
        )
        for i in range(3)
    ]
    deadline = time.monotonic() + 60
    while len(list(tmp_path.glob("ready-*"))) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    (tmp_path / "go").touch()
    claimed = [json.loads(p.communicate(timeout=60)[0]) for p in procs]
    everything = [i for part in claimed for i in part]
    assert sorted(everything) == sorted(ids)  # each job exactly once
    assert all(part for part in claimed), "every claimer should have won some jobs"
    assert q.counts("s")["noop"][JobState.SUCCEEDED] == 3000


def test_clock_is_used_for_leases(tmp_path):
    clock = Clock()
    q = SqliteQueue(tmp_path / "clx.db", clock=clock)
    q.open_session("s")
    q.enqueue("s", job("a"))
    (c,) = q.claim("s", ["noop"], "w", lease_seconds=2)
    assert c.lease_expires == clock.now.replace(second=2)


def test_only_identical_work_blocks_a_retry(tmp_path):
    """Pending jobs sharing the cache key but not the kind or outputs are other work."""
    q = SqliteQueue(tmp_path / "clx.db", backoff_base=0.0)
    s = q.open_session()
    q.enqueue(s, job("a"))
    (a,) = q.claim(s, ["noop"], "w")
    other_kind = q.enqueue(s, job("a", kind="other"))
    other_outputs = q.enqueue(s, job("a", outputs=["/elsewhere"]))
    assert q.fail(a.id, a.token, JobError.of(Category.INFRASTRUCTURE, "died")) is True
    pending = {j.id for j in q.jobs(s, states=[JobState.PENDING])}
    assert pending == {a.id, other_kind, other_outputs}
    assert q.enqueue_many(s, [job("a", outputs=["/elsewhere"]), job("a")]) == [
        other_outputs,
        a.id,
    ]
    # Released the same way, and still no duplicate.
    (first,) = q.claim(s, ["noop"], "w")
    assert q.release([first.id], first.token) == 1
    assert q.enqueue(s, job("a")) == a.id
    assert len(q.jobs(s)) == 3


def test_a_version_1_database_is_migrated_with_its_jobs(tmp_path):
    """Version 1 deduplicated through a hash column and a unique index; both go, the
    jobs stay and keep deduplicating."""
    from clx.dbconnect import connect as connect_with
    from clx.queue.migrations import MIGRATIONS

    path = tmp_path / "clx.db"
    old = connect_with(path, MIGRATIONS[:1])
    old.execute("INSERT INTO sessions (id, created_at) VALUES ('s', '2026-01-01T00:00:00Z')")
    old.execute(
        "INSERT INTO jobs (session_key, kind, payload, cache_key, outputs, identity, created_at) "
        """VALUES (1, 'noop', '{}', 'a', '["/out/a.html"]', 7, '2026-01-01T00:00:00Z')"""
    )
    old.close()
    q = SqliteQueue(path)
    assert current_version(q._db()) == LATEST
    columns = [r[1] for r in q._db().execute("PRAGMA table_info(jobs)")]
    assert "identity" not in columns
    assert q.enqueue_many("s", [job("a"), job("b")]) == [1, 2]
    assert [c.id for c in q.claim("s", ["noop"], "w", limit=5)] == [1, 2]


def test_bulk_enqueue_maps_every_position_to_its_job(tmp_path):
    """Several multi-row statements plus a remainder, then duplicates mixed with new jobs."""
    q = SqliteQueue(tmp_path / "clx.db")
    s = q.open_session()
    keys = [f"k{i}" for i in range(1001)]
    ids = q.enqueue_many(s, [job(k) for k in keys])
    assert {r.id: r.cache_key for r in q.jobs(s)} == dict(zip(ids, keys, strict=True))
    mixed = [job(keys[i * 3]) if i % 2 else job(f"new{i}") for i in range(300)]
    again = q.enqueue_many(s, mixed)
    by_id = {r.id: r.cache_key for r in q.jobs(s)}
    assert [by_id[i] for i in again] == [j.cache_key for j in mixed]
    assert again[1::2] == [ids[i * 3] for i in range(1, 300, 2)]
    assert len(by_id) == 1001 + 150
    # Duplicates within the first enqueue of a session, across statement boundaries.
    fresh = q.open_session()
    twice = q.enqueue_many(fresh, [job(k) for k in keys[:450] + keys[:450]])
    assert twice[:450] == twice[450:] and len(set(twice)) == 450
