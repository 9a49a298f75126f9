"""Two hosts on one machine: a worker pool in a network namespace of its own, linked to the
database's namespace by a veth pair, in a mount namespace where the course folder and its
``.clx`` are hidden under an empty tmpfs. It must build the demo course byte for byte like
a SQLite build; and when its link is cut mid-job, the lease expires, another worker runs
the job, and the cut-off worker's late completion is rejected.

Traffic goes only between the two namespaces this test makes (and their loopbacks).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from clx.pipeline.progress import SilentProgress
from clx.pipeline.run import BuildOptions, build
from clx.processes import kill_tree, popen
from pgserver import PostgresServer

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo-course"


def sh(*cmd: str) -> None:
    subprocess.run(cmd, check=True, capture_output=True)


class Hosts:
    """Namespaces ``db`` (server and build) and ``w`` (workers), 10.231.N.1 and .2."""

    def __init__(self) -> None:
        tag = secrets.token_hex(3)
        self.db, self.w = f"clxdb{tag}", f"clxw{tag}"
        self.veth_db, self.veth_w = f"vd{tag}", f"vw{tag}"
        n = int(tag[:2], 16)
        self.db_ip, self.w_ip, self.net = f"10.231.{n}.1", f"10.231.{n}.2", f"10.231.{n}.0/24"

    def up(self) -> None:
        for ns in (self.db, self.w):
            sh("ip", "netns", "add", ns)
            sh("ip", "-n", ns, "link", "set", "lo", "up")
        sh(
            "ip",
            "link",
            "add",
            self.veth_db,
            "netns",
            self.db,
            "type",
            "veth",
            "peer",
            "name",
            self.veth_w,
            "netns",
            self.w,
        )
        sh("ip", "-n", self.db, "addr", "add", f"{self.db_ip}/24", "dev", self.veth_db)
        sh("ip", "-n", self.w, "addr", "add", f"{self.w_ip}/24", "dev", self.veth_w)
        sh("ip", "-n", self.db, "link", "set", self.veth_db, "up")
        self.link(True)

    def link(self, up: bool) -> None:
        sh("ip", "-n", self.w, "link", "set", self.veth_w, "up" if up else "down")

    def down(self) -> None:
        for ns in (self.db, self.w):
            subprocess.run(["ip", "netns", "delete", ns], capture_output=True)


@pytest.fixture(scope="module")
def hosts() -> Iterator[tuple[Hosts, PostgresServer]]:
    h = Hosts()
    h.up()
    server = PostgresServer(netns=h.db, listen=("127.0.0.1", h.db_ip), trust=(h.net,))
    try:
        server.init()
        server.start()
        yield h, server
    finally:
        server.remove()
        h.down()


def in_db_host(h: Hosts, code: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["ip", "netns", "exec", h.db, sys.executable, "-c", textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        timeout=600,
    )


def query(h: Hosts, url: str, code: str) -> object:
    """Run ``code`` (which sets ``out``) with ``q``, a PostgresQueue, on the db host."""
    r = in_db_host(
        h,
        "import json, sys\nfrom clx.queue.postgres import PostgresQueue\n"
        "q = PostgresQueue(sys.argv[1])\n" + textwrap.dedent(code) + "\nprint(json.dumps(out))",
        url,
    )
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


def worker_host(h: Hosts, hidden: Path, *cmd: str, env: dict[str, str], log: Path):
    """Start ``cmd`` on the worker host, with ``hidden`` covered by an empty tmpfs."""
    script = f'mount -t tmpfs clx-hidden {hidden} && exec "$@"'
    with open(log, "wb") as out:
        return popen(
            [
                "ip",
                "netns",
                "exec",
                h.w,
                "unshare",
                "--mount",
                "--propagation",
                "private",
                "sh",
                "-c",
                script,
                "sh",
                *cmd,
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )


def tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != ".clx-manifest.json"
    }


def test_a_worker_host_that_sees_only_the_database_builds_the_demo_course(hosts, tmp_path):
    h, server = hosts
    reference = tmp_path / "reference"
    shutil.copytree(DEMO, reference, ignore=shutil.ignore_patterns(".clx", "output"))
    first = build(
        BuildOptions(
            spec=reference / "course-specs/demo.xml",
            output_root=tmp_path / "reference-out",
            progress=SilentProgress(),
        )
    )
    assert first.ok, first.render_text()

    build_host = tmp_path / "build-host"  # course, .clx and outputs: hidden from the workers
    course = build_host / "demo-course"
    shutil.copytree(DEMO, course, ignore=shutil.ignore_patterns(".clx", "output"))
    (tmp_path / "worker-host").mkdir()
    env = dict(os.environ, CLX_QUEUE_URL=server.url_for("postgres", h.db_ip))
    pool = worker_host(
        h,
        build_host,
        sys.executable,
        "-m",
        "clx.cli.main",
        "worker",
        "--count",
        "2",
        "--work-dir",
        str(tmp_path / "worker-host"),
        env=env,
        log=tmp_path / "pool.log",
    )
    try:
        r = in_db_host(
            h,
            """
            import sys
            from clx.cli.main import main
            sys.exit(main(["build", sys.argv[1], "--queue", sys.argv[2], "--local-workers", "0",
                           "--output-dir", sys.argv[3]]))
            """,
            str(course / "course-specs/demo.xml"),
            server.url,
            str(build_host / "out"),
        )
        assert r.returncode == 0, r.stderr[-4000:] + (tmp_path / "pool.log").read_text()[-4000:]
    finally:
        kill_tree(pool.pid)
        pool.wait(timeout=30)
    assert tree(build_host / "out") == tree(tmp_path / "reference-out")
    hosts_seen = query(
        h,
        server.url,
        """
        out = sorted({w.host for w in q.workers() if w.session.startswith("workers-")})
        """,
    )
    assert hosts_seen
    # What the workers saw of the build host's folder: nothing.
    peek = worker_host(
        h, build_host, "ls", "-A", str(build_host), env=env, log=tmp_path / "peek.log"
    )
    assert peek.wait(timeout=30) == 0 and (tmp_path / "peek.log").read_text() == ""
    assert (build_host / "demo-course" / ".clx").is_dir()  # while the build host has it all


def test_a_cut_link_expires_the_lease_and_the_late_completion_is_rejected(hosts, tmp_path):
    h, server = hosts
    url = server.url
    job_id = query(
        h,
        url,
        """
        q.open_session("cut")
        q.open_session("pool-w", info={"worker_pool": True})
        q.open_session("pool-db", info={"worker_pool": True})
        from clx.queue import NewJob
        out = q.enqueue("cut", NewJob("sleep", {"seconds": 8}, "k", outputs=[]))
        """,
    )
    env = dict(os.environ, CLX_QUEUE_URL=server.url_for("postgres", h.db_ip))
    args = [
        "--kinds",
        "sleep",
        "--serve-all",
        "--lease",
        "2",
        "--batch",
        "1",
        "--state-dir",
        str(tmp_path),
    ]
    (tmp_path / "nothing").mkdir()
    cut_off = worker_host(
        h,
        tmp_path / "nothing",
        sys.executable,
        "-m",
        "clx.workers",
        "--session",
        "pool-w",
        "--worker-id",
        "w-cut",
        *args,
        env=env,
        log=tmp_path / "cut.log",
    )
    other = None
    try:
        deadline = time.monotonic() + 60
        while query(h, url, f"out = str(q.get({job_id}).state)") != "running":
            assert time.monotonic() < deadline and cut_off.poll() is None, (
                tmp_path / "cut.log"
            ).read_text()
            time.sleep(0.2)
        h.link(False)  # the worker host drops off the network mid-job
        other = subprocess.Popen(
            [
                "ip",
                "netns",
                "exec",
                h.db,
                sys.executable,
                "-m",
                "clx.workers",
                "--session",
                "pool-db",
                "--worker-id",
                "w-db",
                *args,
            ],
            env=dict(os.environ, CLX_QUEUE_URL=url),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        while query(h, url, f"out = str(q.get({job_id}).state)") != "succeeded":
            assert time.monotonic() < deadline + 60
            time.sleep(0.5)
        rec = query(h, url, f"j = q.get({job_id}); out = [j.worker_id, j.attempts]")
        assert rec == ["w-db", 2]
        h.link(True)  # back: the cut-off worker finishes its attempt and reports it
        deadline = time.monotonic() + 90
        while "rejected" not in (tmp_path / "cut.log").read_text():
            assert time.monotonic() < deadline, (tmp_path / "cut.log").read_text()
            time.sleep(0.5)
        assert query(h, url, f"j = q.get({job_id}); out = [j.worker_id, str(j.state)]") == [
            "w-db",
            "succeeded",
        ]
    finally:
        h.link(True)
        for p in (cut_off, other):
            if p is not None:
                kill_tree(p.pid)
                p.wait(timeout=30)
