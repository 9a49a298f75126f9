"""Writers for the three output formats (docs/course-reference.md#output-formats).

All writers return bytes with LF line endings and no timestamps, so identical input
gives identical files. The HTML exporter is expensive to create (0.1-0.35 s) and is
therefore made once per process and shared.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jupytext
import nbformat
from jupytext.config import JupytextConfiguration
from nbformat import NotebookNode
from nbformat.v4 import nbjson

from clx.course.languages import LANGUAGES

NBFORMAT_MINOR = 5  # cell ids
PAGE_TEMPLATES = Path(__file__).parent / "page"  # clx_page.html.j2
# Pages link their scripts relative to themselves; a page in the tree root finds them here.
DEFAULT_ASSETS_HREF = "clx-assets"


def notebook_node(cells: Sequence[NotebookNode], prog_lang: str) -> NotebookNode:
    """A notebook whose metadata is exactly ``kernelspec`` and ``language_info``."""
    lang = LANGUAGES[prog_lang]
    metadata: dict[str, Any] = {
        "kernelspec": lang.kernelspec,
        "language_info": _plain(dict(lang.language_info)),
    }
    return nbformat.from_dict(
        {
            "cells": list(cells),
            "metadata": metadata,
            "nbformat": 4,
            "nbformat_minor": NBFORMAT_MINOR,
        }
    )


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def write_ipynb(nb: NotebookNode) -> bytes:
    """JSON with sorted keys, one-space indent, UTF-8 unescaped, final newline.

    nbformat's own writer without its schema validation (5 ms a file); the tests
    validate what this produces.
    """
    text = nbjson.writes(nb)
    if not text.endswith("\n"):
        text += "\n"
    return text.encode("utf-8")


_CODE_CONFIG = JupytextConfiguration(notebook_metadata_filter="-all", cell_metadata_filter="-all")


def write_code(nb: NotebookNode, prog_lang: str) -> bytes:
    """Percent script without any metadata."""
    text = jupytext.writes(nb, fmt=LANGUAGES[prog_lang].jupytext_format, config=_CODE_CONFIG)
    if not text.endswith("\n"):
        text += "\n"
    return text.encode("utf-8")


def _classic_exporter() -> Any:
    """nbconvert's ``HTMLExporter("classic")`` with three costs removed, output unchanged.

    * It validated the whole notebook against the schema after every preprocessor (8 ms
      a page). clx builds these notebooks itself and its tests validate them.
    * The three pages of one language share most cells, and two filters are pure
      functions of their input, so their results are remembered: ``clean_html`` (bleach
      over every cell's highlighted source and rendered markdown) and ``highlight_code``
      (pygments, which also rebuilt its formatter's whole stylesheet for every cell).
    Together they took more than half of an export.
    """
    from nbconvert import HTMLExporter  # 0.15 s import: only when HTML is wanted
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.strings import clean_html

    remembered_clean_html = functools.lru_cache(maxsize=4096)(clean_html)

    class RememberedHighlight:
        """``highlight_code`` for the notebook being exported (its lexer is set per page)."""

        def __init__(self) -> None:
            self.lexer: str | None = None
            self._highlighters: dict[str | None, Any] = {}
            self._done: dict[tuple[Any, ...], str] = {}

        def __call__(self, source: str, language: str | None = None, metadata: Any = None) -> str:
            magics = metadata.get("magics_language") if metadata else None
            key = (source, language, self.lexer, magics)
            if key not in self._done:
                if len(self._done) >= 4096:
                    self._done.clear()
                highlighter = self._highlighters.get(self.lexer)
                if highlighter is None:
                    highlighter = Highlight2HTML(pygments_lexer=self.lexer, parent=exporter)
                    self._highlighters[self.lexer] = highlighter
                self._done[key] = highlighter(source, language, metadata)
            return self._done[key]

    highlight = RememberedHighlight()

    class ClassicExporter(HTMLExporter):  # type: ignore[misc]
        def _validate_preprocessor(self, nbc: NotebookNode, preprocessor: Any) -> None:
            pass

        def default_filters(self) -> Any:
            yield from super().default_filters()
            yield ("clean_html", remembered_clean_html)  # the last one of a name wins

        def from_notebook_node(self, nb: NotebookNode, *args: Any, **kw: Any) -> Any:
            # The lexer nbconvert itself would pick for this notebook.
            info = nb.metadata.get("language_info", {})
            highlight.lexer = info.get("pygments_lexer", info.get("name"))
            return super().from_notebook_node(nb, *args, **kw)

    # A configured highlight_code filter takes the place of nbconvert's per-page one.
    # clx_page.html.j2 extends the classic page: scripts from the tree's assets folder.
    exporter = ClassicExporter(
        template_name="classic",
        template_file="clx_page.html.j2",
        extra_template_paths=[str(PAGE_TEMPLATES)],
        filters={"highlight_code": highlight},
    )
    return exporter


class _HtmlExport:
    """One ``HTMLExporter("classic")`` per process, used under a lock (it is not
    documented as thread-safe, and the benchmark renders from two threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._exporter: Any = None

    def __call__(
        self, nb: NotebookNode, page_title: str, assets_href: str = DEFAULT_ASSETS_HREF
    ) -> bytes:
        """``assets_href``: the output tree's assets folder as a URL relative to the page."""
        with self._lock:
            if self._exporter is None:
                self._exporter = _classic_exporter()
            html, _ = self._exporter.from_notebook_node(
                nb, resources={"metadata": {"name": page_title}, "clx_assets": assets_href}
            )
        return html.replace("\r\n", "\n").encode("utf-8")


write_html = _HtmlExport()


def warm_html() -> None:
    """Make the exporter and export one small page now.

    A process's first page otherwise pays for creating the exporter, importing nbconvert
    and BeautifulSoup, loading the templates and compiling the CSS selectors nbconvert's
    post-pass uses: about 1 s, on the critical path of every worker's first job.
    """
    from nbformat.v4 import new_code_cell, new_markdown_cell

    page = notebook_node([new_markdown_cell("# warm-up"), new_code_cell("x = 1")], "python")
    write_html(page, "warm-up")
