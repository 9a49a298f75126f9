"""A throwaway PostgreSQL cluster from Debian's server binaries, for tests and benchmarks.

``initdb`` refuses to run as root, so as root the cluster belongs to the unprivileged
system user ``clxtest`` (created on first use) and every server command runs as that
user. The cluster listens on 127.0.0.1 only, on a free port, keeps its data and socket in
a temporary folder, runs with ``fsync=off`` (nothing here must survive a power cut) and
is removed by ``stop``.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

USER = "clxtest"
ROLE = "clx"
DATABASE = "postgres"


def server_bin() -> Path:
    """The newest ``/usr/lib/postgresql/<version>/bin`` (Debian's layout)."""
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if not versions:
        raise RuntimeError(
            "PostgreSQL server binaries not found under /usr/lib/postgresql: "
            "scripts/setup.sh installs Debian's postgresql package"
        )
    return versions[-1].parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ensure_user() -> None:
    try:
        pwd.getpwnam(USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", USER],
            check=True,
        )


class PostgresServer:
    """One cluster; ``url`` is a libpq URL for the superuser role ``clx`` (trust auth)."""

    def __init__(
        self,
        *,
        port: int | None = None,
        netns: str | None = None,
        listen: tuple[str, ...] = ("127.0.0.1",),
        trust: tuple[str, ...] = (),
    ) -> None:
        """``netns``: run the server in that network namespace; ``listen``: its
        addresses; ``trust``: further client networks (CIDR) allowed in."""
        self.bin = server_bin()
        self.port = port or free_port()
        self.netns = netns
        self.listen = listen
        self.trust = trust
        self.root = Path(tempfile.mkdtemp(prefix="clx-pg-"))
        self.data = self.root / "db"
        self.log = self.root / "server.log"
        self._as_root = os.geteuid() == 0
        if self._as_root:
            _ensure_user()
            os.chown(self.root, pwd.getpwnam(USER).pw_uid, -1)

    @property
    def url(self) -> str:
        return self.url_for(DATABASE)

    def url_for(self, database: str, host: str = "127.0.0.1") -> str:
        return f"postgresql://{ROLE}@{host}:{self.port}/{database}"

    def _run(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        cmd = [str(self.bin / tool), *args]
        if self._as_root:
            cmd = ["runuser", "-u", USER, "--", *cmd]
        if self.netns:
            cmd = ["ip", "netns", "exec", self.netns, *cmd]
        return subprocess.run(cmd, check=check, capture_output=True, text=True, cwd=self.root)

    def init(self) -> None:
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-A",
            "trust",
            "-U",
            ROLE,
            "-E",
            "UTF8",
            "--no-instructions",
        )
        if self.trust:
            with open(self.data / "pg_hba.conf", "a", encoding="utf-8") as hba:
                hba.writelines(f"host all all {net} trust\n" for net in self.trust)

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses={','.join(self.listen)} "
            "-c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        done = self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-w",
            "-t",
            "60",
            "-o",
            options,
            "start",
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"PostgreSQL did not start: {done.stderr}\n{self.log_tail()}")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    def restart(self) -> None:
        self.stop()
        self.start()

    def log_tail(self, lines: int = 20) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def remove(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def running_server() -> Iterator[PostgresServer]:
    server = PostgresServer()
    try:
        server.init()
        server.start()
        yield server
    finally:
        server.remove()
