"""Golden test of the tag table (docs/course-reference.md#cells-in-each-output): every tag, both languages.

The expected cell lists below are written by hand from the spec's tables; they are
not produced by the engine.
"""

from __future__ import annotations

import base64
from importlib import resources

import pytest

from clx.course.variants import all_variants
from clx.notebooks import NotebookSource, render_language

SOURCE = """\
# j2 from 'macros.j2' import header
# {{ header("Alle Tags", "All Tags") }}

# %% [markdown] lang="de" tags=["subslide"]
# ## Deutsch

# %% [markdown] lang="en" tags=["subslide"]
# ## English

# %% tags=["keep"]
import math

# %%
x = 1

# %% [markdown] lang="de" tags=["answer"]
# Weil es einfach ist.

# %% [markdown] lang="en" tags=["answer"]
# Because it is simple.

# %% tags=["alt"]
x = 2

# %% [markdown] lang="de" tags=["notes"]
# Sag hallo

# %% [markdown] lang="en" tags=["notes"]
# Say hi

# %% tags=["notes"]
print("notes-code-ran")

# %% tags=["start"]
x = ...

# %% tags=["del"]
draft = True

# %% [markdown] tags=["slide", "del"]
# Entwurf

# %% lang="de"
print("Hallo-Ausgabe")

# %% lang="en"
print("Hello-output")

# %% tags=["raises-exception"]
1 / 0
"""

PATH = "slides/module_100_basics/topic_100_tags/slides_tags.py"


def _logo() -> str:
    svg = (resources.files("clx.notebooks") / "templates/python/logo.svg").read_bytes()
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


def title(text: str, organization: str, *, logo: bool) -> str:
    """The title cell of docs/course-reference.md#the-header-macro (markdown, comment prefixes removed)."""
    lines = []
    if logo:
        img = (
            f'<img src="{_logo()}" alt="Python Logo" style="display:block;margin:auto;width:10%"/>'
        )
        lines += ["", img, ""]
    lines += [
        f'<div style="text-align:center; font-size:200%;"><b>{text}</b></div>',
        "<br/>",
        '<div style="text-align:center; font-size:120%;">Ada Lovelace</div>',
        "<br/>",
        f'<div style="text-align:center;">{organization}</div>',
    ]
    return "\n".join(lines)


TITLE = {"de": ("Alle Tags", "Beispiel-Akademie"), "en": ("All Tags", "Example Academy")}
HEADING = {"de": "## Deutsch", "en": "## English"}
ANSWER = {
    "de": ("*Antwort:* ", "Weil es einfach ist."),
    "en": ("*Answer:* ", "Because it is simple."),
}
NOTES = {"de": "Sag hallo", "en": "Say hi"}
GREETING = {"de": 'print("Hallo-Ausgabe")', "en": 'print("Hello-output")'}


def expected(lang: str, kind: str, *, logo: bool = True) -> list[tuple[str, str, str]]:
    """(cell type, output source, original source) per cell, from the table in 8.3."""
    t = title(*TITLE[lang], logo=logo)
    prefix, answer = ANSWER[lang]
    notes_div = f"<div style='background:yellow'>\n{NOTES[lang]}\n</div>"
    if kind == "code-along":
        return [
            ("markdown", t, t),
            ("markdown", HEADING[lang], HEADING[lang]),
            ("code", "import math", "import math"),  # keep
            ("code", "", "x = 1"),  # solution cleared
            ("markdown", prefix, answer),  # answer emptied, prefix stays
            ("code", "x = ...", "x = ..."),  # start
            ("code", "", GREETING[lang]),
            ("code", "", "1 / 0"),
        ]
    rows = [
        ("markdown", t, t),
        ("markdown", HEADING[lang], HEADING[lang]),
        ("code", "import math", "import math"),
        ("code", "x = 1", "x = 1"),
        ("markdown", prefix + answer, answer),
        ("code", "x = 2", "x = 2"),  # alt
    ]
    if kind == "speaker":
        rows += [
            ("markdown", notes_div, NOTES[lang]),
            ("code", 'print("notes-code-ran")', 'print("notes-code-ran")'),
        ]
    rows += [
        ("code", GREETING[lang], GREETING[lang]),
        ("code", "1 / 0", "1 / 0"),
    ]
    return rows


