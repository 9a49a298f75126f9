"""A course whose own templates/macros.j2 was written for earlier predecessor versions:
its header uses `name` and `source_name`, and the course builds without errors."""

from __future__ import annotations

from pathlib import Path

from clx.pipeline.progress import SilentProgress
from clx.pipeline.run import BuildOptions, build
from clxtest import TWO_TOPICS_SPEC, notebook, write_tree

EARLIER_MACROS = """{% macro header(title_de, title_en) -%}
%% [markdown] lang="de" tags=["slide"]
# <!-- {{ source_name }} -->
# <div style="text-align:center; font-size:200%;"><b>{{ title_de }}</b></div>
# <div style="text-align:center;">{{ name }}</div>

# %% [markdown] lang="en" tags=["slide"]
# <!-- {{ source_name }} -->
# <div style="text-align:center; font-size:200%;"><b>{{ title_en }}</b></div>
# <div style="text-align:center;">{{ name }}</div>
{%- endmacro %}
"""


def test_earlier_course_macros_build_without_errors(tmp_path: Path) -> None:
    alpha = "slides/m_1/topic_100_alpha/slides_alpha.py"
    root = write_tree(
        tmp_path / "course",
        {
            "course-specs/c.xml": TWO_TOPICS_SPEC,
            "templates/macros.j2": EARLIER_MACROS,
            alpha: notebook("Anfang", "Start", "print('a')"),
            "slides/m_1/topic_200_beta/slides_beta.py": notebook("Zweites", "Second", "print(2)"),
        },
    )
    report = build(BuildOptions(spec=root / "course-specs/c.xml", progress=SilentProgress()))
    assert report.ok and not report.errors, report.render_text()
    assert report.jobs_by_kind["notebook"] == {"succeeded": 4}
    out = root / "output/public"
    de = (out / "De/Kurs/Folien/Notebooks/Completed/Teil/01 Anfang.ipynb").read_text()
    en = (out / "En/Course/Slides/Notebooks/Completed/Part/01 Start.ipynb").read_text()
    assert f"<!-- {alpha} -->" in de and f"<!-- {alpha} -->" in en
    assert ">01 Anfang<" in de and ">01 Start<" in en
