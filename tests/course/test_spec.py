"""Spec parsing: every element, and one-line errors with file and line for each bad case."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from clx.course.spec import SpecError, load_spec

FULL = """<?xml version="1.0" encoding="UTF-8"?>
<course>
  <name><de>Python Grundlagen</de><en>Python Basics</en></name>
  <prog-lang>python</prog-lang>
  <author>Ada Lovelace</author>
  <organization><de>Beispiel-Akademie</de><en>Example Academy</en></organization>
  <description><de>d</de><en>e</en></description>
  <certificate><de>c</de><en>c</en></certificate>
  <github>x</github>
  <!-- a comment -->
  <sections>
    <section>
      <name><de>Woche 1</de><en>Week 1</en></name>
      <topics><topic>intro</topic><topic html="FALSE">loops
        <dir-group><name>Nested</name><path>nested</path></dir-group></topic></topics>
    </section>
    <section>
      <name><de>Was ist OOP?</de><en>C# [1]</en></name>
      <topics><topic html="0">oop</topic></topics>
    </section>
  </sections>
  <dir-groups>
    <dir-group>
      <name>Code/Solutions</name>
      <path>code/solutions</path>
      <subdirs><subdir>week_1</subdir><subdir>week_3</subdir></subdirs>
    </dir-group>
    <dir-group><name><de>Bonus DE</de><en>Bonus EN</en></name><path>extras</path></dir-group>
    <dir-group><name/><path>handouts</path></dir-group>
  </dir-groups>
</course>
"""


def spec_file(tmp_path: Path, text: str) -> Path:
    d = tmp_path / "course-specs"
    d.mkdir(parents=True, exist_ok=True)
    p = d / "c.xml"
    p.write_text(text, encoding="utf-8")
    return p


def test_full_spec(tmp_path: Path) -> None:
    spec, warnings = load_spec(spec_file(tmp_path, FULL), tmp_path)
    assert spec.file == "course-specs/c.xml"
    assert (spec.name.de, spec.name.en) == ("Python Grundlagen", "Python Basics")
    assert spec.prog_lang == "python"
    assert spec.author.de == spec.author.en == "Ada Lovelace"
    assert spec.organization.en == "Example Academy"
    assert [s.name.de for s in spec.sections] == ["Woche 1", "Was ist OOP"]
    assert spec.sections[1].name.en == "CSharp (1)"
    assert [(t.id, t.html) for t in spec.sections[0].topics] == [("intro", True), ("loops", False)]
    assert spec.sections[1].topics[0].html is False
    groups = spec.dir_groups
    assert [g.path for g in groups] == ["nested", "code/solutions", "extras", "handouts"]
    assert groups[1].subdirs == ("week_1", "week_3")
    assert groups[2].subdirs is None
    assert (groups[2].name.de, groups[2].name.en) == ("Bonus DE", "Bonus EN")
    assert groups[3].name.de == ""
    assert warnings == []


def test_warnings(tmp_path: Path) -> None:
    text = """<course><name><de>a</de><en>b</en></name><prog-lang>python</prog-lang>
