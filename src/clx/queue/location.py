"""Where a queue lives, and the one place for PostgreSQL connection settings.

A queue is named either by the path of a SQLite file (the embedded default, ``.clx/clx.db``)
or by a ``postgresql://`` URL. Everything that opens a server connection goes through
``connect_server``, and everything that prints a URL goes through ``redact``, so the
password never reaches a log, a report or a status line.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:
    import psycopg

    from clx.queue.base import Queue

SCHEMES = ("postgresql", "postgres")

#: Connection options every clx server connection gets. Keepalives make a cut network
#: link fail a connection within ~25 s instead of the kernel's two hours, so a worker
#: reconnects (and its expired leases go to other workers) in reasonable time.
CONNECT_OPTIONS: dict[str, Any] = {
    "application_name": "clx",
    "connect_timeout": 10,
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
}


def is_server_url(target: object) -> bool:
    """True for a ``postgresql://`` (or ``postgres://``) URL."""
    return isinstance(target, str) and target.split("://", 1)[0].lower() in SCHEMES


def redact(url: str) -> str:
    """The URL with its password (in the authority or a ``password=`` option) hidden."""
    if not is_server_url(url):
        return url
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        if ":" in userinfo:
            userinfo = userinfo.split(":", 1)[0] + ":***"
        netloc = f"{userinfo}@{host}"
    query = (
        "&".join(
            "password=***" if item.lower().startswith("password=") else item
            for item in parts.query.split("&")
        )
        if parts.query
        else ""
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def connect_server(url: str, *, autocommit: bool = True) -> psycopg.Connection:
    """A new connection with clx's settings: UTC session time zone, keepalives, a name
    that shows in ``pg_stat_activity``."""
    import psycopg

    options = dict(CONNECT_OPTIONS)
    conn = psycopg.connect(url, autocommit=autocommit, **options)
    conn.execute("SET TIME ZONE 'UTC'")
    if not autocommit:
        conn.commit()
    return conn


def open_queue(target: str | Path, **options: Any) -> Queue:
    """The queue at ``target``: a SQLite file path or a PostgreSQL URL."""
    if is_server_url(target):
        from clx.queue.postgres import PostgresQueue

        return PostgresQueue(str(target), **options)
    from clx.queue.sqlite import SqliteQueue

    options.pop("reconnect_timeout", None)
    return SqliteQueue(Path(target), **options)
