"""PostgresQueue: what only the server engine promises (the contract: test_queue_contract).

Real server (tests/pgserver.py): the server clock, concurrent claimers in several
processes, migrations racing, lost connections and a server restart mid-build.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
import time
from datetime import timedelta

import psycopg
import pytest

from clx.queue import JobState, NewJob
from clx.queue.location import connect_server, open_queue, redact
from clx.queue.pg_schema import LATEST
from clx.queue.postgres import PostgresQueue


def jobs(n: int, kind: str = "noop") -> list[NewJob]:
    return [NewJob(kind, {"i": i}, str(i)) for i in range(n)]


def test_leases_and_stamps_use_the_server_clock(postgres_url):
    q = PostgresQueue(postgres_url)
    q.open_session("s")
    q.enqueue("s", jobs(1)[0])
    (c,) = q.claim("s", ["noop"], "w", lease_seconds=40)
    server_now = q._db().execute("SELECT statement_timestamp()").fetchone()[0]
    assert timedelta(seconds=39) < c.lease_expires - server_now <= timedelta(seconds=40)
    rec = q.get(c.id)
    assert rec.started_at <= server_now and rec.created_at <= rec.started_at
    assert rec.lease_expires.utcoffset() == timedelta(0)
    q.close()


def test_schema_lives_in_its_own_schema_with_a_version(postgres_url):
    PostgresQueue(postgres_url).close()
    with psycopg.connect(postgres_url) as conn:
        assert conn.execute("SELECT max(version) FROM clx.schema_version").fetchone()[0] == LATEST
        tables = {
            r[0]
            for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'clx'"
            ).fetchall()
        }
        assert {"sessions", "jobs", "workers", "blobs", "schema_version"} <= tables


def test_migrations_run_once_even_when_processes_race(postgres_url):
    code = f"from clx.queue.postgres import PostgresQueue; PostgresQueue({postgres_url!r})"
    procs = [subprocess.Popen([sys.executable, "-c", code]) for _ in range(4)]
    assert [p.wait(timeout=60) for p in procs] == [0] * 4
    with psycopg.connect(postgres_url) as conn:
        assert conn.execute("SELECT count(*) FROM clx.schema_version").fetchone()[0] == LATEST


CLAIMER = textwrap.dedent(
    """
    import json, sys, time
    from clx.queue import Completion
    from clx.queue.postgres import PostgresQueue
    q = PostgresQueue(sys.argv[1])
    while q.session_state("go") is None:
        time.sleep(0.005)
    got = []
    while True:
        jobs = q.claim("s", ["noop"], sys.argv[2], limit=7)
        if not jobs:
            break
        got += [j.id for j in jobs]
        assert all(q.complete_many([Completion(j.id, j.token) for j in jobs]))
    print(json.dumps(got))
    """
)


def test_concurrent_claimers_never_share_a_job(postgres_url):
    q = PostgresQueue(postgres_url)
    q.open_session("s")
    ids = q.enqueue_many("s", jobs(3000))
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CLAIMER, postgres_url, f"w{i}"],
            stdout=subprocess.PIPE,
            text=True,
        )
        for i in range(3)
    ]
    time.sleep(0.5)  # let them connect, then start them together
    q.open_session("go")
    claimed = [json.loads(p.communicate(timeout=120)[0]) for p in procs]
    everything = [i for part in claimed for i in part]
    assert sorted(everything) == sorted(ids)  # each job exactly once
    assert q.counts("s")["noop"][JobState.SUCCEEDED] == 3000
    # Finish numbers are gap-free and each job has its own.
    seqs = [j.id for j in q.finished_since("s").jobs]
    assert sorted(seqs) == sorted(ids)
    q.close()


def test_a_new_job_wakes_a_waiting_worker_at_once(postgres_url):
    q = PostgresQueue(postgres_url)
    q.open_session("s")
    assert q.wait_for_jobs(0.01) is True  # the first call starts listening
    assert q.wait_for_jobs(0.05) is False  # nothing happened
    producer = PostgresQueue(postgres_url)
    timer = threading.Timer(0.3, lambda: producer.enqueue("s", jobs(1)[0]))
    t0 = time.monotonic()
    timer.start()
    assert q.wait_for_jobs(20) is True
    assert time.monotonic() - t0 < 10
    (c,) = q.claim("s", ["noop"], "w")
    assert q.wait_for_finished("s", 0.01) is True  # starts listening
    timer = threading.Timer(0.3, lambda: producer.complete(c.id, c.token))
    timer.start()
    assert q.wait_for_finished("s", 20) is True
    timer.join()
    producer.close()
    q.close()


def test_a_killed_connection_is_reopened_and_the_operation_goes_on(postgres_url):
    q = PostgresQueue(postgres_url)
    q.open_session("s")
    q.enqueue_many("s", jobs(3))
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        pid = q._db().info.backend_pid
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    got = q.claim("s", ["noop"], "w", limit=3)  # the first try fails: reconnect, retry
    assert len(got) == 3 and q._db().info.backend_pid != pid
    q.close()


def test_a_server_restart_mid_build_loses_no_job(postgres_server, postgres_url, tmp_path):
    """Two worker processes drain jobs while the server restarts under them."""
    from clx.workers.pool import WorkerPool

    q = PostgresQueue(postgres_url, backoff_base=0.05)
    q.open_session("s")
    ids = q.enqueue_many("s", [NewJob("sleep", {"seconds": 0.02}, str(i)) for i in range(150)])
    with WorkerPool(
        postgres_url, "s", {"sleep": 2}, state_dir=tmp_path, backoff_base=0.05, lease_seconds=5.0
    ) as pool:
        deadline = time.monotonic() + 60
        while not q.finished_since("s").jobs and time.monotonic() < deadline:
            time.sleep(0.02)
        postgres_server.restart()
        while time.monotonic() < deadline:
            pool.check()
            done = q.counts("s").get("sleep", {}).get(JobState.SUCCEEDED, 0)
            if done == len(ids):
                break
            time.sleep(0.1)
    states = {j.id: j.state for j in q.jobs("s")}
    assert set(states) == set(ids)
    assert set(states.values()) == {JobState.SUCCEEDED}
    q.close()


def test_open_queue_names_the_engine_and_urls_are_redacted(postgres_url, tmp_path):
    q = open_queue(postgres_url)
    assert isinstance(q, PostgresQueue)
    q.close()
    assert type(open_queue(tmp_path / "clx.db")).__name__ == "SqliteQueue"
    assert redact("postgresql://clx:s3cret@db.example:5432/clx") == (
        "postgresql://clx:***@db.example:5432/clx"
    )
    assert "s3cret" not in redact("postgresql://db/clx?user=a&password=s3cret&sslmode=require")
    assert redact("postgresql://clx@h/db") == "postgresql://clx@h/db"


def test_a_wrong_url_fails_at_once_with_the_password_hidden():
    with pytest.raises(Exception) as info:
        PostgresQueue("postgresql://clx:s3cret@127.0.0.1:1/clx", reconnect_timeout=0.2)
    assert "s3cret" not in str(info.value)


def test_connections_run_in_utc(postgres_url):
    with connect_server(postgres_url) as conn:
        assert conn.execute("SHOW TimeZone").fetchone()[0] == "UTC"
        assert conn.execute("SHOW application_name").fetchone()[0] == "clx"


def test_a_version_1_schema_is_migrated_with_its_jobs(postgres_url):
    from clx.queue import pg_schema

    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA clx")
        conn.execute(
            "CREATE TABLE clx.schema_version (version integer PRIMARY KEY, "
            "applied_at timestamptz NOT NULL DEFAULT now())"
        )
        for statement in pg_schema.MIGRATIONS[0]:
            conn.execute(statement)
        conn.execute("INSERT INTO clx.schema_version (version) VALUES (1)")
        conn.execute("INSERT INTO clx.sessions (id) VALUES ('old')")
        conn.execute(
            "INSERT INTO clx.jobs (session_key, kind, payload, cache_key) "
            "SELECT key, 'noop', '{}', 'k' FROM clx.sessions"
        )
    q = PostgresQueue(postgres_url)
    assert pg_schema.current_version(q._db()) == LATEST
    assert [j.cache_key for j in q.jobs("old")] == ["k"]
    assert q.counts("old") == {"noop": {s: int(s is JobState.PENDING) for s in JobState}}
    q.delete_session("old")
    assert q.jobs("old") == [] and q.session_state("old") is None
    q.close()


@pytest.mark.parametrize("key", ["C:\\path\\to\\ké", "tab\there\nnew\\line\r"])
def test_bulk_enqueue_keeps_every_character(postgres_url, key):
    q = PostgresQueue(postgres_url)
    q.open_session("s")
    payload = {"text": 'a\\b\t"c"\n\u00e9\u2603', "path": "x\\y"}
    (job_id,) = q.enqueue_many("s", [NewJob(f"k\\{key[:3]}", payload, key, outputs=[key])])
    rec = q.get(job_id)
    assert (rec.kind, rec.cache_key, rec.payload, rec.outputs) == (
        f"k\\{key[:3]}",
        key,
        payload,
        (key,),
    )
    q.close()


def test_a_database_the_server_refuses_fails_at_once(postgres_url, caplog):
    """A server that answers but refuses (no such database here; a wrong password alike)
    is not a lost connection: the error comes at once, not after two minutes of retries."""
    missing = postgres_url.rsplit("/", 1)[0] + "/no_such_database"
    with pytest.raises(psycopg.OperationalError) as info:
        PostgresQueue(missing).counts("s")
    assert 'database "no_such_database" does not exist' in str(info.value)
    assert not [r for r in caplog.records if "retrying" in r.getMessage()]


def test_a_claim_repeated_after_its_answer_was_lost_returns_the_same_jobs(postgres_url):
    # The claim committed, then the connection died before its answer arrived: the
    # reconnecting retry must hand out that batch, not claim a second one and strand
    # the first until its lease runs out.
    q = PostgresQueue(postgres_url)
    q.open_session("s")
    q.enqueue_many("s", jobs(6))
    real_call = q._call

    def answer_lost_once(op):
        real_call(op)  # committed; its rows never reach the worker
        return real_call(op)

    q._call = answer_lost_once  # type: ignore[method-assign]
    claimed = q.claim("s", ["noop"], "w", limit=2)
    q._call = real_call  # type: ignore[method-assign]
    running = [j for j in q.jobs("s") if j.state is JobState.RUNNING]
    assert sorted(c.id for c in claimed) == sorted(j.id for j in running)
    assert len(claimed) == 2 and {c.attempt for c in claimed} == {1}
    assert len(q.claim("s", ["noop"], "w2", limit=10)) == 4  # the rest, once each
    q.close()


def test_server_blobs_no_build_used_for_the_keep_days_are_pruned(postgres_url):
    from clx.blobs import PostgresBlobs

    q = PostgresQueue(postgres_url)
    blobs = PostgresBlobs(q)
    old, asked, new = blobs.put_many([b"clx-old", b"clx-asked", b"clx-new"])
    q._db().execute(
        "UPDATE clx.blobs SET used_at = statement_timestamp() - interval '20 days'"
        " WHERE digest = ANY(%s)",
        ([old, asked],),
    )
    assert blobs.missing([asked]) == set()  # a build that asks for a blob uses it
    count, size = blobs.prune(keep_days=14)
    assert (count, size) == (1, len(b"clx-old"))
    assert blobs.missing([old, asked, new]) == {old}
    assert blobs.get(new) == b"clx-new"
    q.close()


def test_a_build_asking_for_keep_days_zero_keeps_blobs_others_may_need(postgres_url):
    # One course's cache-keep-days = 0 must not delete what builds elsewhere uploaded.
    from clx.blobs import PostgresBlobs
    from clx.pipeline.runtime import SERVER_BLOB_MIN_DAYS, BuildRuntime

    q = PostgresQueue(postgres_url)
    [fresh] = PostgresBlobs(q).put_many([b"clx-another-build-input"])
    rt = BuildRuntime.__new__(BuildRuntime)  # only its blob store matters here
    rt.blobs = PostgresBlobs(q)
    rt.prune_server_blobs(0)
    assert PostgresBlobs(q).missing([fresh]) == set() and SERVER_BLOB_MIN_DAYS >= 1
    q.close()
