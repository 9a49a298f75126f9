"""The WAL checkpoint of a bulk enqueue runs beside it, not inside its commit."""

from __future__ import annotations

import logging

from clx.queue import NewJob, SqliteQueue, connect
from clx.queue.checkpoint import BackgroundCheckpoint, commit_without_checkpoint


def fill(db, rows: int) -> None:
    db.execute("BEGIN IMMEDIATE")
    db.execute("CREATE TABLE IF NOT EXISTS filler (x TEXT)")
    db.executemany("INSERT INTO filler VALUES (?)", [("x" * 500,)] * rows)


def test_commit_without_checkpoint_leaves_the_log_to_the_background(tmp_path):
    path = tmp_path / "clx.db"
    db = connect(path)
    reader = connect(path)  # keeps the database open, so no close checkpoints it either
    fill(db, 20_000)  # about 2,500 pages, well past the automatic threshold of 1,000
    commit_without_checkpoint(db)
    assert db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 1000  # restored
    size_before = path.stat().st_size
    assert size_before < 1_000_000, "the commit itself checkpointed"
    background = BackgroundCheckpoint(lambda: connect(path))
    background.start()
    background.wait()
    assert path.stat().st_size > 10_000_000
    assert reader.execute("SELECT count(*) FROM filler").fetchone()[0] == 20_000


def test_an_ordinary_commit_still_checkpoints(tmp_path):
    path = tmp_path / "clx.db"
    db = connect(path)
    reader = connect(path)
    fill(db, 20_000)
    db.execute("COMMIT")
    assert path.stat().st_size > 10_000_000
    reader.close()


def test_a_failed_background_checkpoint_is_logged(caplog):
    def broken():
        raise OSError("disk gone")

    background = BackgroundCheckpoint(broken)
    with caplog.at_level(logging.WARNING, logger="clx.queue.checkpoint"):
        background.start()
        background.wait()
    assert "background WAL checkpoint failed" in caplog.text and "disk gone" in caplog.text


def test_a_bulk_enqueue_is_checkpointed_by_the_time_the_queue_closes(tmp_path):
    path = tmp_path / "clx.db"
    reader = connect(path)
    q = SqliteQueue(path)
    s = q.open_session()
    jobs = [NewJob("noop", {"text": "y" * 400}, f"k{i}") for i in range(20_000)]
    assert len(q.enqueue_many(s, jobs)) == 20_000
    q.close()  # waits for the background checkpoint
    assert path.stat().st_size > 8_000_000
    assert reader.execute("SELECT count(*) FROM jobs").fetchone()[0] == 20_000
