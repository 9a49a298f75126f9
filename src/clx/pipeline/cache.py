"""The build cache: job cache key → the bytes it produced (or the error it raised).

Outputs are stored by content hash in the blob store, so an output folder that was
deleted is restored without running a job, and a hit is only used after every blob
has been verified against its hash. Content failures are remembered too, so an
unchanged broken notebook is reported again without being re-executed.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from clx.dbconnect import connect
from clx.problems import Problem
from clx.store import BlobStore

_SCHEMA = [
    [
        """CREATE TABLE entries (
            cache_key TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('succeeded', 'failed')),
            outputs TEXT NOT NULL,      -- {label: sha256}
            problems TEXT NOT NULL,     -- [Problem dict]
            ingredients TEXT NOT NULL,  -- what went into the key, for `clx cache explain`
            source TEXT NOT NULL,
            created_at TEXT NOT NULL
        )""",
        """CREATE TABLE output_keys (
            path TEXT PRIMARY KEY,      -- absolute output path
            cache_key TEXT NOT NULL,
            label TEXT NOT NULL
        )""",
    ],
    [
        # When a build last used an entry (a hit or a recording), in Unix seconds: the
        # garbage collector (clx.pipeline.cache_gc) drops entries unused for long.
        "ALTER TABLE entries ADD COLUMN used_at REAL NOT NULL DEFAULT 0",
        "UPDATE entries SET used_at = CAST(strftime('%s', created_at) AS REAL)",
        "CREATE INDEX entries_used_at ON entries (used_at)",
        "CREATE INDEX output_keys_cache_key ON output_keys (cache_key)",
    ],
]


@dataclass(frozen=True)
class CacheEntry:
    cache_key: str
    kind: str
    state: str
    outputs: dict[str, str]
    problems: list[Problem]
    ingredients: dict[str, Any]
    source: str

    @property
    def failed(self) -> bool:
        return self.state == "failed"


class BuildCache:
    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / "cache.db"
        self.blobs = BlobStore(state_dir / "blobs")
        self._conn: sqlite3.Connection = connect(self.path, _SCHEMA, name="cache", verify=True)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> BuildCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield self._conn
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    def get(self, cache_key: str) -> CacheEntry | None:
        row = self._conn.execute(
            "SELECT cache_key, kind, state, outputs, problems, ingredients, source "
            "FROM entries WHERE cache_key = ?",
            (cache_key,),
        ).fetchone()
        if row is None:
            return None
        return CacheEntry(
            row[0],
            row[1],
            row[2],
            json.loads(row[3]),
            [Problem.from_dict(p) for p in json.loads(row[4])],
            json.loads(row[5]),
            row[6],
        )

    def load_verified(self, entry: CacheEntry) -> dict[str, bytes] | None:
        """The entry's outputs by label, each checked against its hash; None if any is bad."""
        out: dict[str, bytes] = {}
        for label, digest in entry.outputs.items():
            try:
                out[label] = self.blobs.get(digest)
            except OSError:
                return None
        return out

    def record(
        self,
        cache_key: str,
        kind: str,
        state: str,
        outputs: dict[str, bytes],
        problems: list[Problem],
        ingredients: dict[str, Any],
        source: str,
        paths: dict[str, str],
        *,
        now: float | None = None,
    ) -> None:
        """Store a job's result; ``paths`` maps labels to the output paths of this build.

        ``now`` (Unix seconds, default the clock) stamps the entry as used.
        """
        digests = {label: self.blobs.put(data) for label, data in sorted(outputs.items())}
        used = time.time() if now is None else now
        created = datetime.fromtimestamp(used, UTC).isoformat(timespec="seconds")
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO entries (cache_key, kind, state, outputs, problems, "
                "ingredients, source, created_at, used_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    cache_key,
                    kind,
                    state,
                    json.dumps(digests, sort_keys=True),
                    json.dumps([p.to_dict() for p in problems]),
                    json.dumps(ingredients, sort_keys=True),
                    source,
                    created,
                    used,
                ),
            )
            db.executemany(
                "INSERT OR REPLACE INTO output_keys VALUES (?, ?, ?)",
                [(path, cache_key, label) for label, path in paths.items()],
            )

    def remember_paths(
        self, cache_key: str, paths: dict[str, str], *, now: float | None = None
    ) -> None:
        """A hit: the entry produced ``paths`` in this build, so it counts as used now."""
        with self._tx() as db:
            db.execute(
                "UPDATE entries SET used_at = ? WHERE cache_key = ?",
                (time.time() if now is None else now, cache_key),
            )
            db.executemany(
                "INSERT OR REPLACE INTO output_keys VALUES (?, ?, ?)",
                [(path, cache_key, label) for label, path in paths.items()],
            )

    def key_for_path(self, path: str) -> tuple[str, str] | None:
        row = self._conn.execute(
            "SELECT cache_key, label FROM output_keys WHERE path = ?", (path,)
        ).fetchone()
        return (row[0], row[1]) if row else None

    def clear(self) -> int:
        """Forget every entry; the blobs stay (clx.pipeline.cache_gc removes them)."""
        with self._tx() as db:
            n = db.execute("DELETE FROM entries").rowcount
            db.execute("DELETE FROM output_keys")
        return n

    # --- for the garbage collector (clx.pipeline.cache_gc) --------------------------------

    def count(self) -> int:
        return self._conn.execute("SELECT count(*) FROM entries").fetchone()[0]

    def delete_unused(self, used_before: float, keep: Collection[str] = ()) -> int:
        """Delete entries last used before ``used_before`` (Unix seconds) that are not in
        ``keep``, with the remembered output paths that pointed at them; returns how many.

        One write transaction, so a concurrent hit either lands before (and then its entry
        is gone and the job runs again) or after (and then it finds no entry): never a
        half-deleted entry.
        """
        keep = set(keep)
        with self._tx() as db:
            old = [
                k
                for (k,) in db.execute(
                    "SELECT cache_key FROM entries WHERE used_at < ?", (used_before,)
                )
                if k not in keep
            ]
            db.executemany("DELETE FROM entries WHERE cache_key = ?", [(k,) for k in old])
            db.executemany("DELETE FROM output_keys WHERE cache_key = ?", [(k,) for k in old])
        return len(old)

    def referenced_blobs(self) -> set[str]:
        """Every blob digest some entry's outputs name."""
        out: set[str] = set()
        for (outputs,) in self._conn.execute("SELECT outputs FROM entries"):
            out.update(json.loads(outputs).values())
        return out
