"""Nothing outside the course root is read or published, whatever symlinks point there."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from clx.course.course import load_course
from clx.course.outputs import plan_outputs
from clx.course.spec import SpecError
from clxtest import SPEC, header, write_tree

GROUPS = """<dir-groups>
  <dir-group><name>Extras</name><path>extras</path></dir-group>
  <dir-group><name>Secret</name><path>secret-group</path></dir-group>
  <dir-group><name>Parts</name><path>parts</path><subdirs><subdir>leak</subdir></subdirs>
  </dir-group>
</dir-groups>"""


@pytest.fixture
def linked(tmp_path: Path) -> tuple[Path, Path]:
    """A course whose tree links to a folder outside the root in every place it can."""
    outside = write_tree(
        tmp_path / "outside",
        {
            "secret.txt": "password",
            "dir/key.pem": "KEY",
            "slides_leak.py": header("A", "B"),
        },
    )
    root = write_tree(
        tmp_path / "course",
        {
            "course-specs/c.xml": SPEC.format(dir_groups=GROUPS),
            "slides/module_100_basics/topic_100_intro/slides_intro.py": header("E", "I")
            + ("# <img src='img/inside.png'>\n"),
            "slides/module_100_basics/topic_100_intro/real/inside.csv": "x\n",
            "slides/module_100_basics/topic_100_intro/img/inside.png": b"png",
            "slides/module_100_basics/topic_110_extra.py": (
                "import leaked_mod\n" + header("X", "X") + "# <img src='img/secret.png'>\n"
            ),
            "slides/module_100_basics/topic_120_loops.py": header("L", "L"),
            "extras/ok.txt": "ok",
            "parts/leak/.keep": "",
        },
    )
    topic = root / "slides/module_100_basics/topic_100_intro"
    module = root / "slides/module_100_basics"
    links = {
        topic / "secret.txt": outside / "secret.txt",  # a file
        topic / "data": outside / "dir",  # a data folder
        topic / "slides_leak.py": outside / "slides_leak.py",  # a notebook
        topic / "linked_inside": topic / "real",  # inside the root: followed
        topic / "inside_copy.csv": topic / "real/inside.csv",  # inside the root: followed
        module / "leaked_mod.py": outside / "secret.txt",  # a file topic's module
        module / "img": outside / "dir",  # a file topic's image folder
        root / "secret-group": outside / "dir",  # a dir-group path
        root / "extras/more": outside / "dir",  # below a dir-group
        root / "parts/leak/x": outside / "dir",  # below a dir-group subdir
    }
    (outside / "dir/secret.png").write_bytes(b"png")
    for link, target in links.items():
        link.symlink_to(target)
    return root, outside


def test_links_outside_the_root_are_not_followed(linked: tuple[Path, Path]) -> None:
    root, outside = linked
    course = load_course(root / "course-specs/c.xml")
    plan = plan_outputs(course)
    read = [f.path for t in course.topics.values() for f in t.files]
    read += [c.source for c in plan.copies]
    assert all(os.path.realpath(p).startswith(str(root.resolve()) + os.sep) for p in read), read
    intro = {f.relpath for f in course.topics["intro"].files}
    assert {"linked_inside/inside.csv", "inside_copy.csv", "real/inside.csv"} <= intro
    assert not any(n.startswith(("secret", "data", "slides_leak")) for n in intro), intro
    assert {c.source_rel for c in plan.copies if c.origin == "dir-group"} == {
        "extras/ok.txt",
        "parts/leak/.keep",
    }
    warnings = [w.message for w in course.warnings + plan.warnings]
    for rel in (
        "slides/module_100_basics/topic_100_intro/secret.txt",
        "slides/module_100_basics/topic_100_intro/data",
        "slides/module_100_basics/topic_100_intro/slides_leak.py",
        "slides/module_100_basics/leaked_mod.py",
        "slides/module_100_basics/img",
        "secret-group",
        "extras/more",
        "parts/leak/x",
    ):
        hits = [w for w in warnings if f"symlink {rel} " in w]
        assert len(hits) == 1, (rel, warnings)
        assert str(outside) in hits[0] and "not followed" in hits[0]
    assert not any("linked_inside" in w or "inside_copy" in w for w in warnings), warnings


def test_a_topic_that_is_a_link_outside_is_reported(tmp_path: Path) -> None:
    outside = write_tree(tmp_path / "elsewhere", {"slides_x.py": header("A", "B")})
    root = write_tree(
        tmp_path / "course",
        {
            "course-specs/c.xml": SPEC.format(dir_groups=""),
            "slides/module_100_basics/topic_110_extra.py": "",
            "slides/module_100_basics/topic_120_loops.py": "",
        },
    )
    (root / "slides/module_100_basics/topic_100_intro").symlink_to(outside)
    with pytest.raises(SpecError) as e:
        load_course(root / "course-specs/c.xml")
    text = str(e.value)
    assert "Topic not found: intro" in text
    assert f"symlink slides/module_100_basics/topic_100_intro -> {outside}" in text


def test_templates_linked_outside_are_not_read(linked: tuple[Path, Path]) -> None:
    from clx.pipeline.run import BuildOptions, plan_jobs

    root, outside = linked
    write_tree(root, {"templates/macros.j2": "{% macro header(de, en) %}{% endmacro %}\n"})
    (root / "templates/stolen.j2").symlink_to(outside / "secret.txt")
    plan, jobs = plan_jobs(
        load_course(root / "course-specs/c.xml"), BuildOptions(spec=root / "course-specs/c.xml")
    )
    templates = jobs[0].job.payload["course_templates"]
    assert set(templates) == {"macros.j2"}
    assert any(
        w.message.startswith(f"symlink templates/stolen.j2 -> {outside}/secret.txt")
        for w in plan.warnings
    ), plan.warnings
