"""clx's HTML export is nbconvert's classic export (with clx's page template, which
loads the scripts from the tree's assets folder), byte for byte, however often it runs.

The exporter skips nbconvert's per-preprocessor validation and remembers highlighted and
sanitised cells across pages; these tests hold it to the plain exporter's output.
"""

from __future__ import annotations

import nbformat
from nbconvert import HTMLExporter
from nbformat.v4 import new_code_cell, new_markdown_cell, new_output

from clx.notebooks.formats import (
    DEFAULT_ASSETS_HREF,
    PAGE_TEMPLATES,
    notebook_node,
    write_html,
)


def plain_export(nb, title: str) -> bytes:
    exporter = HTMLExporter(
        template_name="classic",
        template_file="clx_page.html.j2",
        extra_template_paths=[str(PAGE_TEMPLATES)],
    )
    html, _ = exporter.from_notebook_node(
        nb, resources={"metadata": {"name": title}, "clx_assets": DEFAULT_ASSETS_HREF}
    )
    return html.replace("\r\n", "\n").encode("utf-8")


def page(prog_lang: str, code: str, extra_markdown: str = "") -> nbformat.NotebookNode:
    cells = [
        new_markdown_cell(f"# Titel\n\nText mit **fett**, `code` und <b>html</b>.{extra_markdown}"),
        new_code_cell(code, outputs=[new_output("stream", name="stdout", text="42\n")],
                      execution_count=1),
        new_code_cell(
            code + "\n",
            outputs=[
                new_output("execute_result", data={"text/html": "<table><tr><td>1</td></tr>"
                                                                "</table><script>x()</script>",
                                                   "text/plain": "t"}, execution_count=2),
                new_output("display_data", data={"image/svg+xml": "<svg><circle r='1'/></svg>"}),
            ],
            execution_count=2,
        ),
        new_code_cell("echo hi"),
        new_code_cell("echo hi", metadata={"magics_language": "bash"}),
        new_markdown_cell('<img src="img/flow.png">'),
    ]
    return notebook_node(cells, prog_lang)


def test_pages_match_nbconvert_including_repeats_and_other_languages() -> None:
    pages = [
        (page("python", "def f(x):\n    return x * 2  # Kommentar äöü"), "01 Erste"),
        (page("python", "def f(x):\n    return x * 2  # Kommentar äöü", " Anders."), "01 Zweite"),
        (page("cpp", "int f(int x) { return x * 2; }"), "02 Cpp"),
        (page("python", "def f(x):\n    return x * 2  # Kommentar äöü"), "01 Erste"),
        (page("java", "int f(int x) { return x * 2; }"), "03 Java"),
        (page("cpp", "def f(x):\n    return x * 2  # Kommentar äöü"), "04 Same source, C++"),
    ]
    # A notebook from elsewhere highlighted as IPython, where cell magics pick the lexer.
    ipython = page("python", "x = 1")
    ipython.metadata.language_info["pygments_lexer"] = "ipython3"
    pages.append((ipython, "05 IPython"))
    for nb, title in pages:
        assert write_html(nb, title) == plain_export(nb, title), title
