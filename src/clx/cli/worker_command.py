"""`clx worker --queue URL`: a long-lived worker pool on any host, serving every build.

It needs only the queue URL and the local tools of its job kinds: inputs come from the
server's blob table and outputs go back there. The pool registers under a session of its
own (``worker_pool`` in its info), so `clx workers list` shows its workers with their
host; dead workers are restarted; Ctrl-C or SIGTERM stops every worker with its tools.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sys
import tempfile
import threading
from pathlib import Path

from clx.cli.errors import EXIT_FAILED, EXIT_OK, UsageError
from clx.queue.location import is_server_url, redact

KINDS = ("notebook", "plantuml", "drawio")


def _kinds(raw: str | None) -> tuple[str, ...]:
    if not raw:
        return KINDS
    kinds = tuple(k.strip() for k in raw.split(",") if k.strip())
    bad = sorted(set(kinds) - set(KINDS))
    if bad or not kinds:
        raise UsageError(
            f"--kinds: unknown job kind(s) {', '.join(bad)}; choose from {', '.join(KINDS)}"
        )
    return kinds


def run_worker_command(args: argparse.Namespace) -> int:
    url = args.queue or os.environ.get("CLX_QUEUE_URL")
    if not url or not is_server_url(url):
        raise UsageError("clx worker needs a PostgreSQL queue: --queue URL or CLX_QUEUE_URL")
    kinds = _kinds(args.kinds)
    if args.count is not None and args.count < 1:
        raise UsageError("--count: must be at least 1")
    from clx.queue.postgres import PostgresQueue
    from clx.workers.pool import PoolError, WorkerPool, default_counts

    defaults = default_counts()
    counts = {k: args.count or defaults[k] for k in kinds}
    work_dir = (
        Path(args.work_dir) if args.work_dir else Path(tempfile.mkdtemp(prefix="clx-worker-"))
    )
    work_dir.mkdir(parents=True, exist_ok=True)
    try:
        queue = PostgresQueue(url)
    except Exception as e:
        raise UsageError(f"cannot reach the queue {redact(url)}: {e}") from e
    host = socket.gethostname()
    session = queue.open_session(
        f"workers-{host}-{os.getpid()}",
        info={"worker_pool": True, "host": host, "pid": os.getpid()},
    )
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    pool = WorkerPool(url, session, counts, state_dir=work_dir, worker_args=["--serve-all"])
    status = EXIT_OK
    try:
        pool.start()
        records = pool.wait_ready(timeout=120)
        broken = [r for r in records if r.error is not None]
        for r in broken:
            for p in r.error.problems:  # type: ignore[union-attr]
                print(f"clx worker: {r.id}: {p.message}", file=sys.stderr)
        if broken and len(broken) == len(records):
            status = EXIT_FAILED
            return status
        print(
            f"clx worker: {len(records) - len(broken)} worker(s) for "
            f"{', '.join(kinds)} on {host}, serving {redact(url)} (logs: {pool.log_dir})",
            file=sys.stderr,
            flush=True,
        )
        while not stop.wait(1.0):
            try:
                pool.check()
            except PoolError as e:  # a kind whose workers keep dying: say so and stop
                print(f"clx worker: {e}", file=sys.stderr)
                status = EXIT_FAILED
                break
    finally:
        pool.stop()
        queue.close_session(session)
        queue.close()
    return status
