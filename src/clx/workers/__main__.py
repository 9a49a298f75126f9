"""``python -m clx.workers``: one long-lived worker process serving some job kinds."""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import socket
import sys
from pathlib import Path

from clx.queue import DEFAULT_LEASE_SECONDS
from clx.workers.pool import TMPDIR_VARIABLE
from clx.workers.runtime import Worker, WorkerConfig


def parse_args(argv: list[str] | None = None) -> tuple[WorkerConfig, str]:
    p = argparse.ArgumentParser(prog="python -m clx.workers", description=__doc__)
    p.add_argument("--db", type=Path, help="the SQLite queue database (.clx/clx.db)")
    p.add_argument(
        "--queue",
        help="a PostgreSQL queue URL instead of --db (default: $CLX_QUEUE_URL, which keeps "
        "the password off the command line)",
    )
    p.add_argument("--state-dir", type=Path, help="state folder for handlers (default: --db's)")
    p.add_argument(
        "--serve-all",
        action="store_true",
        help="serve every open build session in turns (--session is the pool's own)",
    )
    p.add_argument("--session", required=True, help="the build session whose jobs to serve")
    p.add_argument("--kinds", required=True, help="comma-separated job kinds, e.g. notebook")
    p.add_argument("--worker-id", help="id in the workers table (default: kinds-host-pid)")
    p.add_argument("--lease", type=float, default=DEFAULT_LEASE_SECONDS, help="lease seconds")
    p.add_argument("--batch", type=int, help="jobs per claim (default: from the handlers)")
    p.add_argument("--backoff-base", type=float, default=1.0, help="first retry delay, s")
    p.add_argument("--stop-grace", type=float, default=1.0)
    p.add_argument("--abandon-grace", type=float, default=2.0)
    p.add_argument("--max-jobs", type=int, help="exit after this many jobs")
    p.add_argument("--log-level", default="INFO")
    a = p.parse_args(argv)
    kinds = tuple(k.strip() for k in a.kinds.split(",") if k.strip())
    if not kinds:
        p.error("--kinds needs at least one job kind")
    url = None if a.db else a.queue or os.environ.get("CLX_QUEUE_URL")
    if a.db is None and not url:
        p.error("name the queue: --db FILE, --queue URL or CLX_QUEUE_URL")
    return WorkerConfig(
        db_path=a.db.resolve() if a.db else None,
        queue_url=url,
        work_dir=a.state_dir.resolve() if a.state_dir else None,
        serve_all=a.serve_all,
        session=a.session,
        kinds=kinds,
        worker_id=a.worker_id or f"{'+'.join(kinds)}-{socket.gethostname()}-{os.getpid()}",
        lease_seconds=a.lease,
        batch=a.batch,
        backoff_base=a.backoff_base,
        stop_grace=a.stop_grace,
        abandon_grace=a.abandon_grace,
        max_jobs=a.max_jobs,
    ), a.log_level


def main(argv: list[str] | None = None) -> int:
    config, level = parse_args(argv)
    logging.basicConfig(
        level=level.upper(),
        stream=sys.stderr,
        format=f"%(asctime)s %(levelname)s [{config.worker_id}] %(name)s: %(message)s",
    )
    worker = Worker(config)
    worker.install_signal_handlers()
    try:
        return worker.run()
    finally:
        # The temporary folder the pool gave this worker (kernel folders, browser
        # profiles); a SIGKILLed worker's is removed by the next build's pool.
        tmp = os.environ.get(TMPDIR_VARIABLE)
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
