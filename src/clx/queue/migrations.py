"""Versioned schema of the SQLite queue database.

``clx.dbconnect.migrate`` applies them, once each, in order. Append new steps; never
edit an applied one. (Step 1 was last
rewritten in place before clx was first released, when no database existed to upgrade.)
"""

from __future__ import annotations


def _one_of(column: str, *values: str) -> str:
    """CHECK condition as a chain of comparisons.

    ``column IN (…)`` with more than two values makes SQLite build a temporary b-tree of
    the values every time the check runs, i.e. for every inserted row: that alone cost a
    bulk enqueue a quarter of its time.
    """
    return " OR ".join(f"{column} = '{v}'" for v in values)


_STATES = _one_of("state", "pending", "running", "succeeded", "failed", "cancelled")
_WORKER_STATES = _one_of("state", "starting", "ready", "busy", "stopped", "dead", "config-error")

MIGRATIONS: list[list[str]] = [
    # 1: sessions, jobs, workers, the sequence that orders finished jobs.
    [
        # ``key`` is the compact internal reference that job rows and their indexes carry;
        # AUTOINCREMENT so that a deleted session's key is never handed out again.
        """CREATE TABLE sessions (
            key INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL UNIQUE,
            state TEXT NOT NULL DEFAULT 'open' CHECK (state = 'open' OR state = 'closed'),
            info TEXT,
            created_at TEXT NOT NULL,
            closed_at TEXT
        )""",
        f"""CREATE TABLE jobs (
            id INTEGER PRIMARY KEY,
            session_key INTEGER NOT NULL REFERENCES sessions(key) ON DELETE CASCADE,
            kind TEXT NOT NULL,
            priority INTEGER NOT NULL DEFAULT 0,
            payload TEXT NOT NULL,
            cache_key TEXT NOT NULL,
            outputs TEXT NOT NULL DEFAULT '[]',
            identity INTEGER,
            state TEXT NOT NULL DEFAULT 'pending' CHECK ({_STATES}),
            attempts INTEGER NOT NULL DEFAULT 0,
            max_attempts INTEGER NOT NULL DEFAULT 3 CHECK (max_attempts >= 1),
            lease_token TEXT,
            lease_expires TEXT,
            worker_id TEXT,
            not_before TEXT,
            result TEXT,
            error TEXT,
            finished_seq INTEGER,
            created_at TEXT NOT NULL,
            started_at TEXT,
            finished_at TEXT,
            -- exactly the final states carry a finish number (per-session queries rely on it)
            CHECK ((state = 'pending' OR state = 'running') = (finished_seq IS NULL))
        )""",
        # Claim order: the partial index holds pending jobs only, so it stays small.
        """CREATE INDEX jobs_claim ON jobs (session_key, kind, priority DESC, id)
            WHERE state = 'pending'""",
        # Dedupe of identical pending work (ON CONFLICT DO NOTHING at enqueue). ``identity``
        # is a 64-bit hash of kind, cache key and outputs: comparing one integer instead of
        # two long texts per entry keeps this index small and bulk inserts into it cheap.
        # Equal hashes are compared in full before a job counts as a duplicate; a job whose
        # hash collides with a different pending job is stored with a NULL identity.
        """CREATE UNIQUE INDEX jobs_pending_identity ON jobs (session_key, identity)
            WHERE state = 'pending'""",
        "CREATE INDEX jobs_lease ON jobs (lease_expires) WHERE state = 'running'",
        "CREATE INDEX jobs_token ON jobs (lease_token) WHERE state = 'running'",
        "CREATE INDEX jobs_worker ON jobs (worker_id) WHERE state = 'running'",
        # No index on session_key alone: every enqueued row would pay for it, and the
        # per-session queries are served by jobs_claim (pending), jobs_lease (running) and
        # jobs_finished (final states). Deleting a session therefore scans the jobs table
        # for its rows (ON DELETE CASCADE), which is rare.
        """CREATE INDEX jobs_finished ON jobs (session_key, finished_seq)
            WHERE finished_seq IS NOT NULL""",
        f"""CREATE TABLE workers (
            id TEXT PRIMARY KEY,
            session TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            kinds TEXT NOT NULL,
            state TEXT NOT NULL CHECK ({_WORKER_STATES}),
            pid INTEGER,
            host TEXT,
            current_job INTEGER,
            jobs_done INTEGER NOT NULL DEFAULT 0,
            error TEXT,
            started_at TEXT NOT NULL,
            heartbeat_at TEXT,
            stopped_at TEXT
        )""",
        "CREATE INDEX workers_session ON workers (session)",
        "CREATE TABLE sequences (name TEXT PRIMARY KEY, value INTEGER NOT NULL)",
        "INSERT INTO sequences (name, value) VALUES ('finished', 0)",
    ],
    # 2: identical pending jobs are found under the write lock by the enqueuing process,
    # which costs nothing when the session has no pending job; the unique index on a hash
    # of each job cost every bulk insert a third of its time.
    [
        "DROP INDEX jobs_pending_identity",
        "ALTER TABLE jobs DROP COLUMN identity",
    ],
]

LATEST = len(MIGRATIONS)
