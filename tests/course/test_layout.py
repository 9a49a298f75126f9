"""Output plan: exact variant paths, numbering, sanitising, data, diagrams, dir-groups."""

from __future__ import annotations

from pathlib import Path

import pytest

from clx.course.course import load_course
from clx.course.naming import header_titles, sanitize
from clx.course.outputs import plan_outputs
from clx.course.variants import all_variants
from clxtest import SPEC, write_tree

SAMPLE_14 = [
    "public/De/Python Grundlagen/Folien/Html/Code-Along/Woche 1/01 Einführung.html",
    "public/De/Python Grundlagen/Folien/Html/Completed/Woche 1/01 Einführung.html",
    "public/De/Python Grundlagen/Folien/Notebooks/Code-Along/Woche 1/01 Einführung.ipynb",
    "public/De/Python Grundlagen/Folien/Notebooks/Completed/Woche 1/01 Einführung.ipynb",
    "public/De/Python Grundlagen/Folien/Python/Completed/Woche 1/01 Einführung.py",
    "speaker/De/Python Grundlagen/Folien/Html/Speaker/Woche 1/01 Einführung.html",
    "speaker/De/Python Grundlagen/Folien/Notebooks/Speaker/Woche 1/01 Einführung.ipynb",
    "public/En/Python Basics/Slides/Html/Code-Along/Week 1/01 Introduction.html",
    "public/En/Python Basics/Slides/Html/Completed/Week 1/01 Introduction.html",
    "public/En/Python Basics/Slides/Notebooks/Code-Along/Week 1/01 Introduction.ipynb",
    "public/En/Python Basics/Slides/Notebooks/Completed/Week 1/01 Introduction.ipynb",
    "public/En/Python Basics/Slides/Python/Completed/Week 1/01 Introduction.py",
    "speaker/En/Python Basics/Slides/Html/Speaker/Week 1/01 Introduction.html",
    "speaker/En/Python Basics/Slides/Notebooks/Speaker/Week 1/01 Introduction.ipynb",
]


def rel(course, p: Path) -> str:
    return p.relative_to(course.output_root).as_posix()


def test_fourteen_variant_paths(course_tree: Path) -> None:
    course = load_course(course_tree / "course-specs/c.xml")
    plan = plan_outputs(course)
    nb = next(n for n in plan.notebooks if n.source_rel.endswith("slides_intro.py"))
    assert [rel(course, nb.paths[v]) for v in all_variants()] == SAMPLE_14
    assert nb.page_title("de") == "01 Einführung"


def test_numbering_across_topics_and_html_off(course_tree: Path) -> None:
    spec = course_tree / "course-specs/c.xml"
    spec.write_text(SPEC.format(dir_groups="").replace(
        "<topic>extra</topic>", '<topic html="no">extra</topic>'), encoding="utf-8")
    course = load_course(spec)
    plan = plan_outputs(course)
    names = {n.source_rel.rsplit("/", 1)[1]: n for n in plan.notebooks}
    assert names["slides_intro.py"].number == 1
    assert names["slides_more.py"].number == 2
    assert names["slides_extra.py"].number == 3  # counted across the topics of a section
    assert names["topic_200_loops.py"].number == 1  # a new section starts again
    extra = names["slides_extra.py"]
    assert len(extra.paths) == 8
    assert sorted({p.suffix for p in extra.paths.values()}) == [".ipynb", ".py"]
    assert rel(course, extra.paths[all_variants(False)[0]]) == (
        "public/De/Python Grundlagen/Folien/Notebooks/Code-Along/Woche 1/03 Was ist OOP.ipynb")


def test_data_files_and_renders(course_tree: Path) -> None:
    course = load_course(course_tree / "course-specs/c.xml")
    plan = plan_outputs(course)
    copies = {rel(course, c.target) for c in plan.copies}
    base = "public/De/Python Grundlagen/Folien/Html/Completed/Woche 1/"
    assert base + "helpers.py" in copies
    assert base + "data/sales.csv" in copies
    # the stale committed PNG is replaced by the render, silently
    assert base + "img/flow.png" not in copies
    assert not any("conflict" in w.message for w in plan.warnings)
    (diagram,) = plan.diagrams
    assert diagram.render_target == "img/flow.png"
    assert len(diagram.targets) == 14  # 14 variant folders of the one section
    # file topic: helper module and image in every variant folder of section 2
    loops = "public/En/Python Basics/Slides/Python/Completed/Week 2/"
    assert {loops + "loop_tools.py", loops + "img/loop.png"} <= copies
    assert not any(c.endswith("other.csv") for c in copies)
    assert plan.errors == []