SLIDE_TYPES = {
    "## Deutsch": "subslide",
    "## English": "subslide",
    "Sag hallo": "notes",
    "Say hi": "notes",
    'print("notes-code-ran")': "notes",
}


@pytest.fixture(scope="module")
def outputs(executor, settings):
    src = NotebookSource(path=PATH, text=SOURCE, prog_lang="python")
    found = {}
    for lang in ("de", "en"):
        variants = [v for v in all_variants() if v.lang == lang]
        result = render_language(src, lang, variants, f"01 {TITLE[lang][0]}", settings, executor)
        assert [p for p in result.problems if p.is_error] == []
        found.update(result.outputs)
        # A code cell tagged notes forbids deriving completed from speaker: two executions.
        assert result.executions == 2
    assert len(found) == 14
    return {v.label: b for v, b in found.items()}


@pytest.mark.parametrize("lang", ["de", "en"])
@pytest.mark.parametrize("kind", ["code-along", "completed", "speaker"])
def test_notebook_cells(outputs, read, lang, kind):
    data = outputs[f"{lang}/{kind}/notebook"]
    rows = expected(lang, kind)
    assert read.ipynb_cells(data) == [(t, out) for t, out, _ in rows]
    nb = read.ipynb(data)
    assert [c["id"] for c in nb["cells"]] == [read.cell_id(orig) for _, _, orig in rows]
    for cell, (_, _, orig) in zip(nb["cells"], rows, strict=True):
        slide = cell["metadata"].get("slideshow", {}).get("slide_type")
        wanted = "slide" if orig.startswith("\n<img") else SLIDE_TYPES.get(orig)
        assert slide == wanted, orig
        if cell["cell_type"] == "code":
            assert cell["execution_count"] is None and cell["outputs"] == []
    assert nb["metadata"] == {
        "kernelspec": {
            "display_name": "Python 3 (ipykernel)",
            "language": "python",
            "name": "python3",
        },
        "language_info": {
            "codemirror_mode": {"name": "ipython", "version": 3},
            "file_extension": ".py",
            "mimetype": "text/x-python",
            "name": "python",
            "nbconvert_exporter": "python",
            "pygments_lexer": "ipython3",
        },
    }


@pytest.mark.parametrize("lang", ["de", "en"])
@pytest.mark.parametrize("kind", ["code-along", "completed", "speaker"])
def test_html_cells(outputs, read, lang, kind):
    html = outputs[f"{lang}/{kind}/html"]
    rows = expected(lang, kind)
    assert read.html_cell_ids(html) == [read.cell_id(orig) for _, _, orig in rows]
    text = html.decode()
    assert f"<title>01 {TITLE[lang][0]}</title>" in text
    executed = kind != "code-along"
    assert ("Hallo-Ausgabe\n</pre>" in text or "Hello-output\n</pre>" in text) == executed
    assert ("ZeroDivisionError" in text) == executed  # raises-exception shows its error
    assert ("notes-code-ran\n</pre>" in text) == (kind == "speaker")


@pytest.mark.parametrize("lang", ["de", "en"])
def test_code_format(outputs, lang):
    t = title(*TITLE[lang], logo=False)
    prefix, answer = ANSWER[lang]
    commented = "\n".join(f"# {line}" if line else "#" for line in t.split("\n"))
    want = (
        f"# %% [markdown]\n{commented}\n\n"
        f"# %% [markdown]\n# {HEADING[lang]}\n\n"
        "# %%\nimport math\n\n"
        "# %%\nx = 1\n\n"
        f"# %% [markdown]\n# {prefix}{answer}\n\n"
        "# %%\nx = 2\n\n"
        f"# %%\n{GREETING[lang]}\n\n"
        "# %%\n1 / 0\n"
    )
    assert outputs[f"{lang}/completed/code"].decode() == want


def test_exactly_fourteen_variants(outputs):
    assert sorted(outputs) == sorted(v.label for v in all_variants())
