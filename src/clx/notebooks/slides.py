"""reveal.js decks from executed notebooks (the opt-in ``slides`` format).

A deck is cut from the ``slideshow`` metadata the tag table sets: a ``slide`` cell
starts a horizontal slide, a ``subslide`` cell a vertical one below it, a ``notes`` cell
becomes speaker notes of the slide it is on (reveal.js shows them in its speaker view;
the completed deck never contains them, the tag table removes those cells), and every
other cell continues the current slide. Cells before the first slide tag open a first
slide of their own.

The deck is plain HTML that links reveal.js, its plugins and MathJax from the output
tree's assets folder (``NotebookSettings.assets_href``, copied there by
``clx.pipeline.assets``), so it needs no network and works from ``file://``. Code is
highlighted in the browser by reveal.js's highlight plugin, math typeset by MathJax;
this module writes no timestamps or random ids, so the same notebook gives the same bytes.
"""

from __future__ import annotations

import base64
import functools
import html
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from nbformat import NotebookNode

from clx.notebooks.cells import SourceCell

# reveal.js's highlight plugin names languages as highlight.js does; clx's ids match.
_HLJS = {
    "python": "python",
    "cpp": "cpp",
    "csharp": "csharp",
    "java": "java",
    "rust": "rust",
    "typescript": "typescript",
}
# Rich outputs, best first (as notebook front ends pick them).
_MIME_ORDER = (
    "text/html",
    "image/svg+xml",
    "image/png",
    "image/jpeg",
    "text/markdown",
    "text/latex",
    "text/plain",
)

# Slides scroll instead of being cut: reveal.js lays out a fixed 960x700 canvas and
# scales it, so a slide taller than that would be clipped. Every slide gets the full
# canvas height and its own scroll bar; code and outputs are sized for reading.
_STYLE = """\
.reveal { font-size: 28px; }
.reveal .slides { text-align: left; }
.reveal .slides section { height: 100%; overflow-y: auto; overflow-x: hidden;
  box-sizing: border-box; padding: 0 0.5em; }
.reveal .slides section.stack { overflow: visible; padding: 0; }
.reveal h1, .reveal h2, .reveal h3, .reveal h4 { text-transform: none; }
.reveal h1 { font-size: 1.8em; } .reveal h2 { font-size: 1.4em; }
.reveal h3 { font-size: 1.15em; }
.reveal pre { width: 100%; font-size: 0.62em; box-shadow: none; margin: 0.4em 0; }
.reveal pre code { max-height: none; }
.reveal pre.clx-output { background: #f7f7f7; color: #222; padding: 0.4em 0.6em;
  white-space: pre-wrap; border-left: 3px solid #ccc; }
.reveal pre.clx-error { background: #fdecea; border-left-color: #d9534f; }
.reveal .clx-output img, .reveal .clx-output svg { max-width: 100%; height: auto; }
.reveal .clx-output table { font-size: 0.6em; }
.reveal img { max-width: 100%; }
"""


@dataclass
class Slide:
    """One slide: indices of the notebook cells shown on it and of its notes cells."""

    cells: list[int] = field(default_factory=list)
    notes: list[int] = field(default_factory=list)


def slide_type(cell: NotebookNode) -> str | None:
    return (cell.get("metadata", {}).get("slideshow") or {}).get("slide_type")


def outline(cells: Sequence[NotebookNode]) -> list[list[Slide]]:
    """Horizontal slides, each a list of vertical slides (the first is the slide itself)."""
    stacks: list[list[Slide]] = []

    def current() -> Slide:
        if not stacks:
            stacks.append([Slide()])
        return stacks[-1][-1]

    for i, cell in enumerate(cells):
        if _blank(cell):
            continue
        kind = slide_type(cell)
        if kind == "slide":
            stacks.append([Slide()])
        elif kind == "subslide":
            if stacks:
                stacks[-1].append(Slide())
            else:
                stacks.append([Slide()])
        if kind == "notes":
            current().notes.append(i)
        else:
            current().cells.append(i)
    return stacks


def _blank(cell: NotebookNode) -> bool:
    return not cell.get("source", "").strip() and not cell.get("outputs")


@dataclass(frozen=True)
class DeckInfo:
    title: str  # the page title: the deck's file name without extension
    lang: str  # output language, for <html lang>
    prog_lang: str
    assets: str  # relative URL of the assets folder
    speaker: bool  # notes cells become speaker notes


