"""The queue methods the CLI's repair and status commands use, on a real SQLite file."""

from __future__ import annotations

from pathlib import Path

from clx.problems import Category
from clx.queue import JobError, JobState, NewJob, SessionState, SqliteQueue


def _job(n: int) -> NewJob:
    return NewJob("notebook", {"file": f"slides/n{n}.py"}, cache_key=f"k{n}", outputs=[f"o{n}"])


def test_sessions_newest_first_with_info(tmp_path: Path) -> None:
    with SqliteQueue(tmp_path / "q.db") as q:
        a = q.open_session(info={"spec": "a.xml"})
        b = q.open_session()
        q.close_session(a)
        listed = q.sessions()
        assert [s.id for s in listed] == [b, a]
        assert listed[1].state is SessionState.CLOSED and listed[1].closed_at is not None
        assert listed[1].info == {"spec": "a.xml"} and listed[0].info == {}
        assert [s.id for s in q.sessions(limit=1)] == [b]


def test_retry_resets_failed_and_cancelled_jobs(tmp_path: Path) -> None:
    with SqliteQueue(tmp_path / "q.db") as q:
        s = q.open_session()
        ids = q.enqueue_many(s, [_job(i) for i in range(4)])
        claimed = q.claim(s, ["notebook"], "w1", limit=2)
        q.fail(claimed[0].id, claimed[0].token, JobError.of(Category.CONTENT, "boom"))
        assert q.complete(claimed[1].id, claimed[1].token)
        q.cancel(s, [ids[2]])
        assert q.retry(s) == [claimed[0].id, ids[2]]
        again = {j.id: j for j in q.jobs(s)}
        for i in (claimed[0].id, ids[2]):
            j = again[i]
            assert j.state is JobState.PENDING and j.attempts == 0
            assert j.error is None and j.result is None and j.finished_at is None
        assert again[claimed[1].id].state is JobState.SUCCEEDED  # successes stay
        assert q.retry(s) == []  # nothing failed any more
        # the retried job can be claimed and finished again, and is reported again
        cursor = q.finished_since(s).cursor
        again_claimed = q.claim(s, ["notebook"], "w2", limit=10)
        assert {c.id for c in again_claimed} == {claimed[0].id, ids[2], ids[3]}
        assert all(c.attempt == 1 for c in again_claimed)
        for c in again_claimed:
            q.complete(c.id, c.token)
        assert {j.id for j in q.finished_since(s, cursor).jobs} == {c.id for c in again_claimed}


def test_retry_by_id_across_sessions_skips_twins_and_other_states(tmp_path: Path) -> None:
    with SqliteQueue(tmp_path / "q.db") as q:
        s1, s2 = q.open_session(), q.open_session()
        (a,) = q.enqueue_many(s1, [_job(1)])
        (b,) = q.enqueue_many(s2, [_job(2)])
        q.cancel(s1)
        q.cancel(s2)
        (twin,) = q.enqueue_many(s1, [_job(1)])  # identical work is pending again in s1
        (running,) = q.enqueue_many(s2, [_job(3)])
        q.claim(s2, ["notebook"], "w", limit=1)
        assert q.retry(None, [a, b, running, twin, 999]) == [b]
        assert q.get(a).state is JobState.CANCELLED  # its twin does the work
        assert q.get(running).state is JobState.RUNNING
        assert q.retry(s1, [b]) == []  # b is not in s1
