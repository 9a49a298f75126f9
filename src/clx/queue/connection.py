"""The one function through which every SQLite connection of clx is opened.

Build, workers, pool and status commands share one database file from several
processes at once. That only works if every connection agrees on the same settings,
so they are set here and nowhere else.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from clx.problems import ConfigurationError
from clx.queue.migrations import migrate

BUSY_TIMEOUT_SECONDS = 30.0


def connect(path: Path | str, *, busy_timeout: float = BUSY_TIMEOUT_SECONDS) -> sqlite3.Connection:
    """Open the database with the settings every clx process must share.

    * WAL: readers (status polls) never block the writer and vice versa.
    * synchronous=NORMAL: a commit does not wait for fsync; with WAL the database stays
      consistent after a crash (a power cut may lose the last commits, which only
      re-runs jobs).
    * busy_timeout: writers queue up for the lock instead of failing with "locked".
    * foreign_keys: jobs cannot point at a session that does not exist.
    * temp_store=MEMORY: the statement journal that lets a multi-row INSERT roll back on
      its own stays in memory; in temporary files it cost a bulk enqueue about one write
      system call per row. Crash safety does not depend on it (that is the WAL's job).
    * autocommit mode (isolation_level=None): transactions are explicit
      ``BEGIN IMMEDIATE`` blocks, taken before the first read, so a transaction never
      has to upgrade a stale read snapshot to a write.

    The schema is migrated to the latest version before the connection is returned.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=busy_timeout, isolation_level=None)
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise ConfigurationError(
                f"the queue database {path} cannot use WAL mode (journal_mode={mode}); "
                "put the course state folder on a local file system"
            )
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA temp_store = MEMORY")
        migrate(conn)
    except BaseException:
        conn.close()
        raise
    return conn
