"""WAL checkpoints off the path of a bulk enqueue.

SQLite copies the write-ahead log back into the database file (a checkpoint) inside
whichever commit first finds the log longer than ``wal_autocheckpoint`` pages. After a
bulk enqueue that is the enqueue's own commit: for 100,000 jobs it wrote 36 MB into the
log and then waited about 0.15 s more while the same pages were copied and synced a
second time, a third of the enqueue. The build has nothing to do in that time but wait
for its workers, so the enqueue commits without a checkpoint and a thread of the same
process runs it, while the workers already claim jobs (a passive checkpoint blocks
neither readers nor writers).

Every other commit keeps SQLite's automatic checkpoint, so the log stays bounded even if
the background checkpoint fails or the process exits before it ran: the next commit of
any connection that finds the log long does the work.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


def commit_without_checkpoint(db: sqlite3.Connection) -> None:
    """COMMIT the open transaction of ``db`` without running an automatic checkpoint."""
    pages = db.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
    db.execute("PRAGMA wal_autocheckpoint = 0")
    try:
        db.execute("COMMIT")
    finally:
        db.execute(f"PRAGMA wal_autocheckpoint = {int(pages)}")


class BackgroundCheckpoint:
    """At most one passive checkpoint at a time, each on its own connection and thread.

    ``open_connection`` opens a connection to the database (through the one connection
    function, so it has the shared settings).
    """

    def __init__(self, open_connection: Callable[[], sqlite3.Connection]) -> None:
        self._open = open_connection
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start a checkpoint unless one is still running.

        A running one may stop short of the newest commit; the automatic checkpoint of
        a later commit picks up the rest.
        """
        if self._thread is not None and self._thread.is_alive():
            return
        self._thread = threading.Thread(target=self._run, name="clx-wal-checkpoint", daemon=True)
        self._thread.start()

    def wait(self) -> None:
        """Block until the running checkpoint, if any, has finished."""
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _run(self) -> None:
        try:
            conn = self._open()
            try:
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            finally:
                conn.close()
        except Exception:  # the next automatic checkpoint does the work instead
            log.warning("background WAL checkpoint failed", exc_info=True)
