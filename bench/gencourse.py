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


def data_science_source(i: int) -> str:
    """A deck like a real data-science course's: pandas, and a matplotlib plot that
    shows as an inline PNG. The last cell writes the kernel's CPU seconds (since its
    fork or start) into ``$CLX_BENCH_CPU_DIR``, and shows nothing."""
    return "\n".join([
        "# j2 from 'macros.j2' import header",
        f'# {{{{ header("Daten {i}", "Data {i}") }}}}',
        "",
        '# %% [markdown] lang="en" tags=["subslide"]',
        f"# Tables and plots {i}",
        "",
        '# %% tags=["keep"]',
        "import matplotlib.pyplot as plt",
        "import numpy as np",
        "import pandas as pd",
        "",
        "# %%",
        f"df = pd.DataFrame({{'x': np.arange(12), 'y': np.arange(12) ** 2 + {i}}})",
        "df.describe()",
        "",
        "# %%",
        "df.groupby(df['x'] % 3)['y'].agg(['sum', 'mean'])",
        "",
        "# %%",
        "fig, ax = plt.subplots(figsize=(4, 3))",
        "ax.plot(df['x'], df['y'], marker='o')",
        f"ax.set_title('Deck {i}')",
        "plt.show()",
        "",
        "# %%",
        "import os as _os, time as _time",
        "with open(_os.path.join(_os.environ['CLX_BENCH_CPU_DIR'], str(_os.getpid())), 'w') as _f:",
        "    _f.write(repr(_time.process_time()))",
        "",
    ])


def make_course(root: Path, topics: int, per_section: int = 10, cells: int = 6,
                source=None) -> Path:
    """A course of ``topics`` directory topics with one notebook and a data file each
    (``source(i)``: the notebook's text, default ``notebook_source``)."""
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
        text = source(i) if source is not None else notebook_source(i, cells)
        (d / f"slides_t{i:04d}.py").write_text(text, encoding="utf-8")
        (d / f"data_{i:04d}.csv").write_text(f"a,b\n{i},{i + 1}\n", encoding="utf-8")
    return spec
