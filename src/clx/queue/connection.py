"""Connections to the queue database, through clx's one SQLite connection function."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from clx.dbconnect import BUSY_TIMEOUT_SECONDS
from clx.dbconnect import connect as connect_db
from clx.queue.migrations import MIGRATIONS


def connect(path: Path | str, *, busy_timeout: float = BUSY_TIMEOUT_SECONDS) -> sqlite3.Connection:
    """Open the queue database (shared settings, schema migrated to the latest version)."""
    return connect_db(path, MIGRATIONS, name="queue", busy_timeout=busy_timeout)
