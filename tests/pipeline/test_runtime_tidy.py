"""Opening a build's runtime tidies clx.db: dead builds are closed, old ones forgotten."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from clx.pipeline.runtime import KEEP_FINISHED_BUILDS, BuildRuntime, build_is_running
from clx.queue import JobState, NewJob, SessionState, SqliteQueue


def dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_opening_a_build_closes_dead_builds_and_prunes_old_ones(tmp_path: Path) -> None:
    db = tmp_path / ".clx" / "clx.db"
    q = SqliteQueue(db)
    finished = []
    for i in range(KEEP_FINISHED_BUILDS + 3):
        s = q.open_session(f"done-{i:02d}", info={"pid": os.getpid()})
        q.enqueue(s, NewJob("noop", {}, f"k{i}"))
        q.close_session(s)
        finished.append(s)
    crashed = q.open_session("crashed", info={"pid": dead_pid()})
    (running_job,) = [q.enqueue(crashed, NewJob("noop", {}, "x"))]
    q.claim(crashed, ["noop"], "w")
    alive = q.open_session("alive", info={"pid": os.getpid()})
    # A build that crashed a day ago whose process id now belongs to this process.
    yesterday = SqliteQueue(db, clock=lambda: datetime.now(UTC) - timedelta(days=1))
    recycled = yesterday.open_session("recycled", info={"pid": os.getpid()})
    yesterday.close()

    def record(session: str):
        return next(s for s in q.sessions() if s.id == session)

    assert build_is_running(q, record(alive))
    assert not build_is_running(q, record(crashed))
    assert not build_is_running(q, record(recycled))

    with BuildRuntime(db) as rt:
        states = {s.id: s.state for s in q.sessions()}
        assert states["alive"] is SessionState.OPEN and states[rt.session] is SessionState.OPEN
        # The crashed builds are closed (the running job cancelled) and, being the newest
        # finished builds, kept; the oldest finished builds are gone with their jobs.
        assert states["crashed"] is SessionState.CLOSED
        assert states["recycled"] is SessionState.CLOSED
        assert q.get(running_job).state is JobState.CANCELLED
        kept = sorted(s for s, st in states.items() if st is SessionState.CLOSED)
        assert len(kept) == KEEP_FINISHED_BUILDS
        assert [s for s in finished if s not in states] == finished[:5]
        assert q.jobs(finished[0]) == [] and len(q.jobs(finished[-1])) == 1
    assert q.session_state(alive) is SessionState.OPEN
    q.close()
