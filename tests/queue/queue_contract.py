"""Behaviour every Queue backend must show; a backend's test class mixes this in.

A subclass provides the fixture ``queue`` built on the ``clock`` fixture below (a
controllable UTC clock) with ``backoff_base=1.0`` and ``backoff_max=60.0``, e.g.::

    class TestPostgresQueue(QueueContract):
        @pytest.fixture
        def queue(self, clock):
            return PostgresQueue(DSN, clock=clock, backoff_base=1.0)
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from clx.problems import Category, Problem
from clx.queue import (
    Completion,
    JobError,
    JobState,
    NewJob,
    Queue,
    SessionState,
    WorkerState,
)

T0 = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def job(key: str, kind: str = "noop", **kw) -> NewJob:
    kw.setdefault("outputs", [f"/out/{key}.html"])
    return NewJob(kind=kind, payload={"key": key, "file": f"src/{key}.py"}, cache_key=key, **kw)


INFRA = JobError.of(Category.INFRASTRUCTURE, "the kernel died")
CONTENT = JobError(
    Category.CONTENT, (Problem("NameError: x", file="src/a.py", line=3, variants=("de/html",)),)
)


class QueueContract:
    @pytest.fixture
    def clock(self) -> Clock:
        return Clock()

    @pytest.fixture
    def session(self, queue: Queue) -> str:
        return queue.open_session("build-1")

    # --- enqueue -----------------------------------------------------------------------

    def test_enqueue_returns_ids_in_order_and_jobs_are_pending(self, queue, session):
        ids = queue.enqueue_many(session, [job("a"), job("b"), job("c")])
        assert len(set(ids)) == 3 and ids == sorted(ids)
        rec = queue.get(ids[1])
        assert rec.state is JobState.PENDING and rec.attempts == 0
        assert rec.payload == {"key": "b", "file": "src/b.py"}
        assert rec.outputs == ("/out/b.html",) and rec.cache_key == "b"
        assert rec.session == session and rec.created_at == T0
        assert queue.enqueue(session, job("d")) > ids[-1]

    def test_identical_pending_job_is_not_enqueued_twice(self, queue, session):
        first = queue.enqueue_many(session, [job("a"), job("b")])
        again = queue.enqueue_many(session, [job("a"), job("b", outputs=["/other"]), job("a")])
        assert again[0] == first[0] and again[2] == first[0]
        assert again[1] not in first
        assert queue.enqueue(session, job("a", kind="other")) not in first
        assert len(queue.jobs(session)) == 4
        # Once the job runs, the same work may be queued again.
        queue.claim(session, ["noop"], "w", limit=5)
        assert queue.enqueue(session, job("a")) not in first

    def test_dedupe_is_per_session(self, queue, session):
        other = queue.open_session("build-2")
        assert queue.enqueue(session, job("a")) != queue.enqueue(other, job("a"))

    def test_enqueue_is_all_or_nothing(self, queue, session):
        with pytest.raises(TypeError):
            queue.enqueue_many(session, [job("a"), NewJob("noop", {"x": object()}, "k")])
        assert queue.jobs(session) == []
        with pytest.raises(KeyError):
            queue.enqueue_many("no-such-session", [job("a")])

    def test_large_enqueue(self, queue, session):
        ids = queue.enqueue_many(session, [job(str(i)) for i in range(12_000)])
        assert len(ids) == len(set(ids)) == 12_000
        assert queue.counts(session)["noop"][JobState.PENDING] == 12_000

    # --- claim -------------------------------------------------------------------------

    def test_claim_orders_by_priority_then_age(self, queue, session, clock):
        ids = {}
        for key, prio in [("low", 0), ("high", 5), ("low2", 0), ("mid", 1)]:
            ids[key] = queue.enqueue(session, job(key, priority=prio))
            clock.advance(1)
        got = queue.claim(session, ["noop"], "w", limit=3)
        assert [j.id for j in got] == [ids["high"], ids["mid"], ids["low"]]
        assert [j.id for j in queue.claim(session, ["noop"], "w", limit=3)] == [ids["low2"]]
        assert queue.claim(session, ["noop"], "w") == []

    def test_claim_leases_with_token(self, queue, session, clock):
        (job_id,) = queue.enqueue_many(session, [job("a")])
        (c,) = queue.claim(session, ["noop"], "w1", lease_seconds=30)
        assert c.id == job_id and c.attempt == 1 and c.payload["key"] == "a"
        assert c.lease_expires == T0 + timedelta(seconds=30) and c.token
        rec = queue.get(job_id)
        assert rec.state is JobState.RUNNING and rec.worker_id == "w1"
        assert rec.lease_token == c.token and rec.started_at == T0

    def test_claim_filters_by_kind_and_session(self, queue, session):
        other = queue.open_session("build-2")
        queue.enqueue_many(session, [job("n", "notebook"), job("p", "plantuml")])
        queue.enqueue_many(other, [job("x", "notebook")])
        got = queue.claim(session, ["plantuml", "drawio"], "w", limit=10)
        assert [j.payload["key"] for j in got] == ["p"]
        got = queue.claim(session, ["notebook"], "w", limit=10)
        assert [(j.payload["key"], j.session) for j in got] == [("n", session)]
        assert queue.claim(session, ["notebook"], "w") == []
        assert [j.payload["key"] for j in queue.claim(other, ["notebook"], "w")] == ["x"]

    def test_claim_shares_one_token_per_call(self, queue, session):
        queue.enqueue_many(session, [job("a"), job("b")])
        a, b = queue.claim(session, ["noop"], "w", limit=2)
        assert a.token == b.token
        queue.enqueue_many(session, [job("c")])
        assert queue.claim(session, ["noop"], "w")[0].token != a.token

    # --- leases ------------------------------------------------------------------------

    def test_heartbeat_extends_the_lease(self, queue, session, clock):
        queue.enqueue_many(session, [job("a"), job("b")])
        claimed = queue.claim(session, ["noop"], "w", limit=2, lease_seconds=10)
        clock.advance(8)
        assert queue.heartbeat(claimed[0].token, 10) == {j.id for j in claimed}
        clock.advance(8)
        assert queue.reclaim_expired() == 0
        clock.advance(3)
        assert queue.reclaim_expired() == 2

    def test_stale_token_is_fenced_after_reclaim(self, queue, session, clock):
        (job_id,) = queue.enqueue_many(session, [job("a")])
        (dead,) = queue.claim(session, ["noop"], "w-dead", lease_seconds=5)
        clock.advance(6)
        assert queue.reclaim_expired() == 1
        rec = queue.get(job_id)
        assert rec.state is JobState.PENDING and rec.error.category is Category.INFRASTRUCTURE
        assert "w-dead" in rec.error.message and rec.error.problems[0].file == "src/a.py"
        clock.advance(60)  # past the retry backoff
        (alive,) = queue.claim(session, ["noop"], "w-alive", lease_seconds=5)
        assert alive.attempt == 2 and alive.token != dead.token
        assert queue.heartbeat(dead.token) == set()
        assert queue.complete(job_id, dead.token, {"by": "dead"}) is False
        assert queue.fail(job_id, dead.token, CONTENT) is False
        assert queue.complete(job_id, alive.token, {"by": "alive"}) is True
        rec = queue.get(job_id)
        assert rec.state is JobState.SUCCEEDED and rec.result == {"by": "alive"}
        assert rec.error is None and rec.finished_at == clock.now
        assert queue.complete(job_id, alive.token) is False  # never completed twice

    def test_complete_many_fences_each_entry(self, queue, session):
        queue.enqueue_many(session, [job("a"), job("b"), job("c")])
        a, b, c = queue.claim(session, ["noop"], "w", limit=3)
        flags = queue.complete_many(
            [
                Completion(a.id, a.token, {"n": 1}),
                Completion(b.id, "forged"),
                Completion(c.id, c.token),
                Completion(a.id, a.token),  # the same job twice in one call
            ]
        )
        assert flags == [True, False, True, False]
        states = {j.id: j.state for j in queue.jobs(session)}
        assert states == {
            a.id: JobState.SUCCEEDED,
            b.id: JobState.RUNNING,
            c.id: JobState.SUCCEEDED,
        }

    def test_release_returns_unstarted_jobs_without_counting(self, queue, session):
        queue.enqueue_many(session, [job("a"), job("b")])
        a, b = queue.claim(session, ["noop"], "w", limit=2)
        assert queue.release([b.id], "forged") == 0
        assert queue.release([b.id], b.token) == 1
        rec = queue.get(b.id)
        assert rec.state is JobState.PENDING and rec.attempts == 0 and rec.worker_id is None
        assert queue.complete(b.id, b.token) is False
        assert queue.claim(session, ["noop"], "w2")[0].id == b.id

    def test_release_worker_hands_back_its_running_jobs(self, queue, session, clock):
        queue.enqueue_many(session, [job("a"), job("b")])
        (a,) = queue.claim(session, ["noop"], "w1")
        (b,) = queue.claim(session, ["noop"], "w2")
        assert queue.release_worker("w1", JobError.of(Category.INFRASTRUCTURE, "w1 died")) == 1
        rec = queue.get(a.id)
        assert rec.state is JobState.PENDING and rec.error.message == "w1 died"
        assert rec.error.problems[0].file == "src/a.py"
        assert queue.get(b.id).state is JobState.RUNNING

    # --- failures ----------------------------------------------------------------------

    @pytest.mark.parametrize("category", [Category.CONTENT, Category.CONFIGURATION])
    def test_content_and_configuration_failures_fail_at_once(self, queue, session, category):
        (job_id,) = queue.enqueue_many(session, [job("a", max_attempts=5)])
        (c,) = queue.claim(session, ["noop"], "w")
        error = JobError(category, CONTENT.problems)
        assert queue.fail(job_id, c.token, error, result={"files": ["/out/de.html"]}) is True
        rec = queue.get(job_id)
        assert rec.state is JobState.FAILED and rec.attempts == 1
        assert rec.error == error and rec.result == {"files": ["/out/de.html"]}
        assert rec.error.problems[0].line == 3 and rec.error.problems[0].variants == ("de/html",)
        assert queue.fail(job_id, c.token, error) is False

    def test_infrastructure_failures_retry_with_exponential_backoff(self, queue, session, clock):
        (job_id,) = queue.enqueue_many(session, [job("a", max_attempts=3)])
        for attempt, delay in [(1, 1.0), (2, 2.0)]:
            (c,) = queue.claim(session, ["noop"], "w")
            assert c.attempt == attempt
            assert queue.fail(job_id, c.token, INFRA) is True
            rec = queue.get(job_id)
            assert rec.state is JobState.PENDING
            assert rec.not_before == clock.now + timedelta(seconds=delay)
            clock.advance(delay - 0.5)
            assert queue.claim(session, ["noop"], "w") == []
            clock.advance(0.5)
        (c,) = queue.claim(session, ["noop"], "w")
        assert queue.fail(job_id, c.token, INFRA) is True
        rec = queue.get(job_id)
        assert rec.state is JobState.FAILED and rec.attempts == 3 and rec.error == INFRA

    def test_retry_gives_way_to_an_identical_pending_job(self, queue, session):
        (first,) = queue.enqueue_many(session, [job("a"), job("b")])[:1]
        a, b = queue.claim(session, ["noop"], "w", limit=2)
        again = queue.enqueue(session, job("a"))  # the running job does not count
        assert again != first
        # The failed attempt is not retried: the identical pending job does the work.
        assert queue.fail(a.id, a.token, INFRA) is True
        rec = queue.get(a.id)
        assert rec.state is JobState.CANCELLED and "identical job is pending" in rec.error.message
        # The same holds for a job handed back unstarted.
        assert queue.enqueue(session, job("b")) != b.id
        assert queue.release([b.id], b.token) == 0
        assert queue.get(b.id).state is JobState.CANCELLED
        pending = queue.jobs(session, states=[JobState.PENDING])
        assert sorted(j.cache_key for j in pending) == ["a", "b"]
        assert queue.enqueue(session, job("a")) == again

    def test_expired_lease_on_last_attempt_fails_the_job(self, queue, session, clock):
        (job_id,) = queue.enqueue_many(session, [job("a", max_attempts=1)])
        queue.claim(session, ["noop"], "w", lease_seconds=1)
        clock.advance(2)
        assert queue.reclaim_expired() == 1
        rec = queue.get(job_id)
        assert rec.state is JobState.FAILED and rec.error.category is Category.INFRASTRUCTURE
        assert "attempt 1 of 1" in rec.error.message

    # --- cancellation ------------------------------------------------------------------

    def test_cancel_pending_and_running(self, queue, session):
        ids = queue.enqueue_many(session, [job("run"), job("done"), job("wait")])
        run, done = queue.claim(session, ["noop"], "w", limit=2)
        queue.complete(done.id, done.token)
        assert queue.cancel(session) == 2
        states = {j.id: j.state for j in queue.jobs(session)}
        assert states == dict(
            zip(ids, [JobState.CANCELLED, JobState.SUCCEEDED, JobState.CANCELLED], strict=True)
        )
        assert queue.heartbeat(run.token) == set()  # the worker learns it here
        assert queue.complete(run.id, run.token) is False
        assert queue.fail(run.id, run.token, INFRA) is False
        assert queue.get(run.id).state is JobState.CANCELLED

    def test_cancel_selected_jobs_only(self, queue, session):
        a, b = queue.enqueue_many(session, [job("a"), job("b")])
        other = queue.open_session("build-2")
        (c,) = queue.enqueue_many(other, [job("c")])
        assert queue.cancel(session, [b, c]) == 1
        assert queue.get(a).state is JobState.PENDING
        assert queue.get(b).state is JobState.CANCELLED
        assert queue.get(c).state is JobState.PENDING

    # --- status ------------------------------------------------------------------------

    def test_counts_by_kind_and_state(self, queue, session):
        queue.enqueue_many(
            session, [job("a", "notebook"), job("b", "notebook"), job("c", "drawio")]
        )
        queue.claim(session, ["notebook"], "w")
        counts = queue.counts(session)
        assert counts["notebook"][JobState.PENDING] == 1
        assert counts["notebook"][JobState.RUNNING] == 1
        assert counts["drawio"] == {s: (1 if s is JobState.PENDING else 0) for s in JobState}
        assert queue.counts("unknown") == {}

    def test_finished_since_reports_each_job_once_in_finish_order(self, queue, session, clock):
        ids = queue.enqueue_many(session, [job(str(i)) for i in range(5)])
        claimed = {c.id: c for c in queue.claim(session, ["noop"], "w", limit=5)}
        first = queue.finished_since(session)
        assert first.jobs == [] and first.cursor == 0
        queue.complete(ids[3], claimed[ids[3]].token)
        queue.fail(ids[1], claimed[ids[1]].token, CONTENT)
        batch = queue.finished_since(session, first.cursor)
        assert [j.id for j in batch.jobs] == [ids[3], ids[1]]
        assert batch.jobs[1].error == CONTENT and batch.jobs[1].payload is None
        assert queue.finished_since(session, batch.cursor).jobs == []
        queue.complete_many([Completion(i, claimed[i].token) for i in (ids[0], ids[4])])
        queue.cancel(session)
        page = queue.finished_since(session, batch.cursor, limit=2)
        assert [j.id for j in page.jobs] == [ids[0], ids[4]]
        rest = queue.finished_since(session, page.cursor)
        assert [(j.id, j.state) for j in rest.jobs] == [(ids[2], JobState.CANCELLED)]

    def test_finished_since_is_per_session(self, queue, session):
        other = queue.open_session("build-2")
        queue.enqueue_many(other, [job("x")])
        (c,) = queue.claim(other, ["noop"], "w")
        queue.complete(c.id, c.token)
        assert queue.finished_since(session).jobs == []
        assert len(queue.finished_since(other).jobs) == 1

    def test_running_lists_worker_and_elapsed_time(self, queue, session, clock):
        queue.enqueue_many(session, [job("a"), job("b")])
        (a,) = queue.claim(session, ["noop"], "w1")
        clock.advance(7)
        (b,) = queue.claim(session, ["noop"], "w2")
        clock.advance(3)
        running = queue.running(session)
        assert [(r.id, r.worker_id, r.elapsed) for r in running] == [
            (a.id, "w1", 10.0),
            (b.id, "w2", 3.0),
        ]
        assert running[0].outputs == ("/out/a.html",)

    def test_status_of_two_sessions_in_every_state_stays_apart(self, queue, session):
        other = queue.open_session("build-2")

        def fill(s: str) -> dict[str, int]:
            ids = queue.enqueue_many(s, [job(k) for k in ("run", "ok", "bad", "gone", "wait")])
            run, ok, bad = queue.claim(s, ["noop"], f"w-{s}", limit=3)
            queue.complete(ok.id, ok.token)
            queue.fail(bad.id, bad.token, CONTENT)
            queue.cancel(s, [ids[3]])
            return dict(zip(("run", "ok", "bad", "gone", "wait"), ids, strict=True))

        mine, theirs = fill(session), fill(other)
        expected = {
            mine["run"]: JobState.RUNNING,
            mine["ok"]: JobState.SUCCEEDED,
            mine["bad"]: JobState.FAILED,
            mine["gone"]: JobState.CANCELLED,
            mine["wait"]: JobState.PENDING,
        }
        assert {j.id: j.state for j in queue.jobs(session)} == expected
        assert queue.counts(session) == {"noop": dict.fromkeys(JobState, 1)}
        for state in JobState:
            assert [j.id for j in queue.jobs(session, states=[state])] == [
                i for i, st in expected.items() if st is state
            ]
        assert [r.id for r in queue.running(session)] == [mine["run"]]
        assert queue.cancel(session) == 2
        assert queue.counts(other) == {"noop": dict.fromkeys(JobState, 1)}
        queue.delete_session(session)
        assert queue.jobs(session) == [] and len(queue.jobs(other)) == 5
        assert [r.id for r in queue.running(other)] == [theirs["run"]]

    def test_jobs_filters(self, queue, session):
        queue.enqueue_many(session, [job("a", "notebook"), job("b", "drawio")])
        queue.claim(session, ["drawio"], "w")
        assert [j.kind for j in queue.jobs(session, states=[JobState.RUNNING])] == ["drawio"]
        assert [j.kind for j in queue.jobs(session, kinds=["notebook"])] == ["notebook"]

    # --- sessions and workers ----------------------------------------------------------

    def test_session_lifecycle(self, queue, session):
        assert queue.session_state(session) is SessionState.OPEN
        queue.close_session(session)
        assert queue.session_state(session) is SessionState.CLOSED
        assert queue.session_state("unknown") is None
        generated = queue.open_session()
        assert generated and generated != session
        queue.enqueue_many(generated, [job("a")])
        queue.register_worker("w", generated, ["noop"])
        queue.delete_session(generated)
        assert queue.session_state(generated) is None
        assert queue.jobs(generated) == [] and queue.workers(generated) == []

    def test_prune_sessions_keeps_the_newest_closed_and_every_open_one(self, queue, session):
        closed = []
        for i in range(5):
            s = queue.open_session(f"old-{i}")
            queue.enqueue_many(s, [job("a"), job(f"b{i}")])
            queue.register_worker(f"w{i}", s, ["noop"])
            queue.close_session(s)
            closed.append(s)
        queue.enqueue_many(session, [job("a")])  # open: never pruned
        assert queue.prune_sessions(keep=2) == ["old-2", "old-1", "old-0"]
        assert [queue.session_state(s) for s in closed] == [None] * 3 + [SessionState.CLOSED] * 2
        assert queue.jobs("old-0") == [] and queue.workers("old-0") == []
        assert [j.cache_key for j in queue.jobs("old-4")] == ["a", "b4"]
        assert [w.id for w in queue.workers("old-3")] == ["w3"]
        assert len(queue.jobs(session)) == 1
        assert queue.prune_sessions(keep=2) == []
        assert queue.prune_sessions(keep=0) == ["old-4", "old-3"]
        assert queue.session_state(session) is SessionState.OPEN

    def test_workers_table(self, queue, session, clock):
        queue.register_worker("w1", session, ["notebook", "plantuml"])
        queue.register_worker("w2", session, ["drawio"], pid=123, host="h")
        (w1, w2) = queue.workers(session)
        assert w1.state is WorkerState.STARTING and w1.kinds == ("notebook", "plantuml")
        assert (w2.pid, w2.host) == (123, "h")
        clock.advance(5)
        queue.update_worker("w1", state=WorkerState.BUSY, pid=42, current_job=7, jobs_done=3)
        w1 = queue.workers(session)[0]
        assert (w1.state, w1.pid, w1.current_job, w1.jobs_done) == (WorkerState.BUSY, 42, 7, 3)
        assert w1.heartbeat_at == clock.now
        error = JobError.of(Category.CONFIGURATION, "java is missing")
        queue.update_worker("w2", state=WorkerState.CONFIG_ERROR, error=error)
        assert queue.workers(session)[1].error == error
        queue.update_worker("w1", state=WorkerState.STOPPED, current_job=None)
        w1 = queue.workers(session)[0]
        assert w1.stopped_at == clock.now and w1.current_job is None and w1.pid == 42
        queue.register_worker("w1", session, ["notebook"])  # a restart resets the row
        w1 = queue.workers(session)[0]
        assert w1.state is WorkerState.STARTING and w1.stopped_at is None and w1.pid == 42
        assert queue.workers() and queue.workers("other") == []
