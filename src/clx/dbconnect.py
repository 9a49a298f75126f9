"""The one function through which every SQLite connection of clx is opened.

Build, workers, pool, cache and status commands share database files from several
processes at once. That only works if every connection agrees on the same settings,
so they are set here and nowhere else.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

from clx.problems import ConfigurationError

BUSY_TIMEOUT_SECONDS = 30.0

Migrations = Sequence[Sequence[str]]


def connect(
    path: Path | str,
    migrations: Migrations,
    *,
    name: str = "database",
    busy_timeout: float = BUSY_TIMEOUT_SECONDS,
    pragmas: Sequence[str] = (),
) -> sqlite3.Connection:
    """Open a clx database with the settings every clx process must share.

    * WAL: readers (status polls) never block the writer and vice versa.
    * synchronous=NORMAL: a commit does not wait for fsync; with WAL the database stays
      consistent after a crash (a power cut may lose the last commits, which only
      re-runs jobs).
    * busy_timeout: writers queue up for the lock instead of failing with "locked".
    * foreign_keys: rows cannot point at rows that do not exist.
    * temp_store=MEMORY: statement journals of multi-row writes stay off the disk
      (crash safety rests on the WAL, not on them).
    * autocommit mode (isolation_level=None): transactions are explicit
      ``BEGIN IMMEDIATE`` blocks, taken before the first read, so a transaction never
      has to upgrade a stale read snapshot to a write.

    ``pragmas`` are extra per-database tuning statements. The schema is migrated to the
    latest version before the connection is returned.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=busy_timeout, isolation_level=None)
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise ConfigurationError(
                f"the {name} database {path} cannot use WAL mode (journal_mode={mode}); "
                "put the course state folder on a local file system"
            )
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA temp_store = MEMORY")
        for pragma in pragmas:
            conn.execute(pragma)
        migrate(conn, migrations, name)
    except BaseException:
        conn.close()
        raise
    return conn


def current_version(conn: sqlite3.Connection) -> int:
    try:
        row = conn.execute("SELECT version FROM schema_version").fetchone()
    except sqlite3.OperationalError:  # table not there yet: a fresh database
        return 0
    return row[0] if row else 0


def migrate(conn: sqlite3.Connection, migrations: Migrations, name: str = "database") -> int:
    """Bring the schema to the latest version; returns the version found before.

    Each step is applied once, in order, inside one write transaction together with the
    version bump, so processes that open a fresh database at the same moment cannot
    apply a step twice. Append new steps; never edit an applied one.
    """
    latest = len(migrations)
    found = current_version(conn)
    if found == latest:
        return found
    if found > latest:
        raise RuntimeError(f"the {name} database has schema version {found}, newer than "
                           f"this clx ({latest})")
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        found = current_version(conn)  # re-read under the write lock
        for version in range(found + 1, latest + 1):
            for statement in migrations[version - 1]:
                conn.execute(statement)
        conn.execute("DELETE FROM schema_version")
        conn.execute("INSERT INTO schema_version (version) VALUES (?)", (latest,))
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return found
