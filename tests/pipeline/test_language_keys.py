"""Cache keys per (notebook, language): an edit only one language sees re-runs one job."""

from __future__ import annotations

from pathlib import Path

from clx.pipeline.explain import explain
from clx.pipeline.progress import SilentProgress
from clx.pipeline.run import BuildOptions, build
from clxtest import TWO_TOPICS_SPEC, notebook, write_tree

ALPHA = "slides/m_1/topic_100_alpha/slides_alpha.py"
BILINGUAL = """# j2 from 'macros.j2' import header
# {{ header("Alpha", "Alpha") }}

# %% [markdown] lang="de"
# Deutscher Text.

# %% [markdown] lang="en"
# English text.

# %%
print("shared")

# %% [markdown] lang="de" tags=["privat"]
# Nur deutsch, mit unbekanntem Tag.
"""


def run(spec: Path) -> tuple[dict[str, int], list]:
    report = build(BuildOptions(spec=spec, progress=SilentProgress()))
    assert not report.errors, report.render_text()
    return dict(report.jobs_by_kind["notebook"]), report.warning_entries()


def en_html(root: Path) -> Path:
    return root / "output/public/En/Course/Slides/Html/Completed/Part/01 Alpha.html"


def de_html(root: Path) -> Path:
    return root / "output/public/De/Kurs/Folien/Html/Completed/Teil/01 Alpha.html"


def test_english_only_edit_reruns_one_job(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path / "course",
        {
            "course-specs/c.xml": TWO_TOPICS_SPEC,
            ALPHA: BILINGUAL,
            "slides/m_1/topic_200_beta/slides_beta.py": notebook("Beta", "Beta", "print('b')"),
        },
    )
    spec = root / "course-specs/c.xml"
    states, warnings = run(spec)
    assert states == {"succeeded": 4}
    [w] = warnings
    assert w.line == 13

    # an English-only edit: the German job is a hit; explain names what changed
    (root / ALPHA).write_text(BILINGUAL.replace("English text.", "Better English text."))
    opts = BuildOptions(spec=spec, progress=SilentProgress())
    rebuild, lines = explain(opts, en_html(root))
    assert rebuild and "  source changed" in lines, lines
    rebuild, lines = explain(opts, de_html(root))
    assert not rebuild, lines
    states, warnings = run(spec)
    assert states == {"cached": 3, "succeeded": 1}
    assert "Better English text." in en_html(root).read_text()
    assert [w.line for w in warnings] == [13]

    # an English edit that moves the German warning's line: the German job's remembered
    # warning would name the wrong line, so it runs again
    (root / ALPHA).write_text(BILINGUAL.replace("English text.", "English\n# text."))
    states, warnings = run(spec)
    assert states == {"cached": 2, "succeeded": 2}
    assert [w.line for w in warnings] == [14]

    # a shared cell: both languages run
    (root / ALPHA).write_text(BILINGUAL.replace('print("shared")', 'print("both")'))
    states, _ = run(spec)
    assert states == {"cached": 2, "succeeded": 2}
