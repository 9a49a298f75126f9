"""Generate synthetic courses for benchmarks (shared by the bench scripts)."""

from __future__ import annotations

from pathlib import Path

SPEC_HEAD = """<course>
  <name><de>Bench Kurs</de><en>Bench Course</en></name>
  <prog-lang>python</prog-lang>
  <author>Bench Author</author>
  <sections>
"""


def notebook_source(i: int, cells: int = 6) -> str:
    parts = [
        "# j2 from 'macros.j2' import header",
        f'# {{{{ header("Thema {i}", "Topic {i}") }}}}',
        "",
        '# %% [markdown] lang="de" tags=["subslide"]',
        f"# Text {i} auf Deutsch",
        "",
        '# %% [markdown] lang="en" tags=["subslide"]',
        f"# Text {i} in English",
        "",
        '# %% tags=["keep"]',
        "import math",
    ]
    for c in range(cells):
        parts += ["", "# %%", f"value_{c} = math.sqrt({i * 10 + c})", f"value_{c}"]
    parts += ["", '# %% [markdown] tags=["notes"]', "# Speaker note", ""]
    return "\n".join(parts)


def make_course(root: Path, topics: int, per_section: int = 10, cells: int = 6) -> Path:
    """A course of ``topics`` directory topics with one notebook and a data file each."""
    sections = []
    for s in range(0, topics, per_section):
        n = s // per_section + 1
        refs = "".join(f"<topic>t{i:04d}</topic>" for i in range(s, min(s + per_section, topics)))
        sections.append(
            f"    <section><name><de>Teil {n}</de><en>Part {n}</en></name>"
            f"<topics>{refs}</topics></section>\n"
        )
    (root / "course-specs").mkdir(parents=True, exist_ok=True)
    spec = root / "course-specs" / "bench.xml"
    spec.write_text(SPEC_HEAD + "".join(sections) + "  </sections>\n</course>\n", encoding="utf-8")
    for i in range(topics):
        d = root / "slides" / f"module_{i // 50:03d}_m" / f"topic_{i:04d}_t{i:04d}"
        d.mkdir(parents=True, exist_ok=True)
        (d / f"slides_t{i:04d}.py").write_text(notebook_source(i, cells), encoding="utf-8")
        (d / f"data_{i:04d}.csv").write_text(f"a,b\n{i},{i + 1}\n", encoding="utf-8")
    return spec
