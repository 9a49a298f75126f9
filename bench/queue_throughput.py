"""Queue overhead: enqueue rate (one transaction) and claim+complete rate of no-op jobs
drained by two real worker processes (targets on 2 cores: SQLite 100,000/s and 10,000/s;
PostgreSQL 50,000/s and 5,000/s).

``--engine postgresql`` measures a server: ``--url`` names one, otherwise a throwaway
local cluster is started (the tests' ``tests/pgserver.py``) and removed afterwards.

The drain rate is measured between the first claim and the last completion recorded
in the database, so interpreter start-up is excluded; the wall time including start-up
is printed too.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from clx.processes import kill_tree, popen
from clx.queue import JobState, NewJob, Queue
from clx.queue.location import open_queue


def jobs(n: int, kind: str = "noop") -> list[NewJob]:
    """Jobs shaped like the planner's: cache keys are SHA-256 digests, so they arrive in
    random order (sequential keys would flatter any index on them)."""
    return [
        NewJob(
            kind=kind,
            payload={"file": f"topic_{i:06d}/slides.py", "source_sha": f"{i:064x}"},
            cache_key=hashlib.sha256(f"cache {i}".encode()).hexdigest(),
            outputs=[f"/out/public/De/topic_{i:06d}.html"],
        )
        for i in range(n)
    ]


# A queue for a round: a fresh SQLite file, or the server's database.
Target = Callable[[str], "str | Path"]


def bench_enqueue(target: Target, n: int, rounds: int) -> tuple[float, float]:
    """Best rate of the enqueue call, and best rate including the WAL checkpoint that a
    large enqueue leaves to a background thread (``close`` waits for it; a server has none)."""
    best = best_with_checkpoint = 0.0
    batch = jobs(n)
    for r in range(rounds):
        q = open_queue(target(f"enqueue{r}"))
        session = q.open_session()
        t0 = time.perf_counter()
        ids = q.enqueue_many(session, batch)
        best = max(best, n / (time.perf_counter() - t0))
        assert len(ids) == n
        q.close()
        best_with_checkpoint = max(best_with_checkpoint, n / (time.perf_counter() - t0))
    return best, best_with_checkpoint


def bench_drain(target: Target, n: int, workers: int) -> tuple[float, float]:
    where = target("drain")
    q: Queue = open_queue(where)
    session = q.open_session()
    q.enqueue_many(session, jobs(n))
    env = dict(os.environ)
    if isinstance(where, Path):
        queue_args = ["--db", str(where)]
    else:
        queue_args, env["CLX_QUEUE_URL"] = [], where
    t0 = time.perf_counter()
    procs = [
        popen(
            [sys.executable, "-m", "clx.workers", *queue_args, "--session", session]
            + ["--kinds", "noop", "--worker-id", f"bench-{i}", "--log-level", "WARNING"],
            stdout=subprocess.DEVNULL,
            env=env,
        )
        for i in range(workers)
    ]
    try:
        while q.counts(session)["noop"][JobState.SUCCEEDED] < n:
            time.sleep(0.01)
        wall = time.perf_counter() - t0
    finally:
        q.close_session(session)
        for p in procs:
            kill_tree(p.pid)
            p.wait()
    done = q.jobs(session, states=[JobState.SUCCEEDED])
    first = min(j.started_at for j in done if j.started_at)
    last = max(j.finished_at for j in done if j.finished_at)
    span = (last - first).total_seconds()
    q.close()
    return n / span, n / wall


@contextlib.contextmanager
def targets(engine: str, url: str | None) -> Iterator[Target]:
    if engine == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield lambda name: Path(tmp) / f"{name}.db"
        return
    if url:
        yield lambda name: url
        return
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from pgserver import running_server

    with running_server() as server:
        yield lambda name: server.url


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--enqueue-jobs", type=int, default=100_000)
    ap.add_argument("--drain-jobs", type=int, default=50_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--url", help="PostgreSQL URL (default: a throwaway local server)")
    a = ap.parse_args()
    with targets(a.engine, a.url) as target:
        enqueue, with_checkpoint = bench_enqueue(target, a.enqueue_jobs, a.rounds)
        print(
            f"enqueue: {a.enqueue_jobs} jobs in one transaction, best of {a.rounds}: "
            f"{enqueue:,.0f} jobs/s ({with_checkpoint:,.0f} jobs/s until the background WAL "
            "checkpoint is done too)"
        )
        drain, drain_wall = bench_drain(target, a.drain_jobs, a.workers)
        print(
            f"claim+complete: {a.drain_jobs} noop jobs, {a.workers} worker processes: "
            f"{drain:,.0f} jobs/s ({drain_wall:,.0f} jobs/s including worker start-up)"
        )
    print(
        f"engine={a.engine} enqueue_jobs_per_s={enqueue:.0f} "
        f"enqueue_incl_checkpoint_jobs_per_s={with_checkpoint:.0f} "
        f"claim_complete_jobs_per_s={drain:.0f} "
        f"claim_complete_wall_jobs_per_s={drain_wall:.0f} workers={a.workers}"
    )


if __name__ == "__main__":
    main()
