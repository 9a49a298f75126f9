"""The preload list round-trips through real builds (clx.pipeline.preload).

The first build records what each notebook imported in .clx/preload.json; the second
hands it to its workers, whose fork server imports it before the kernels fork. The
list is no cache ingredient: its change re-runs nothing, and `clx cache clear` drops it.
"""

from __future__ import annotations

import html
import json
import subprocess
import sys
from pathlib import Path

from clx.pipeline.progress import SilentProgress
from clx.pipeline.run import BuildOptions, build
from clxtest import TWO_TOPICS_SPEC, notebook, write_tree

ALPHA = "slides/m_1/topic_100_alpha/slides_alpha.py"
# What the kernel holds before the notebook imports anything itself.
AT_START = (
    "import sys\nprint('AT-START', [m for m in ('markdown_it', 'yaml', 'jinja2')"
    " if m in sys.modules], '{}')\nimport markdown_it\nprint(markdown_it.__name__)"
)


def make(root: Path) -> Path:
    write_tree(
        root,
        {
            "course-specs/c.xml": TWO_TOPICS_SPEC,
            ALPHA: notebook("Alpha", "Alpha", AT_START.format(1)),
            "slides/m_1/topic_200_beta/slides_beta.py": notebook(
                "Beta", "Beta", "import yaml\nprint(yaml.safe_dump([1]))"
            ),
            "slides/m_1/topic_200_beta/helper.py": "value = 1\n",
        },
    )
    return root / "course-specs" / "c.xml"


def run(spec: Path) -> dict[str, dict[str, int]]:
    report = build(BuildOptions(spec=spec, progress=SilentProgress(), notebook_workers=1))
    assert report.ok, report.render_text()
    return {k: dict(v) for k, v in report.jobs_by_kind.items()}


def at_start(root: Path) -> str:
    page = root / "output/public/En/Course/Slides/Html/Completed/Part/01 Alpha.html"
    text = page.read_text()
    return html.unescape(text[text.rindex("AT-START") :].split("\n", 1)[0])  # the output


def test_the_second_build_preloads_what_the_first_recorded(tmp_path: Path) -> None:
    root = tmp_path / "course"
    spec = make(root)
    assert run(spec) == {"notebook": {"succeeded": 4}}
    assert "AT-START [] 1" in at_start(root)
    record = json.loads((root / ".clx/preload.json").read_text())
    mods = record["notebooks"]
    assert set(mods) == {ALPHA, "slides/m_1/topic_200_beta/slides_beta.py"}
    assert "markdown_it" in mods[ALPHA] and "yaml" not in mods[ALPHA]
    assert "yaml" in mods["slides/m_1/topic_200_beta/slides_beta.py"]
    assert not any(
        m.startswith(("IPython", "ipykernel", "helper")) for v in mods.values() for m in v
    )

    # The list changed (from nothing), yet an unchanged course runs no job.
    assert run(spec) == {"notebook": {"cached": 4}}

    # A changed notebook runs in a kernel that starts with the course's modules.
    (root / ALPHA).write_text(notebook("Alpha", "Alpha", AT_START.format(2)))
    assert run(spec) == {"notebook": {"cached": 2, "succeeded": 2}}
    assert "AT-START ['markdown_it', 'yaml'] 2" in at_start(root)
    again = json.loads((root / ".clx/preload.json").read_text())["notebooks"]
    # Alpha still uses markdown_it; yaml came only with the preload, and mdurl with
    # markdown_it, which brings it again.
    assert "markdown_it" in again[ALPHA] and "yaml" not in again[ALPHA]
    assert set(again[ALPHA]) == set(mods[ALPHA]) - {"mdurl"}

    # A notebook that is gone from the course leaves the list with the next full build.
    spec.write_text(TWO_TOPICS_SPEC.replace("<topic>beta</topic>", ""))
    run(spec)
    assert set(json.loads((root / ".clx/preload.json").read_text())["notebooks"]) == {ALPHA}

    r = subprocess.run(
        [sys.executable, "-m", "clx.cli.main", "cache", "clear", str(spec)],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert r.returncode == 0, r.stderr
    assert not (root / ".clx/preload.json").exists()


def test_the_course_list_is_bounded_sorted_and_survives_a_damaged_file(
    tmp_path: Path, monkeypatch
) -> None:
    from clx.pipeline import preload

    (tmp_path / "preload.json").write_text("{not json")
    record = preload.CoursePreload(tmp_path)  # unreadable: an empty record, no error
    assert record.modules() == []
    monkeypatch.setattr(preload, "MAX_MODULES", 3)
    record.notebooks = {
        "b.py": ["zeta", "alpha.sub", "common"],
        "a.py": ["common", "beta", "alpha.sub"],
        "c.py": ["gamma"],
    }
    # Most used first (common, alpha.sub: two notebooks), then top-level before submodule.
    assert record.modules() == ["alpha.sub", "beta", "common"]
    record.save()
    first = (tmp_path / "preload.json").read_bytes()
    record.notebooks = dict(reversed(list(record.notebooks.items())))
    record.save()
    assert (tmp_path / "preload.json").read_bytes() == first  # deterministic
    assert preload.CoursePreload(tmp_path).notebooks == record.notebooks
