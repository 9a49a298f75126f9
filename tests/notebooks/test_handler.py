"""The notebook job handler end to end: payload, blob store, real kernel, outcome."""

from __future__ import annotations

import pytest

from clx.course.variants import variants_for
from clx.problems import InfrastructureError
from clx.store import BlobStore
from clx.workers.handler import JobView
from clx.workers.handlers.notebook import NotebookHandler, NotebookJobPayload

SOURCE = (
    '# j2 from "macros.j2" import header\n# {{ header("Dateien", "Files") }}\n\n'
    '# %% tags=["keep"]\nfrom tools import load\n\n'
    "# %%\nprint('rows:', load('data/rows.csv'))\n\n"
    '# j2 include "extra.py"\n'
)


def payload(tmp_path, blobs: BlobStore, lang: str = "de") -> NotebookJobPayload:
    out = tmp_path / "out"
    return NotebookJobPayload(
        source_path="slides/m/topic_100_files/slides_files.py",
        text=SOURCE,
        prog_lang="python",
        lang=lang,
        page_title="01 Dateien",
        outputs={v.label: str(out / v.label.replace("/", "_")) for v in variants_for(lang)},
        topic_files={
            "tools.py": blobs.put(b"def load(p):\n    return len(open(p).read().splitlines())\n"),
            "data/rows.csv": blobs.put(b"a\nb\nc\n"),
            "extra.py": blobs.put(b"# %%\nprint('extra-cell')\n"),
        },
        course_templates={},
        author="Ada Lovelace",
        organization="Beispiel-Akademie",
        cell_timeout=30,
    )


def test_payload_round_trip(tmp_path):
    p = payload(tmp_path, BlobStore(tmp_path / "blobs"))
    assert NotebookJobPayload.from_dict(p.to_dict()) == p


def test_handler_runs_job_end_to_end(tmp_path, executor):
    state = tmp_path / ".clx"
    blobs = BlobStore(state / "blobs")
    p = payload(tmp_path, blobs)
    handler = NotebookHandler(executor)
    handler.start()
    try:
        outcome = handler.run(JobView(id=1, kind="notebook", payload=p.to_dict(), state_dir=state))
    finally:
        handler.stop()
    assert not outcome.failed and outcome.problems == []
    assert sorted(outcome.files) == sorted(p.outputs.values())
    completed = outcome.files[p.outputs["de/completed/html"]].decode()
    assert "rows: 3" in completed and "extra-cell\n" in completed
    assert "Ada Lovelace" in completed and "<title>01 Dateien</title>" in completed
    assert outcome.info == {
        "templates_used": ["extra.py", "macros.j2"],
        "executions": 1,
        "modules": [],  # it imports nothing third-party
    }


def test_handler_reports_cell_error_as_problem(tmp_path, executor):
    state = tmp_path / ".clx"
    blobs = BlobStore(state / "blobs")
    p = payload(tmp_path, blobs, lang="en")
    data = p.to_dict()
    data["topic_files"]["data/rows.csv"] = blobs.put(b"")  # still fine
    data["text"] = SOURCE + "\n# %%\nraise RuntimeError('broken')\n"
    outcome = NotebookHandler(executor).run(
        JobView(id=2, kind="notebook", payload=data, state_dir=state)
    )
    assert outcome.failed
    [problem] = [pr for pr in outcome.problems if pr.is_error]
    assert problem.line == 13 and problem.message == "RuntimeError: broken"  # the raise line
    assert problem.variants == ("en/completed/html", "en/speaker/html")
    assert p.outputs["en/completed/html"] not in outcome.files
    assert p.outputs["en/completed/notebook"] in outcome.files


def test_missing_blob_is_infrastructure_error(tmp_path, executor):
    state = tmp_path / ".clx"
    data = payload(tmp_path, BlobStore(state / "blobs")).to_dict()
    data["topic_files"]["gone.txt"] = "0" * 64
    with pytest.raises(InfrastructureError, match="gone.txt"):
        NotebookHandler(executor).run(JobView(id=3, kind="notebook", payload=data, state_dir=state))


def test_the_job_names_the_interpreter_its_python_notebook_runs_in(
    tmp_path, executor, monkeypatch
):
    """A remote worker has no course of its own: the job says which Python to use, and it
    wins over the interpreter the worker was started for."""
    from clx.notebooks.environments import COURSE_PYTHON_VARIABLE
    from course_envs import make_course_venv

    python = make_course_venv(tmp_path / "course" / ".venv")
    monkeypatch.setenv(COURSE_PYTHON_VARIABLE, "/nowhere/bin/python")
    state = tmp_path / ".clx"
    data = payload(tmp_path, BlobStore(state / "blobs"), lang="en").to_dict()
    data["text"] = SOURCE + "\n# %%\nimport sys\nprint('clx-prefix', sys.prefix)\n"
    data["python"] = str(python)
    outcome = NotebookHandler(executor).run(
        JobView(id=3, kind="notebook", payload=data, state_dir=state)
    )
    assert not outcome.failed, outcome.problems
    page = outcome.files[data["outputs"]["en/completed/html"]].decode()
    assert f"clx-prefix {tmp_path / 'course' / '.venv'}" in page


JAVA = '// j2 from "macros.j2" import header\n// {{ header("Zahl", "Number") }}\n\n// %%\n6 * 7\n'


def test_a_worker_whose_kernel_differs_from_the_planned_one_refuses_the_job(tmp_path, executor):
    # The build keys a Java notebook by its own host's kernel; a worker elsewhere with
    # another version must not have its output cached under that key.
    from clx.notebooks.environments import kernel_identity
    from clx.problems import ConfigurationError

    state = tmp_path / ".clx"
    out = tmp_path / "out"
    job = NotebookJobPayload(
        source_path="slides/m/topic_100_n/slides_n.java",
        text=JAVA,
        prog_lang="java",
        lang="en",
        page_title="01 Number",
        outputs={"en/completed/html": str(out / "n.html")},
        topic_files={},
        course_templates={},
        author="Ada",
        organization="A",
    ).to_dict()
    handler = NotebookHandler(executor)
    mine = kernel_identity("java")
    assert isinstance(mine, str) and mine.startswith("java kernel jjava ")
    try:
        view = JobView(id=1, kind="notebook", payload={**job, "kernel": mine}, state_dir=state)
        assert "42" in handler.run(view).files[str(out / "n.html")].decode()
        other = {**job, "kernel": "java kernel jjava 0.9 on openjdk 11.0.2"}
        with pytest.raises(ConfigurationError) as refused:
            handler.run(JobView(id=2, kind="notebook", payload=other, state_dir=state))
    finally:
        handler.stop()
    message = str(refused.value)
    assert "slides_n.java" in message and "jjava 0.9 on openjdk 11.0.2" in message
    assert mine in message
