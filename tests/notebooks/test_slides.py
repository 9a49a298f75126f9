"""reveal.js decks: slide structure from the tags, notes only in the speaker deck, outputs
shown, one execution shared with the HTML pages, identical bytes every time."""

from __future__ import annotations

from bs4 import BeautifulSoup
from nbformat.v4 import new_code_cell, new_markdown_cell

from clx.course.variants import Format, Kind, Variant, variants_for
from clx.notebooks import NotebookSource, render_language
from clx.notebooks.slides import outline

PATH = "slides/module_100_basics/topic_100_intro/slides_intro.py"
PIXEL = "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGNkiDrBwMDAxMDAwMDAAAAM+gEmrPohZgAAAABJRU5ErkJggg=="  # a 2x2 PNG
HEADER = '# j2 from "macros.j2" import header\n# {{ header("Einführung", "Introduction") }}\n\n'
DECK = (
    HEADER
    + """\
# %% [markdown] lang="en" tags=["slide"]
# First slide
Math: $a^2 + b^2 = c^2$ and ![flow](img/flow.png)

# %%
print("clx-stdout-" + "ok")

# %% [markdown] lang="en" tags=["notes"]
Say **clx-note-one** here.

# %% [markdown] lang="en" tags=["subslide"]
## Below the first

# %%
from IPython.display import HTML, SVG, display
display(HTML("<table><tr><td>clx-table-cell</td></tr></table>"))
SVG('<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><rect id="clx-svg" '
    'width="4" height="4"/></svg>')

# %% [markdown] lang="en"
Still below the first: clx-continues.

# %% tags=["raises-exception"]
import base64
from IPython.display import Image
display(Image(data=base64.b64decode("PIXEL")))
1 / 0

# %% [markdown] lang="en" tags=["slide"]
# Second slide

# %% tags=["notes"]
print("clx-code-note")
""".replace("PIXEL", PIXEL)
)


def slide_variants(lang: str = "en") -> list[Variant]:
    return [Variant(lang, Format.SLIDES, k) for k in (Kind.COMPLETED, Kind.SPEAKER)]


def render(executor, settings, text, variants):
    src = NotebookSource(path=PATH, text=text, prog_lang="python")
    return render_language(src, "en", variants, "01 Introduction", settings, executor)


def structure(deck: bytes) -> list[list[str]]:
    """Per horizontal slide, per vertical slide: its text (without notes), squeezed."""
    soup = BeautifulSoup(deck.decode("utf-8"), "html.parser")
    for aside in soup.select("aside.notes"):
        aside.decompose()
    stacks = []
    for top in soup.select("div.slides > section"):
        inner = top.find_all("section", recursive=False) or [top]
        stacks.append([" ".join(s.get_text(" ").split()) for s in inner])
    return stacks


def test_outline_follows_the_slide_tags() -> None:
    def cell(kind, text="x"):
        c = new_markdown_cell(text)
        if kind:
            c.metadata["slideshow"] = {"slide_type": kind}
        return c

    cells = [
        cell(None, "before any tag"),
        cell("slide"),
        cell(None),
        cell("subslide"),
        cell("notes"),
        cell(None, "  "),
        new_code_cell(""),
        cell("subslide"),
        cell("slide"),
        cell(None),
    ]
    got = [[(s.cells, s.notes) for s in stack] for stack in outline(cells)]
    assert got == [
        [([0], [])],  # cells before the first slide tag open a slide of their own
        [([1, 2], []), ([3], [4]), ([7], [])],  # blank cells 5 and 6 are left out
        [([8, 9], [])],
    ]


def test_decks_come_from_the_html_execution(executor, settings) -> None:
    variants = variants_for("en") + slide_variants()
    result = render(executor, settings, DECK, variants)
    assert [p for p in result.problems if p.is_error] == []
    # The code cell tagged notes makes completed and speaker run apart (as for the HTML
    # pages alone); the decks add no execution of their own.
    assert result.executions == 2
    assert (
        render(
            executor, settings, DECK.replace('tags=["notes"]\nprint', "\nprint"), variants
        ).executions
        == 1
    )
    out = {v.label: b for v, b in result.outputs.items()}
    speaker, completed = out["en/speaker/slides"], out["en/completed/slides"]

    stacks = structure(speaker)
    assert len(stacks) == 3 and [len(s) for s in stacks] == [1, 2, 1]
    title, (first, below), (second,) = stacks
    assert "Introduction" in title[0]
    assert "First slide" in first and "clx-stdout-ok" in first
    assert "Below the first" in below and "clx-table-cell" in below
    assert "clx-continues" in below
    assert "Second slide" in second

    soup = BeautifulSoup(speaker.decode(), "html.parser")
    notes = [" ".join(a.get_text(" ").split()) for a in soup.select("aside.notes")]
    assert notes == ["Say clx-note-one here.", 'print("clx-code-note") clx-code-note']
    assert "yellow" not in str(soup.select("aside.notes"))  # the HTML page's marker box
    assert soup.select_one("svg rect#clx-svg") is not None
    assert soup.select_one('img[src="img/flow.png"]') is not None
    pixel = soup.select_one('img[src^="data:image/png;base64,"]')
    assert pixel is not None and PIXEL in pixel["src"]
    error = soup.select_one("pre.clx-error")
    assert error is not None and "ZeroDivisionError" in error.get_text()
    assert "\x1b[" not in speaker.decode()  # colour codes of the traceback are gone
    assert "$a^2 + b^2 = c^2$" in speaker.decode()  # left for MathJax
    code = soup.select_one("pre code.language-python")
    assert code is not None and 'print("clx-stdout-" + "ok")' in code.get_text()

    # the completed deck: the same slides, no notes anywhere
    assert structure(completed) == [[title[0]], [first, below], [second]]
    assert "clx-note-one" not in completed.decode()
    assert "clx-code-note" not in completed.decode()
    assert 'class="notes"' not in completed.decode()

    # every page and deck links its assets relatively; nothing from the network
    for tag in soup.select("script[src], link[href]"):
        url = tag.get("src") or tag.get("href")
        assert url.startswith("clx-assets/"), url
    assert "http" not in "".join(str(t) for t in soup.select("script[src], link[href]"))

    again = render(executor, settings, DECK, slide_variants())
    assert {v.label: b for v, b in again.outputs.items()} == {
        k: v for k, v in out.items() if k.endswith("/slides")
    }


def test_no_code_along_deck_and_no_deck_without_html() -> None:
    labels = {v.label for v in variants_for("de", slides=True)}
    assert {"de/completed/slides", "de/speaker/slides"} <= labels
    assert "de/code-along/slides" not in labels
    assert not any(v.format is Format.SLIDES for v in variants_for("de", html=False, slides=True))
    assert not any(v.format is Format.SLIDES for v in variants_for("de"))  # opt-in