def write_deck(nb: NotebookNode, origins: Sequence[SourceCell], info: DeckInfo) -> bytes:
    """The deck of an executed notebook; ``origins`` are the source cells of ``nb.cells``."""
    body = []
    for stack in outline(nb.cells):
        slides = [_slide(nb, origins, s, info) for s in stack]
        if len(slides) == 1:
            body.append(slides[0])
        else:
            body.append("<section>\n" + "\n".join(slides) + "\n</section>")
    a = html.escape(info.assets, quote=True)
    config = {
        "hash": True,
        "center": False,
        "slideNumber": "c/t",
        "transition": "none",
        "mathjax3": {
            "mathjax": f"{info.assets}/mathjax/tex-mml-chtml.js",
            "tex": {
                "inlineMath": [["$", "$"], ["\\(", "\\)"]],
                "displayMath": [["$$", "$$"], ["\\[", "\\]"]],
            },
        },
    }
    page = f"""<!DOCTYPE html>
<html lang="{html.escape(info.lang)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>{html.escape(info.title)}</title>
<link rel="stylesheet" href="{a}/reveal.js/reset.css">
<link rel="stylesheet" href="{a}/reveal.js/reveal.css">
<link rel="stylesheet" href="{a}/reveal.js/theme/white.css">
<link rel="stylesheet" href="{a}/reveal.js/plugin/highlight/monokai.css">
<style>
{_STYLE}</style>
</head>
<body>
<div class="reveal">
<div class="slides">
{chr(10).join(body)}
</div>
</div>
<script src="{a}/reveal.js/reveal.js"></script>
<script src="{a}/reveal.js/plugin/notes.js"></script>
<script src="{a}/reveal.js/plugin/highlight.js"></script>
<script src="{a}/reveal.js/plugin/math.js"></script>
<script>
Reveal.initialize(Object.assign({json.dumps(config, sort_keys=True)},
  {{plugins: [RevealNotes, RevealHighlight, RevealMath.MathJax3]}}));
</script>
</body>
</html>
"""
    return page.encode("utf-8")


def _slide(nb: NotebookNode, origins: Sequence[SourceCell], slide: Slide, info: DeckInfo) -> str:
    parts = [_cell(nb.cells[i], info) for i in slide.cells]
    if info.speaker and slide.notes:
        notes = [_notes_cell(nb.cells[i], origins[i], info) for i in slide.notes]
        parts.append('<aside class="notes">\n' + "\n".join(notes) + "\n</aside>")
    return "<section>\n" + "\n".join(p for p in parts if p) + "\n</section>"


def _notes_cell(cell: NotebookNode, origin: SourceCell, info: DeckInfo) -> str:
    if cell.cell_type == "markdown":
        # The speaker HTML page marks notes with a yellow box; in the notes view the
        # whole pane is notes, so the author's text is shown as written.
        return _markdown(origin.source)
    return _cell(cell, info)


def _cell(cell: NotebookNode, info: DeckInfo) -> str:
    if cell.cell_type == "markdown":
        return _markdown(cell.source)
    if cell.cell_type == "code":
        parts = []
        if cell.source.strip():
            language = _HLJS.get(info.prog_lang, "plaintext")
            parts.append(
                f'<pre><code class="language-{language}" data-noescape>'
                f"{html.escape(cell.source, quote=False)}</code></pre>"
            )
        parts += [_output(o) for o in cell.get("outputs", [])]
        return "\n".join(p for p in parts if p)
    if cell.cell_type == "raw" and cell.get("metadata", {}).get("raw_mimetype") == "text/html":
        return cell.source
    return ""


def _output(out: NotebookNode) -> str:
    kind = out.get("output_type")
    if kind == "stream":
        name = "stderr" if out.get("name") == "stderr" else "stdout"
        return _pre(_text(out.get("text", "")), f"clx-output clx-{name}")
    if kind == "error":
        return _pre(
            "\n".join(out.get("traceback") or [f"{out.get('ename')}: {out.get('evalue')}"]),
            "clx-output clx-error",
        )
    if kind not in ("execute_result", "display_data"):
        return ""
    data = out.get("data", {})
    for mime in _MIME_ORDER:
        if mime in data:
            return _rich(mime, data[mime])
    return ""


def _rich(mime: str, value: Any) -> str:
    text = _text(value)
    if mime == "text/html":
        return f'<div class="clx-output">\n{text}\n</div>'
    if mime == "image/svg+xml":
        return f'<div class="clx-output">\n{text}\n</div>'
    if mime in ("image/png", "image/jpeg"):
        b64 = "".join(text.split())
        base64.b64decode(b64, validate=True)  # a broken image is an error, not a blank
        return f'<div class="clx-output"><img src="data:{mime};base64,{b64}" alt=""></div>'
    if mime == "text/markdown":
        return f'<div class="clx-output">\n{_markdown(text)}\n</div>'
    if mime == "text/latex":
        return f'<div class="clx-output">{html.escape(text, quote=False)}</div>'
    return _pre(text, "clx-output")


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def _pre(text: str, cls: str) -> str:
    from nbconvert.filters.ansi import strip_ansi

    return f'<pre class="{cls}">{html.escape(strip_ansi(text), quote=False)}</pre>'


@functools.lru_cache(maxsize=4096)
def _markdown(source: str) -> str:
    """Markdown as the HTML pages render it (mistune with math kept for MathJax), without
    the pages' heading anchor links: in a deck the URL hash belongs to reveal.js."""
    from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath

    renderer = IPythonRenderer(escape=False, exclude_anchor_links=True)
    return MarkdownWithMath(renderer=renderer).render(source).strip()
