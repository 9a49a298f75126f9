"""The one function through which every SQLite connection of clx is opened.

Build, workers, pool, cache and status commands share database files from several
processes at once. That only works if every connection agrees on the same settings,
so they are set here and nowhere else.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from clx.problems import ConfigurationError

log = logging.getLogger(__name__)

BUSY_TIMEOUT_SECONDS = 30.0

Migrations = Sequence[Sequence[str]]


class NewerSchemaError(RuntimeError):
    """The database was written by a newer clx; this one cannot use it."""


class _Damaged(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


_DAMAGE_CODES = {sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB}
_recoveries: list[str] = []
_recoveries_lock = threading.Lock()


def take_recoveries() -> list[str]:
    """One line per database this process found damaged and moved aside since the last
    call; the build reports them as warnings, other commands print them."""
    with _recoveries_lock:
        out = list(_recoveries)
        _recoveries.clear()
    return out


def connect(
    path: Path | str,
    migrations: Migrations,
    *,
    name: str = "database",
    busy_timeout: float = BUSY_TIMEOUT_SECONDS,
    pragmas: Sequence[str] = (),
    verify: bool = False,
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
    latest version before the connection is returned. ``verify`` also runs SQLite's quick
    integrity check (for a database opened once per build, like the cache).

    A file that is not an SQLite database, is corrupt or has a newer schema is state clx
    can rebuild: it is moved aside (kept for inspection, see ``take_recoveries``) and a
    fresh database is created instead of failing every command on the course.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    args = (path, migrations, name, busy_timeout, pragmas, verify)
    try:
        return _open(*args)
    except _Damaged:
        pass
    with _exclusive(path):  # one process recovers; the others then open its fresh file
        try:
            return _open(*args)
        except _Damaged as e:
            _move_aside(path, name, e.reason)
        return _open(*args)


def _damage(e: BaseException) -> str | None:
    if isinstance(e, NewerSchemaError):
        return str(e)
    if isinstance(e, sqlite3.DatabaseError) and (
        getattr(e, "sqlite_errorcode", None) in _DAMAGE_CODES or type(e) is sqlite3.DatabaseError
    ):
        return str(e)
    return None


def _open(
    path: Path,
    migrations: Migrations,
    name: str,
    busy_timeout: float,
    pragmas: Sequence[str],
    verify: bool,
) -> sqlite3.Connection:
    try:
        return _open_checked(path, migrations, name, busy_timeout, pragmas, verify)
    except (sqlite3.DatabaseError, NewerSchemaError) as e:
        reason = _damage(e)
        if reason is None:
            raise
        raise _Damaged(reason) from e


def _open_checked(
    path: Path,
    migrations: Migrations,
    name: str,
    busy_timeout: float,
    pragmas: Sequence[str],
    verify: bool,
) -> sqlite3.Connection:
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
        if verify:
            problems = [r[0] for r in conn.execute("PRAGMA quick_check(3)")]
            if problems != ["ok"]:
                raise _Damaged("; ".join(problems))
        migrate(conn, migrations, name)
    except BaseException:
        conn.close()
        raise
    return conn


@contextlib.contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    lock = path.with_name(path.name + ".recovery-lock")
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _move_aside(path: Path, name: str, reason: str) -> None:
    """Rename the damaged file (and its WAL, which belongs to it) out of the way."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    aside = path.with_name(f"{path.name}.damaged-{stamp}-{os.getpid()}")
    os.replace(path, aside)
    with contextlib.suppress(FileNotFoundError):
        os.replace(path.with_name(path.name + "-wal"), aside.with_name(aside.name + "-wal"))
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path.with_name(path.name + "-shm"))
    line = (
        f"the {name} database {path} was damaged ({reason}): moved aside to {aside.name}, "
        "starting with an empty one"
    )
    log.info("%s", line)
    with _recoveries_lock:
        _recoveries.append(line)


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
        raise NewerSchemaError(f"schema version {found}, newer than this clx's {latest}")
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
