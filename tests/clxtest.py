"""Helpers shared by the test suites (importable thanks to pythonpath = tests)."""

from __future__ import annotations

from pathlib import Path

import pytest

#: Run a test once per queue engine; the suite's ``engine`` fixture takes the parameter.
ENGINES = pytest.mark.parametrize("engine", ["sqlite", "postgresql"], indirect=True)


def write_tree(root: Path, files: dict[str, str | bytes]) -> Path:
    """Build a throwaway course tree from {relative path: content}."""
    for rel, content in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content, encoding="utf-8")
    return root


SPEC = """<course>
  <name><de>Python Grundlagen</de><en>Python Basics</en></name>
  <prog-lang>python</prog-lang>
  <author>Ada Lovelace</author>
  <organization><de>Beispiel-Akademie</de><en>Example Academy</en></organization>
  <sections>
    <section>
      <name><de>Woche 1</de><en>Week 1</en></name>
      <topics><topic>intro</topic><topic>extra</topic></topics>
    </section>
    <section>
      <name><de>Woche 2</de><en>Week 2</en></name>
      <topics><topic>loops</topic></topics>
    </section>
  </sections>
  {dir_groups}
</course>
"""


def header(de: str, en: str) -> str:
    return f'# j2 from "macros.j2" import header\n# {{{{ header("{de}", "{en}") }}}}\n\n# %%\nx = 1\n'




TWO_TOPICS_SPEC = """<course>
  <name><de>Kurs</de><en>Course</en></name>
  <prog-lang>python</prog-lang>
  <sections><section><name><de>Teil</de><en>Part</en></name>
    <topics><topic>alpha</topic><topic>beta</topic></topics></section></sections>
</course>
"""


def notebook(de: str, en: str, body: str) -> str:
    """A minimal notebook source: header macro plus one code cell."""
    return (f"# j2 from 'macros.j2' import header\n# {{{{ header(\"{de}\", \"{en}\") }}}}\n\n"
            f"# %%\n{body}\n")
