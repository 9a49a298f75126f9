"""`clx init DIR`: a small bilingual course that builds at once, to start from.

It has a spec, two topics (one with a data file its notebook reads, one with a formula),
a ``clx.toml`` and a ``.gitignore`` for the output and state folders; no diagram, so the
first build needs nothing but a Python kernel.
"""

from __future__ import annotations

from pathlib import Path

SPEC = """\
<?xml version="1.0" encoding="UTF-8"?>
<course>
  <name>
    <de>Mein Kurs</de>
    <en>My Course</en>
  </name>
  <prog-lang>python</prog-lang>
  <author>Your Name</author>
  <sections>
    <section>
      <name>
        <de>Woche 1</de>
        <en>Week 1</en>
      </name>
      <topics>
        <topic>welcome</topic>
        <topic>data</topic>
      </topics>
    </section>
  </sections>
</course>
"""

WELCOME = """\
# j2 from 'macros.j2' import header
# {{ header("Willkommen", "Welcome") }}

# %% [markdown] lang="de" tags=["slide"]
# ## Worum geht es?
#
# Eine Quelle, jede Ausgabe: dieser Text erscheint nur auf Deutsch.

# %% [markdown] lang="en" tags=["slide"]
# ## What is this about?
#
# One source, every output: this text appears in English only.

# %% [markdown] lang="de"
# Eine Formel: $e^{i\\pi} + 1 = 0$

# %% [markdown] lang="en"
# A formula: $e^{i\\pi} + 1 = 0$

# %% tags=["keep"]
greeting = "Hello"

# %%
print(greeting, "from", "{{ prog_lang }}")
"""

DATA = """\
# j2 from 'macros.j2' import header
# {{ header("Daten lesen", "Reading data") }}

# %% [markdown] lang="de" tags=["slide"]
# ## Eine Datei neben dem Notebook

# %% [markdown] lang="en" tags=["slide"]
# ## A file next to the notebook

# %%
from pathlib import Path

rows = Path("data/scores.csv").read_text().splitlines()
print(len(rows) - 1, "scores")
"""

FILES = {
    "course-specs/course.xml": SPEC,
    "slides/module_100_basics/topic_100_welcome/slides_welcome.py": WELCOME,
    "slides/module_100_basics/topic_200_data/slides_data.py": DATA,
    "slides/module_100_basics/topic_200_data/data/scores.csv": "name,score\nAda,10\nAlan,9\n",
    "clx.toml": "# Defaults for `clx build` in this course (flags win).\n[build]\n"
    'output-dir = "output"\n',
    ".gitignore": "output/\n.clx/\n",
}


class ScaffoldError(Exception):
    """The target folder is not empty."""


def scaffold(target: Path) -> list[Path]:
    """Write the starter course into ``target`` (created; must be empty or absent)."""
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ScaffoldError(f"{target} exists and is not an empty folder")
    written = []
    for rel, text in FILES.items():
        path = target / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
