"""`clx worker` on a PostgreSQL queue serving a `clx build --local-workers 0`: the build's
jobs run in another process tree that shares no folder with the build, and the URL's
password shows up nowhere (trust authentication accepts any password, so the test's URL
carries one)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil

from clx.pipeline.progress import SilentProgress
from clx.pipeline.run import BuildOptions, build
from clx.processes import kill_tree, popen
from clx.queue import JobState, NewJob
from clx.queue.postgres import PostgresQueue
from clxtest import TWO_TOPICS_SPEC, notebook, write_tree

SECRET = "s3cret-pw"


def with_password(url: str) -> str:
    return url.replace("postgresql://clx@", f"postgresql://clx:{SECRET}@")


def clx(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "clx.cli.main", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def test_remote_workers_serve_a_build_and_the_password_stays_hidden(tmp_path, postgres_url):
    url = with_password(postgres_url)
    write_tree(
        tmp_path / "course",
        {
            "course-specs/c.xml": TWO_TOPICS_SPEC,
            "slides/m_1/topic_100_alpha/slides_alpha.py": notebook("A", "A", "print('a')"),
            "slides/m_1/topic_200_beta/slides_beta.py": notebook(
                "B", "B", "from helper import v\nprint(v)"
            ),
            "slides/m_1/topic_200_beta/helper.py": "v = 7\n",
        },
    )
    spec = tmp_path / "course/course-specs/c.xml"
    elsewhere = tmp_path / "worker-host"  # the worker's own folder: no course, no .clx
    env = dict(os.environ, CLX_QUEUE_URL=url)
    worker = popen(
        [
            sys.executable,
            "-m",
            "clx.cli.main",
            "worker",
            "--kinds",
            "notebook",
            "--count",
            "1",
            "--work-dir",
            str(elsewhere),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=tmp_path,
    )
    try:
        report = build(
            BuildOptions(spec=spec, queue_url=url, local_workers=0, progress=SilentProgress())
        )
        assert report.ok, report.render_text()
        assert dict(report.jobs_by_kind["notebook"]) == {"succeeded": 4}
        html = list((tmp_path / "course/output").rglob("*.html"))
        assert html and any("7" in p.read_text() for p in html)
        # The workers that ran the jobs belong to the `clx worker` pool, not to the build.
        q = PostgresQueue(url)
        build_session = next(s for s in q.sessions() if not s.info.get("worker_pool"))
        ran = {j.worker_id for j in q.jobs(build_session.id)}
        pool_workers = {w.id: w for w in q.workers() if w.session.startswith("workers-")}
        assert ran and ran <= set(pool_workers)
        assert all(pool_workers[w].host for w in ran)
        assert not (tmp_path / "course/.clx/logs").exists()  # no local worker ran
        # Status commands against the URL alone show each worker's host.
        listed = clx("workers", "list", "--queue", url, "--output", "json", env=env)
        assert listed.returncode == 0, listed.stderr
        doc = json.loads(listed.stdout)
        hosts = {w["host"] for w in doc["workers"]}
        assert hosts and None not in hosts
        status = clx("status", "--queue", url, env=env)
        assert status.returncode == 0, status.stderr
        pool_session = next(s for s in q.sessions() if s.info.get("worker_pool"))
        assert f"build {build_session.id[:8]}" in status.stdout, status.stdout
        assert pool_session.id[:8] not in status.stdout  # a worker pool is not a build
        for text in (listed.stdout, listed.stderr, status.stdout, status.stderr):
            assert SECRET not in text
        # Nor is it on any worker's command line.
        for child in psutil.Process(worker.pid).children(recursive=True):
            assert SECRET not in " ".join(child.cmdline())
        q.close()
    finally:
        worker.send_signal(signal.SIGTERM)
        out = worker.communicate(timeout=30)[0].decode(errors="replace")
    assert worker.returncode == 0, out
    assert SECRET not in out
    for log in elsewhere.rglob("*.log"):
        assert SECRET not in log.read_text(errors="replace")


def test_serve_all_workers_take_turns_between_builds(tmp_path, postgres_url):
    """A busy build must not starve another: a worker serving every session alternates."""
    q = PostgresQueue(postgres_url)
    busy, small = q.open_session("busy"), q.open_session("small")
    q.enqueue_many(busy, [NewJob("sleep", {"seconds": 0.02}, f"b{i}") for i in range(60)])
    q.enqueue_many(small, [NewJob("sleep", {"seconds": 0.02}, f"s{i}") for i in range(5)])
    own = q.open_session("pool", info={"worker_pool": True})
    env = dict(os.environ, CLX_QUEUE_URL=postgres_url)
    worker = popen(
        [
            sys.executable,
            "-m",
            "clx.workers",
            "--session",
            own,
            "--kinds",
            "sleep",
            "--serve-all",
            "--state-dir",
            str(tmp_path),
            "--batch",
            "1",
        ],
        env=env,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if q.counts(small).get("sleep", {}).get(JobState.SUCCEEDED) == 5:
                break
            time.sleep(0.05)
        done_busy = q.counts(busy)["sleep"][JobState.SUCCEEDED]
        assert q.counts(small)["sleep"][JobState.SUCCEEDED] == 5
        assert done_busy <= 10, f"the small build waited for {done_busy} jobs of the busy one"
    finally:
        q.close_session(own)
        try:
            worker.wait(timeout=10)
        finally:
            kill_tree(worker.pid)
        q.close()
    assert Path(tmp_path).exists()
