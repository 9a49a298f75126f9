"""Versioned schema of the PostgreSQL queue, in its own schema ``clx``.

``apply`` runs the missing steps, once each and in order, under a transaction-level
advisory lock, so processes that start together never race. Append new steps; never edit
an applied one. A role that owns only the ``clx`` schema (docs: "Running on several
machines") is enough to run every step.
"""

from __future__ import annotations

import psycopg

SCHEMA = "clx"

# Any constant works; it only has to be the same in every clx process.
_MIGRATION_LOCK = 0x636C78  # "clx"

_STATES = "('pending', 'running', 'succeeded', 'failed', 'cancelled')"
_WORKER_STATES = "('starting', 'ready', 'busy', 'stopped', 'dead', 'config-error')"

MIGRATIONS: list[list[str]] = [
    # 1: sessions, jobs, workers. JSON values are stored as text written by orjson, like
    # the SQLite engine does: identical jobs compare their outputs as stored.
    [
        # ``finished`` numbers the session's finished jobs. Finishing takes the session row
        # lock to draw numbers, so they commit in the order they were drawn and a waiting
        # build that reads "finished after my cursor" never skips one.
        """CREATE TABLE clx.sessions (
            key bigserial PRIMARY KEY,
            id text NOT NULL UNIQUE,
            state text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'closed')),
            info text,
            finished bigint NOT NULL DEFAULT 0,
            created_at timestamptz NOT NULL DEFAULT statement_timestamp(),
            closed_at timestamptz
        )""",
        f"""CREATE TABLE clx.jobs (
            id bigserial PRIMARY KEY,
            session_key bigint NOT NULL REFERENCES clx.sessions(key) ON DELETE CASCADE,
            kind text NOT NULL,
            priority integer NOT NULL DEFAULT 0,
            payload text NOT NULL,
            cache_key text NOT NULL,
            outputs text NOT NULL DEFAULT '[]',
            state text NOT NULL DEFAULT 'pending' CHECK (state IN {_STATES}),
            attempts integer NOT NULL DEFAULT 0,
            max_attempts integer NOT NULL DEFAULT 3 CHECK (max_attempts >= 1),
            lease_token text,
            lease_expires timestamptz,
            worker_id text,
            not_before timestamptz,
            result text,
            error text,
            finished_seq bigint,
            created_at timestamptz NOT NULL DEFAULT statement_timestamp(),
            started_at timestamptz,
            finished_at timestamptz,
            CHECK ((state IN ('pending', 'running')) = (finished_seq IS NULL))
        )""",
        """CREATE INDEX jobs_claim ON clx.jobs (session_key, kind, priority DESC, id)
            WHERE state = 'pending'""",
        "CREATE INDEX jobs_lease ON clx.jobs (lease_expires) WHERE state = 'running'",
        "CREATE INDEX jobs_token ON clx.jobs (lease_token) WHERE state = 'running'",
        "CREATE INDEX jobs_worker ON clx.jobs (worker_id) WHERE state = 'running'",
        # Status queries (counts, jobs) read a whole session; COPY pays little for it.
        "CREATE INDEX jobs_session ON clx.jobs (session_key)",
        """CREATE INDEX jobs_finished ON clx.jobs (session_key, finished_seq)
            WHERE finished_seq IS NOT NULL""",
        f"""CREATE TABLE clx.workers (
            id text PRIMARY KEY,
            position bigserial,
            session text NOT NULL REFERENCES clx.sessions(id) ON DELETE CASCADE,
            kinds text NOT NULL,
            state text NOT NULL CHECK (state IN {_WORKER_STATES}),
            pid integer,
            host text,
            current_job bigint,
            jobs_done integer NOT NULL DEFAULT 0,
            error text,
            started_at timestamptz NOT NULL,
            heartbeat_at timestamptz,
            stopped_at timestamptz
        )""",
        "CREATE INDEX workers_session ON clx.workers (session)",
        # Content-addressed blobs: the inputs and outputs of jobs run on other hosts.
        """CREATE TABLE clx.blobs (
            digest text PRIMARY KEY,
            data bytea NOT NULL,
            size bigint NOT NULL,
            used_at timestamptz NOT NULL DEFAULT statement_timestamp()
        )""",
    ],
    # 2: the foreign key from jobs to sessions checked every row of a bulk COPY (a fifth
    # of an enqueue), and the plain session index cost another tenth. The queue deletes a
    # session's jobs itself, and per-session queries go through the index that holds each
    # state: jobs_claim (pending), jobs_running, jobs_finished.
    [
        "ALTER TABLE clx.jobs DROP CONSTRAINT jobs_session_key_fkey",
        "DROP INDEX clx.jobs_session",
        "CREATE INDEX jobs_running ON clx.jobs (session_key) WHERE state = 'running'",
    ],
]

LATEST = len(MIGRATIONS)


def current_version(conn: psycopg.Connection) -> int:
    row = conn.execute("SELECT to_regclass('clx.schema_version') IS NOT NULL").fetchone()
    if not row or not row[0]:
        return 0
    return conn.execute("SELECT coalesce(max(version), 0) FROM clx.schema_version").fetchone()[0]


def apply(conn: psycopg.Connection) -> int:
    """Bring the schema to ``LATEST``; returns the version found before."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
        # A role that owns the schema but may not create schemas gets past this.
        if conn.execute("SELECT to_regnamespace(%s)", (SCHEMA,)).fetchone()[0] is None:
            conn.execute(f"CREATE SCHEMA {SCHEMA}")
        conn.execute(
            "CREATE TABLE IF NOT EXISTS clx.schema_version ("
            "version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        found = current_version(conn)
        for version in range(found + 1, LATEST + 1):
            for statement in MIGRATIONS[version - 1]:
                conn.execute(statement)
            conn.execute("INSERT INTO clx.schema_version (version) VALUES (%s)", (version,))
    return found
