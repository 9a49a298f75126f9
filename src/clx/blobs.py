"""Blob storage: content-addressed bytes that jobs name by SHA-256 digest.

One small interface, two implementations, so that neither the build nor the workers know
where the bytes live:

* ``FileBlobs`` (``clx.store.BlobStore``): the files under ``.clx/blobs``, for the SQLite
  engine, where the build and its workers share one disk.
* ``PostgresBlobs``: a table ``clx.blobs`` in the queue's database, for workers on other
  hosts. The build uploads the inputs the server lacks (one query to ask, bulk inserts
  to send); workers return output bytes the same way and the build writes them into the
  output tree.

Every ``get`` verifies the digest, so a corrupt blob is an error, never an output.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from clx.store import BlobStore, sha256

if TYPE_CHECKING:
    from clx.queue.postgres import PostgresQueue

FileBlobs = BlobStore

# Bytes per insert statement when uploading: large enough for few round trips, small
# enough to stay far below the server's 1 GB message limit.
_UPLOAD_BYTES = 16 << 20


class Blobs(Protocol):
    def put(self, data: bytes) -> str:
        """Store ``data`` (once) and return its digest."""

    def put_many(self, blobs: Iterable[bytes]) -> list[str]:
        """Store several; only the ones the store lacks are sent. Digests in order."""

    def get(self, digest: str) -> bytes:
        """The bytes; OSError if missing or corrupt."""

    def missing(self, digests: Iterable[str]) -> set[str]:
        """The digests the store does not hold."""


class PostgresBlobs:
    """Blobs in the ``clx.blobs`` table, on the connection (and reconnects) of a queue."""

    def __init__(self, queue: PostgresQueue) -> None:
        self.queue = queue

    def missing(self, digests: Iterable[str]) -> set[str]:
        wanted = sorted(set(digests))
        if not wanted:
            return set()
        # Asking is using: the blobs a build finds here count as used now, so pruning
        # (``prune``) keeps what running builds rely on.
        have = self.queue.run(
            lambda db: {
                r[0]
                for r in db.execute(
                    "UPDATE clx.blobs SET used_at = statement_timestamp()"
                    " WHERE digest = ANY(%s) RETURNING digest",
                    (wanted,),
                )
            }
        )
        return set(wanted) - have

    def prune(self, keep_days: float) -> tuple[int, int]:
        """Delete the blobs no build has uploaded, asked for or fetched for ``keep_days``
        days; returns how many and their bytes. Every build refreshes its inputs when it
        submits (``missing``) and a job's outputs, new when it finishes, are fetched right
        then, so only a build that ran longer than ``keep_days`` could miss one."""
        rows = self.queue.run(
            lambda db: db.execute(
                "DELETE FROM clx.blobs WHERE used_at < statement_timestamp()"
                " - make_interval(secs => %s) RETURNING size",
                (float(keep_days) * 86400,),
            ).fetchall()
        )
        return len(rows), sum(int(r[0]) for r in rows)

    def put(self, data: bytes) -> str:
        return self.put_many([data])[0]

    def put_many(self, blobs: Iterable[bytes]) -> list[str]:
        items = [(sha256(data), data) for data in blobs]
        absent = self.missing(d for d, _ in items)
        sent: set[str] = set()
        todo = [(d, data) for d, data in items if d in absent and not (d in sent or sent.add(d))]
        for chunk in _chunks(todo):
            digests = [d for d, _ in chunk]
            datas = [data for _, data in chunk]
            self.queue.run(
                lambda db, digests=digests, datas=datas: db.execute(
                    "INSERT INTO clx.blobs (digest, data, size) "
                    "SELECT d, b, length(b) FROM unnest(%s::text[], %s::bytea[]) AS u(d, b) "
                    "ON CONFLICT (digest) DO UPDATE SET used_at = statement_timestamp()",
                    (digests, datas),
                )
            )
        return [d for d, _ in items]

    def get(self, digest: str) -> bytes:
        row = self.queue.run(
            lambda db: db.execute(
                "SELECT data FROM clx.blobs WHERE digest = %s", (digest,)
            ).fetchone()
        )
        if row is None:
            raise OSError(f"blob {digest} is not in the queue database")
        data = bytes(row[0])
        if sha256(data) != digest:
            raise OSError(f"blob {digest} is corrupt")
        return data


def _chunks(items: Sequence[tuple[str, bytes]]) -> Iterator[list[tuple[str, bytes]]]:
    chunk: list[tuple[str, bytes]] = []
    size = 0
    for item in items:
        chunk.append(item)
        size += len(item[1])
        if size >= _UPLOAD_BYTES:
            yield chunk
            chunk, size = [], 0
    if chunk:
        yield chunk


def blobs_for(queue: object, state_dir: Path | None) -> Blobs | None:
    """The blob store that goes with a queue: the server's table for PostgreSQL, else
    ``<state_dir>/blobs`` (None without a state folder)."""
    from clx.queue.postgres import PostgresQueue

    if isinstance(queue, PostgresQueue):
        return PostgresBlobs(queue)
    return None if state_dir is None else FileBlobs(Path(state_dir) / "blobs")


def upload(local: FileBlobs, remote: Blobs, digests: Iterable[str]) -> int:
    """Copy the blobs ``remote`` lacks from ``local``; returns how many were sent."""
    absent = sorted(remote.missing(digests))
    for start in range(0, len(absent), 256):
        remote.put_many(local.get(d) for d in absent[start : start + 256])
    return len(absent)
