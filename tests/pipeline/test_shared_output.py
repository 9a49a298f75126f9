"""Two specs of one course building into the same output folder keep each other's files."""

from __future__ import annotations

import json
from pathlib import Path

from clx.pipeline.progress import SilentProgress
from clx.pipeline.run import BuildOptions, build
from clxtest import write_tree

SPEC = """<course>
  <name><de>{name}</de><en>{name}</en></name>
  <prog-lang>python</prog-lang>
  <sections><section><name><de>Teil</de><en>Part</en></name>
    <topics>{topics}</topics></section></sections>
</course>
"""

# No code cell: the notebook jobs run without starting a kernel.
NB = '# j2 from \'macros.j2\' import header\n# {{ header("T", "T") }}\n\n# %% [markdown]\n# Text.\n'


def run(spec: Path) -> None:
    report = build(BuildOptions(spec=spec, progress=SilentProgress()))
    assert report.ok, report.render_text()


def test_specs_sharing_an_output_folder_sweep_only_their_own_files(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path / "course",
        {
            "course-specs/a.xml": SPEC.format(
                name="Alpha", topics="<topic>one</topic><topic>two</topic>"
            ),
            "course-specs/b.xml": SPEC.format(name="Beta", topics="<topic>one</topic>"),
            "slides/m/topic_100_one/slides_one.py": NB,
            "slides/m/topic_200_two/slides_two.py": NB,
        },
    )
    a, b = root / "course-specs/a.xml", root / "course-specs/b.xml"
    out = root / "output"
    a_page = out / "public/En/Alpha/Slides/Html/Completed/Part/01 T.html"
    a_two = out / "public/En/Alpha/Slides/Html/Completed/Part/02 T.html"
    b_page = out / "public/En/Beta/Slides/Html/Completed/Part/01 T.html"

    run(a)
    run(b)
    assert a_page.is_file() and a_two.is_file() and b_page.is_file()
    run(a)
    assert b_page.is_file()

    # A's own stale outputs still go, B's stay
    (root / "course-specs/a.xml").write_text(SPEC.format(name="Alpha", topics="<topic>one</topic>"))
    run(a)
    assert a_page.is_file() and not a_two.exists() and b_page.is_file()
    manifest = json.loads((out / ".clx-manifest.json").read_text())
    assert set(manifest["specs"]) == {"course-specs/a.xml", "course-specs/b.xml"}
    assert all(
        p.startswith("public/En/Beta/")
        or p.startswith("public/De/Beta/")
        or p.startswith("speaker/")
        and "/Beta/" in p
        for p in manifest["specs"]["course-specs/b.xml"]
    )