<colour>red</colour>
<sections><section><name><de>s</de><en>s</en></name></section>
<section><name><de>t</de><en>t</en></name><topics><topic>a</topic><topic>a</topic></topics></section>
</sections></course>"""
    spec, warnings = load_spec(spec_file(tmp_path, text), tmp_path)
    messages = [(w.line, w.message) for w in warnings]
    assert (2, "unknown element <colour> in <course> ignored") in messages
    assert any(line == 3 and "no topics" in m for line, m in messages)
    assert any(line == 4 and "listed twice" in m for line, m in messages)
    assert [t.id for t in spec.sections[1].topics] == ["a"]


BASE = "<course><name><de>a</de><en>b</en></name><prog-lang>python</prog-lang>\n{}\n</course>"

ERRORS = [
    ("<course><name>", 1, "malformed XML"),
    ("<kurs/>", 1, "root element is <kurs>"),
    ("<course>\n<prog-lang>python</prog-lang></course>", 1, "missing required element <name>"),
    ("<course><name><de>a</de><en>b</en></name></course>", 1, "missing required element <prog-lang>"),
    (BASE.replace("python", "Python"), 1, "<prog-lang> 'Python' is not one of"),
    ("<course>\n<name><de>a</de><fr>b</fr></name><prog-lang>python</prog-lang></course>", 2,
     "language child <fr>"),
    ("<course>\n<name><de>a</de></name><prog-lang>python</prog-lang></course>", 2,
     "missing its <en> child"),
    ("<course>\n<name><de>?</de><en>b</en></name><prog-lang>python</prog-lang></course>", 2,
     "course name is empty"),
    (BASE.format("<sections><section><topics/></section></sections>"), 2, "<section> without <name>"),
    (BASE.format('<sections><section><name><de>a</de><en>b</en></name><topics><topic html="true">x'
                 "</topic></topics></section></sections>"), 2, 'invalid html="true"'),
    (BASE.format('<sections><section><name><de>a</de><en>b</en></name><topics><topic html="">x'
                 "</topic></topics></section></sections>"), 2, 'invalid html=""'),
    (BASE.format('<sections><section><name><de>a</de><en>b</en></name><topics>\n'
                 '<topic skip-errors="true">x</topic></topics></section></sections>'), 3,
     'invalid skip-errors="true"'),
    (BASE.format('<sections><section><name><de>a</de><en>b</en></name><topics>'
                 '<topic evaluate="0">x</topic></topics></section></sections>'), 2,
     'invalid evaluate="0"'),
    (BASE.format("<sections><section><name><de>a</de><en>b</en></name><topics><topic> </topic>"
                 "</topics></section></sections>"), 2, "empty id"),
    (BASE.format("<dir-groups><dir-group><name>x</name></dir-group></dir-groups>"), 2,
     "without <path>"),
    (BASE.format("<dir-groups><dir-group><path>/etc</path></dir-group></dir-groups>"), 2, "absolute"),
    (BASE.format("<dir-groups><dir-group><path>a/../../x</path></dir-group></dir-groups>"), 2,
     "leaves the course root"),
    (BASE.format("<dir-groups><dir-group><path>a</path><subdirs><subdir>..</subdir></subdirs>"
                 "</dir-group></dir-groups>"), 2, "leaves the course root"),
    (BASE.format("<dir-groups><dir-group><name>../up</name><path>a</path></dir-group></dir-groups>"),
     2, "leaves the course root"),
    ('<!DOCTYPE course [<!ENTITY x "boom">]><course/>', 1, "DTDs are not allowed"),
]


@pytest.mark.parametrize(("text", "line", "fragment"), ERRORS)
def test_spec_errors(tmp_path: Path, text: str, line: int, fragment: str) -> None:
    with pytest.raises(SpecError) as info:
        load_spec(spec_file(tmp_path, text), tmp_path)
    problems = info.value.problems
    assert any(p.line == line and fragment in p.message for p in problems), problems
    assert all(p.file == "course-specs/c.xml" for p in problems)


def test_errors_are_collected_together(tmp_path: Path) -> None:
    text = "<course>\n<name><de>a</de></name>\n<prog-lang>cobol</prog-lang></course>"
    with pytest.raises(SpecError) as info:
        load_spec(spec_file(tmp_path, text), tmp_path)
    assert sorted(p.line for p in info.value.problems) == [2, 3]


@pytest.mark.parametrize(("text", "line"), [(e[0], e[1]) for e in ERRORS[:3]] + [(ERRORS[9][0], 2)])
def test_cli_spec_error_is_one_line_exit_2(tmp_path: Path, text: str, line: int) -> None:
    spec = spec_file(tmp_path, text)
    (tmp_path / "slides").mkdir(exist_ok=True)
    r = subprocess.run([sys.executable, "-m", "clx.cli.main", "plan", str(spec)],
                       capture_output=True, text=True)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith(f"error: course-specs/c.xml:{line}: ")
    assert "Traceback" not in r.stderr


def test_cli_missing_topics_listed_at_once(tmp_path: Path) -> None:
    text = BASE.format("<sections><section><name><de>a</de><en>b</en></name><topics>\n"
                       "<topic>nope</topic>\n<topic>gone</topic></topics></section></sections>")
    spec = spec_file(tmp_path, text)
    (tmp_path / "slides").mkdir()
    r = subprocess.run([sys.executable, "-m", "clx.cli.main", "plan", str(spec)],
                       capture_output=True, text=True)
    assert r.returncode == 2
    assert r.stderr.splitlines() == [
        "error: course-specs/c.xml:3: Topic not found: nope",
        "error: course-specs/c.xml:4: Topic not found: gone",
    ]
