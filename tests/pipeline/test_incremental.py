"""Incremental builds: exact rebuilds, verified restores, remembered failures, git-friendly."""

from __future__ import annotations

from pathlib import Path

from clx.pipeline.progress import SilentProgress
from clx.pipeline.run import BuildOptions, build
from clxtest import TWO_TOPICS_SPEC, notebook, write_tree

SPEC = TWO_TOPICS_SPEC
nb = notebook


def make(root: Path) -> Path:
    write_tree(root, {
        "course-specs/c.xml": SPEC,
        "slides/m_1/topic_100_alpha/slides_alpha.py": nb("Alpha", "Alpha", "print('a')"),
        "slides/m_1/topic_100_alpha/notes.txt": "data",
        "slides/m_1/topic_200_beta/slides_beta.py": nb(
            "Beta", "Beta", "from helper import value\nprint(value)"),
        "slides/m_1/topic_200_beta/helper.py": "value = 1\n",
    })
    return root / "course-specs" / "c.xml"


def run(spec: Path, **kw) -> dict[str, dict[str, int]]:
    report = build(BuildOptions(spec=spec, progress=SilentProgress(), **kw))
    assert report.ok or kw.get("expect_fail"), report.render_text()
    return {k: dict(v) for k, v in report.jobs_by_kind.items()}


def html(root: Path, name: str) -> str:
    return (root / "output/public/En/Course/Slides/Html/Completed/Part" / name).read_text()


def test_rebuilds_exactly_what_changed(tmp_path: Path) -> None:
    root = tmp_path / "course"
    spec = make(root)
    assert run(spec) == {"notebook": {"succeeded": 4}}
    assert run(spec) == {"notebook": {"cached": 4}}  # no-op: nothing runs

    # touching one notebook rebuilds only its two jobs (de, en)
    p = root / "slides/m_1/topic_100_alpha/slides_alpha.py"
    p.write_text(nb("Alpha", "Alpha", "print('a2')"))
    assert run(spec) == {"notebook": {"cached": 2, "succeeded": 2}}
    assert "a2" in html(root, "01 Alpha.html")

    # a helper module of a topic is an input of that topic's notebooks
    (root / "slides/m_1/topic_200_beta/helper.py").write_text("value = 4242\n")
    assert run(spec) == {"notebook": {"cached": 2, "succeeded": 2}}
    assert "4242" in html(root, "02 Beta.html")

    # a course template is an input of every notebook
    write_tree(root, {"templates/macros.j2": (
        "{% macro header(de, en) %}%% [markdown] lang=\"de\" tags=[\"slide\"]\n# LOCAL {{ de }}\n"
        "\n# %% [markdown] lang=\"en\" tags=[\"slide\"]\n# LOCAL {{ en }}\n{% endmacro %}\n")})
    assert run(spec) == {"notebook": {"succeeded": 4}}
    assert "LOCAL" in html(root, "01 Alpha.html")

    # deleting the output folder restores everything without running a job
    out = root / "output"
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    import shutil

    shutil.rmtree(out / "public")
    (out / "public/En/Course/.git").mkdir(parents=True)
    (out / "public/En/Course/.git/HEAD").write_text("ref: refs/heads/main\n")
    (out / "public/En/Course/mine.txt").write_text("the author's own file\n")
    assert run(spec) == {"notebook": {"cached": 4}}
    after = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    for p, data in before.items():
        assert after.get(p) == data, p
    assert (out / "public/En/Course/.git/HEAD").is_file()
    assert (out / "public/En/Course/mine.txt").is_file()

    # a file removed from the source disappears from the output; so do a notebook's outputs
    (root / "slides/m_1/topic_100_alpha/notes.txt").unlink()
    (root / "slides/m_1/topic_200_beta/slides_beta.py").unlink()
    run(spec)
    assert not list(out.rglob("notes.txt"))
    assert not list(out.rglob("02 Beta.*"))
    assert list(out.rglob("01 Alpha.html"))
    assert (out / "public/En/Course/.git/HEAD").is_file()


def test_unchanged_failing_notebook_is_not_executed_again(tmp_path: Path) -> None:
    root = tmp_path / "course"
    spec = make(root)
    (root / "slides/m_1/topic_200_beta/slides_beta.py").write_text(
        nb("Beta", "Beta", "x = 1\nraise ValueError('boom')"))
    first = build(BuildOptions(spec=spec, progress=SilentProgress()))
    assert not first.ok
    assert first.jobs_by_kind["notebook"]["failed"] == 2
    again = build(BuildOptions(spec=spec, progress=SilentProgress()))
    assert not again.ok
    assert dict(again.jobs_by_kind["notebook"]) == {"cached": 2, "cached-failed": 2}
    errors = [e for e in again.errors if "boom" in e.message]
    assert errors and all("cached" in e.message for e in errors)
    assert all(e.file == "slides/m_1/topic_200_beta/slides_beta.py" and e.line == 6
               for e in errors)
    # the variants that worked are restored, the failed ones stay absent
    assert list((root / "output").rglob("02 Beta.ipynb"))
    assert not list((root / "output").rglob("02 Beta.html")) or all(
        "Code-Along" in str(p) for p in (root / "output").rglob("02 Beta.html"))
    retried = build(BuildOptions(spec=spec, progress=SilentProgress(), retry_failed=True))
    assert dict(retried.jobs_by_kind["notebook"]) == {"cached": 2, "failed": 2}
    fixed = root / "slides/m_1/topic_200_beta/slides_beta.py"
    fixed.write_text(nb("Beta", "Beta", "x = 1"))
    assert build(BuildOptions(spec=spec, progress=SilentProgress())).ok
