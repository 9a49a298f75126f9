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
