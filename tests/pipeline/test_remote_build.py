"""Builds through a PostgreSQL queue: inputs and outputs travel as blobs through the server,
and the outputs are byte-identical to a SQLite build of the same course."""

from __future__ import annotations

import shutil
from pathlib import Path

import psycopg

from clx.pipeline.progress import SilentProgress
from clx.pipeline.run import BuildOptions, build
from clx.store import sha256
from clxtest import TWO_TOPICS_SPEC, notebook, write_tree

PUML = "@startuml flow\nstart\n:work;\nstop\n@enduml\n"


def make(root: Path) -> Path:
    write_tree(
        root,
        {
            "course-specs/c.xml": TWO_TOPICS_SPEC,
            "slides/m_1/topic_100_alpha/slides_alpha.py": notebook(
                "Alpha", "Alpha", "print('a')\n\n# %% [markdown]\n# ![flow](img/flow.png)"
            ),
            "slides/m_1/topic_100_alpha/pu/flow.pu": PUML,
            "slides/m_1/topic_200_beta/slides_beta.py": notebook(
                "Beta", "Beta", "from helper import value\nprint(value)"
            ),
            "slides/m_1/topic_200_beta/helper.py": "value = 41 + 1\n",
        },
    )
    return root / "course-specs" / "c.xml"


def tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != ".clx-manifest.json"
    }


def test_a_build_through_postgresql_equals_the_sqlite_build(tmp_path, postgres_url):
    local = make(tmp_path / "local")
    remote = make(tmp_path / "remote")
    opts = {"progress": SilentProgress(), "notebook_workers": 1}
    first = build(BuildOptions(spec=local, **opts))
    assert first.ok, first.render_text()
    second = build(BuildOptions(spec=remote, queue_url=postgres_url, **opts))
    assert second.ok, second.render_text()
    assert {k: dict(v) for k, v in second.jobs_by_kind.items()} == {
        k: dict(v) for k, v in first.jobs_by_kind.items()
    }
    ours, theirs = tree(tmp_path / "local/output"), tree(tmp_path / "remote/output")
    assert ours and ours == theirs
    assert any(name.endswith("flow.png") for name in theirs)
    # The bytes went through the server: the inputs up, every output back.
    with psycopg.connect(postgres_url) as conn:
        digests = {r[0] for r in conn.execute("SELECT digest FROM clx.blobs")}
    assert {sha256(b"value = 41 + 1\n"), sha256(PUML.encode())} <= digests
    assert {sha256(data) for data in ours.values() if data} & digests
    assert "42" in next(
        v.decode()
        for k, v in theirs.items()
        if k.endswith("slides_beta.html") or "Beta" in k and k.endswith(".html")
    )
    # A second build is served from the cache, also with the server queue.
    shutil.rmtree(tmp_path / "remote/output")
    again = build(BuildOptions(spec=remote, queue_url=postgres_url, **opts))
    assert again.ok and tree(tmp_path / "remote/output") == ours


def test_returned_outputs_land_only_on_the_paths_planned_for_the_job(tmp_path):
    from datetime import UTC, datetime

    from clx.blobs import FileBlobs
    from clx.pipeline.remote import land_outputs
    from clx.queue import JobRecord, JobState

    blobs = FileBlobs(tmp_path / "blobs")
    page, stray = tmp_path / "out" / "page.html", tmp_path / "elsewhere.txt"
    good, bad = blobs.put(b"<p>page</p>"), blobs.put(b"not asked for")
    # The outputs stored with the job are not trusted (anyone with rights on the database
    # could change them): only the build's own plan for the job counts.
    job = JobRecord(
        id=1, session="s", kind="notebook", state=JobState.SUCCEEDED, priority=0,
        cache_key="k", outputs=(str(page), str(stray)), attempts=1, max_attempts=3,
        worker_id="w",
        lease_token=None, lease_expires=None, not_before=None,
        result={"files": [str(page), str(stray)], "blobs": {str(page): good, str(stray): bad}},
        error=None, created_at=datetime.now(UTC), started_at=None, finished_at=None,
    )
    problems = land_outputs(job, blobs, [str(page)])
    assert page.read_bytes() == b"<p>page</p>" and not stray.exists()
    assert job.result["written"] == [str(page)]
    assert len(problems) == 1 and "not asked for" in problems[0].message
    assert job.result["landing_failed"]  # the build counts it failed and never caches it


def test_an_output_that_cannot_be_fetched_fails_the_job_instead_of_caching_old_bytes(tmp_path):
    from datetime import UTC, datetime

    from clx.blobs import FileBlobs
    from clx.pipeline.jobs import PlannedJob
    from clx.pipeline.remote import land_outputs
    from clx.pipeline.report import BuildReport
    from clx.pipeline.run import _result_of
    from clx.queue import JobRecord, JobState, NewJob

    blobs = FileBlobs(tmp_path / "blobs")
    page = tmp_path / "out" / "page.html"
    page.parent.mkdir()
    page.write_bytes(b"<p>last build</p>")
    job = JobRecord(
        id=1, session="s", kind="notebook", state=JobState.SUCCEEDED, priority=0,
        cache_key="k", outputs=(str(page),), attempts=1, max_attempts=3, worker_id="w",
        lease_token=None, lease_expires=None, not_before=None,
        result={"files": [str(page)], "blobs": {str(page): "0" * 64}},
        error=None, created_at=datetime.now(UTC), started_at=None, finished_at=None,
    )
    problems = land_outputs(job, blobs, [str(page)])
    assert len(problems) == 1 and str(page) in problems[0].message
    assert page.read_bytes() == b"<p>last build</p>"
    report = BuildReport()
    report.finished[1] = job
    planned = PlannedJob(NewJob("notebook", {}, "k"), "slides_a.py", {}, {}, job_id=1)
    r = _result_of(planned, report)
    assert r.state == "failed" and r.written == set()
