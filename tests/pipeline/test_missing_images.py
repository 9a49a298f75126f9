"""An image the Markdown points to that does not exist is a warning with file and line."""

from __future__ import annotations

from pathlib import Path

from clx.course.course import load_course
from clx.pipeline.run import BuildOptions, plan_jobs
from clxtest import TWO_TOPICS_SPEC, write_tree

NB = """\
# j2 from 'macros.j2' import header
# {{ header("Bilder", "Pictures") }}

# %% [markdown]
# <img src="img/missing.png" alt="gone"> and <IMG SRC='img/there.png'>
#
# ![rendered](img/flow.png) ![web](https://example.org/x.png) ![inline](data:image/png;base64,AA)
# ![typo](img/Flow.png "title") <img src="{{ url }}">

# %%
s = "<img src='img/in-code-is-not-markdown.png'>"
"""


def test_missing_images_warn_with_file_and_line(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path / "course",
        {
            "course-specs/c.xml": TWO_TOPICS_SPEC,
            "slides/m/topic_100_alpha/slides_alpha.py": NB,
            "slides/m/topic_100_alpha/img/there.png": b"\x89PNG",
            "slides/m/topic_100_alpha/pu/flow.pu": "@startuml\nA -> B\n@enduml\n",
        "slides/m/topic_200_beta/slides_beta.py": NB.replace("Bilder", "Beta").split("# %%")[0],
        },
    )
    spec = root / "course-specs/c.xml"
    plan, _jobs = plan_jobs(load_course(spec), BuildOptions(spec=spec))
    found = sorted(w.format() for w in plan.warnings if "image not found" in w.message)
    rel = "slides/m/topic_100_alpha/slides_alpha.py"
    assert found == [
        f"warning: {rel}:5: image not found: img/missing.png",
        f"warning: {rel}:8: image not found: img/Flow.png",
    ], [w.format() for w in plan.warnings]