def test_conflicting_data_files_later_topic_wins(course_tree: Path) -> None:
    write_tree(course_tree, {
        "slides/module_100_basics/topic_100_intro/shared.txt": "one",
        "slides/module_100_basics/topic_110_extra/shared.txt": "two",
        "slides/module_100_basics/topic_110_extra/same.csv": "a,b\n1,2\n",
        "slides/module_100_basics/topic_100_intro/same.csv": "a,b\n1,2\n",
    })
    course = load_course(course_tree / "course-specs/c.xml")
    plan = plan_outputs(course)
    shared = [c for c in plan.copies if c.target.name == "shared.txt"]
    assert {c.source_rel for c in shared} == {"slides/module_100_basics/topic_110_extra/shared.txt"}
    conflicts = [w.message for w in plan.warnings if "conflict" in w.message]
    assert len(conflicts) == 14 and all("shared.txt" in m for m in conflicts)


def test_dir_groups(course_tree: Path) -> None:
    groups = """<dir-groups>
      <dir-group><name>Code/Solutions</name><path>code/solutions</path>
        <subdirs><subdir>week_1</subdir><subdir>week_3</subdir></subdirs></dir-group>
      <dir-group><name><de>Extras</de><en>Bonus</en></name><path>extras</path></dir-group>
      <dir-group><name/><path>handouts</path></dir-group>
      <dir-group><name>Gone</name><path>missing</path></dir-group>
    </dir-groups>"""
    (course_tree / "course-specs/c.xml").write_text(SPEC.format(dir_groups=groups), encoding="utf-8")
    write_tree(course_tree, {
        "code/solutions/week_1/a.py": "a", "code/solutions/week_2/b.py": "b",
        "code/solutions/week_3/sub/c.py": "c", "code/solutions/top.txt": "t",
        "extras/x.txt": "x", "extras/pu/d.pu": "@startuml\n@enduml\n", "extras/drawio/e.drawio": "<x/>",
        "extras/__pycache__/z.pyc": b"", "handouts/handout.pdf": b"%PDF",
    })
    course = load_course(course_tree / "course-specs/c.xml")
    plan = plan_outputs(course)
    got = sorted(rel(course, c.target) for c in plan.copies if c.origin == "dir-group")
    assert got == [
        "public/De/Python Grundlagen/Code/Solutions/week_1/a.py",
        "public/De/Python Grundlagen/Code/Solutions/week_3/sub/c.py",
        "public/De/Python Grundlagen/Extras/x.txt",
        "public/De/Python Grundlagen/handout.pdf",
        "public/En/Python Basics/Bonus/x.txt",
        "public/En/Python Basics/Code/Solutions/week_1/a.py",
        "public/En/Python Basics/Code/Solutions/week_3/sub/c.py",
        "public/En/Python Basics/handout.pdf",
    ]
    assert [e.message for e in plan.errors] == ["dir-group folder not found: missing"]
    assert plan.errors[0].line is not None


@pytest.mark.parametrize(("raw", "clean"), [
    ("C# Grundlagen", "CSharp Grundlagen"), ("Was ist OOP?", "Was ist OOP"),
    ("Listen [Teil 1]: Basics", "Listen (Teil 1) Basics"), ("Input/Output", "Input_Output"),
    ("Version 2.0", "Version 20"), ("  {a} <b> | 50% & €  ", "(a) _b_ _ 50_ _ _"),
    ("\"Quote\" 'x' `y`; ok!", "Quote x y ok"),
])
def test_sanitize(raw: str, clean: str) -> None:
    assert sanitize(raw) == clean


def test_header_titles() -> None:
    src = '# j2 from "macros.j2" import header\n# {{ header("Ein sehr langer Titel",\n            \'A long [title]\') }}\n'
    assert header_titles(src, "slides_x") == ({"de": "Ein sehr langer Titel", "en": "A long (title)"}, None)
    assert header_titles("# %%\nx=1\n", "slides_x") == ({"de": "slides_x", "en": "slides_x"}, None)
    titles, warning = header_titles('# {{ header(t_de, "x") }}', "s")
    assert titles == {"de": "s", "en": "s"} and warning
    titles, warning = header_titles('# {{ header("?", "x") }}', "s")
    assert titles == {"de": "s", "en": "x"} and warning
