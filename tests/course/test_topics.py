"""Topic ids, duplicates, ignore rules and the files of directory and file topics."""

from __future__ import annotations

from pathlib import Path

import pytest

from clx.course.course import load_course
from clx.course.files import FileClass, classify, image_sources, imported_modules, render_target
from clx.course.topics import topic_id
from clxtest import SPEC, write_tree


@pytest.mark.parametrize(("entry", "tid"), [
    ("topic_100_intro", "intro"), ("topic_200_loops.py", "loops"),
    ("topic_110_a3_solid_intro", "a3_solid_intro"), ("img", None), ("helpers.py", None),
    ("loop_tools.py", None), ("helper_file_stuff.py", "stuff"),
])
def test_topic_ids(entry: str, tid: str | None) -> None:
    assert topic_id(entry) == tid


@pytest.mark.parametrize(("name", "cls", "warns"), [
    ("flow.pu", FileClass.PLANTUML, False), ("a.puml", FileClass.PLANTUML, False),
    ("a.plantuml", FileClass.PLANTUML, False), ("x.drawio", FileClass.DRAWIO, False),
    ("slides_a.py", FileClass.NOTEBOOK, False), ("topic_a.rs", FileClass.NOTEBOOK, False),
    ("slides_a.java", FileClass.NOTEBOOK, False), ("slides_a.PY", FileClass.DATA, False),
    ("slides_a.md", FileClass.DATA, True), ("slides_a.c", FileClass.DATA, True),
    ("slides_a.rust", FileClass.DATA, True), ("helpers.py", FileClass.DATA, False),
])
def test_classify(name: str, cls: FileClass, warns: bool) -> None:
    got, warning = classify(name)
    assert got is cls
    assert (warning is not None) is warns


@pytest.mark.parametrize(("src", "target"), [
    ("pu/flow.pu", "img/flow.png"), ("puml/flow.puml", "img/flow.png"),
    ("plantuml/flow.plantuml", "img/flow.png"), ("drawio/layers.drawio", "img/layers.png"),
    ("img/sequence.pu", "img/sequence.png"), ("figures/drawio/x.drawio", "figures/img/x.png"),
    ("layers.drawio", "layers.png"), ("img/arch.de.drawio", "img/arch.de.png"),
])
def test_render_targets(src: str, target: str) -> None:
    assert render_target(src) == target


def test_imports_and_images() -> None:
    text = ("import os, sys as system\nimport a.b.c\nfrom x.y import z\nfrom . import rel\n"
            "from .pkg import q\n  import indented\n"
            "<img src='img/a.png'> <img alt='x' src=\"img/b.png\"/> <img src='http://x/y.png'>"
            " <img src=\"data:image/png;base64,AA\">")
    assert imported_modules(text) == ["os", "sys", "a", "indented", "x"]
    assert image_sources(text) == ["img/a.png", "img/b.png"]


def test_directory_and_file_topics(course_tree: Path) -> None:
    course = load_course(course_tree / "course-specs/c.xml")
    intro = course.topics["intro"]
    assert not intro.is_file
    assert [f.relpath for f in intro.files] == [
        "data/sales.csv", "helpers.py", "img/flow.png", "pu/flow.pu", "slides_intro.py",
        "slides_more.py",
    ]
    loops = course.topics["loops"]
    assert loops.is_file
    # stdlib and missing modules are ignored; the local helper and the image come along
    assert [f.relpath for f in loops.files] == ["img/loop.png", "loop_tools.py", "topic_200_loops.py"]
    missing = [w for w in course.warnings if "img/missing.png" in w.message]
    assert len(missing) == 1
    assert missing[0].file == "slides/module_200_loops/topic_200_loops.py"
    assert missing[0].line == 9


def test_file_topic_pulls_diagram_for_render_target(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {
        "course-specs/c.xml": SPEC.format(dir_groups="").replace(
            "<topic>intro</topic><topic>extra</topic>", "<topic>intro</topic>").replace(
            "<topics><topic>loops</topic></topics>", "<topics><topic>intro</topic></topics>"),
        "slides/m_1/topic_100_intro.py": "# <img src='img/flow.png'>\n",
        "slides/m_1/img/flow.png": b"stale",
        "slides/m_1/pu/flow.pu": "@startuml\nA->B\n@enduml\n",
    })
    course = load_course(root / "course-specs/c.xml")
    assert [f.relpath for f in course.topics["intro"].files] == ["pu/flow.pu", "topic_100_intro.py"]


def test_duplicate_ids_first_in_sorted_order_wins(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {
        "course-specs/c.xml": SPEC.format(dir_groups=""),
        "slides/module_300_extra/topic_050_intro/slides_b.py": "",
        "slides/module_100_basics/topic_100_intro/slides_a.py": "",
        "slides/module_100_basics/topic_110_extra.py": "",
        "slides/module_100_basics/topic_120_loops.py": "",
    })
    course = load_course(root / "course-specs/c.xml")
    assert course.topics["intro"].relpath == "slides/module_100_basics/topic_100_intro"
    assert [w.message for w in course.warnings if "Duplicate" in w.message] == [
        "Duplicate topic id 'intro': slides/module_100_basics/topic_100_intro (used) and "
        "slides/module_300_extra/topic_050_intro (ignored)"
    ]


def test_ignore_rules_are_relative_to_course_root(tmp_path: Path) -> None:
    # The course itself lives below folders named like ignored ones.
    root = write_tree(tmp_path / "build" / "out" / "course", {
        "course-specs/c.xml": SPEC.format(dir_groups=""),
        "slides/module_100_basics/topic_100_intro/slides_a.py": "",
        "slides/module_100_basics/topic_100_intro/__pycache__/x.pyc": b"",
        "slides/module_100_basics/topic_100_intro/.~lock.a#": "",
        "slides/module_100_basics/topic_100_intro/model.keras": "",
        "slides/module_100_basics/topic_100_intro/old.bkp": "",
        "slides/module_100_basics/topic_100_intro/x.egg-info/PKG": "",
        "slides/module_100_basics/topic_100_intro/localdata/big.csv": "",
        "slides/module_100_basics/topic_100_intro/.gitkeep": "",
        "slides/module_100_basics/topic_110_extra.py": "",
        "slides/module_100_basics/topic_120_loops.py": "",
        "slides/build/topic_100_hidden/slides_x.py": "",
    })
    course = load_course(root / "course-specs/c.xml")
    assert [f.relpath for f in course.topics["intro"].files] == [".gitkeep", "slides_a.py"]
