"""Writers for the three output formats (course-format.md 9.1-9.4).

All writers return bytes with LF line endings and no timestamps, so identical input
gives identical files. The HTML exporter is expensive to create (0.1-0.35 s) and is
therefore made once per process and shared.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import jupytext
import nbformat
from jupytext.config import JupytextConfiguration
from nbformat import NotebookNode
from nbformat.v4 import nbjson

from clx.course.languages import LANGUAGES

NBFORMAT_MINOR = 5  # cell ids


def notebook_node(cells: Sequence[NotebookNode], prog_lang: str) -> NotebookNode:
    """A notebook whose metadata is exactly ``kernelspec`` and ``language_info`` (9.2)."""
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
    """Percent script without any metadata (9.3)."""
    text = jupytext.writes(nb, fmt=LANGUAGES[prog_lang].jupytext_format, config=_CODE_CONFIG)
    if not text.endswith("\n"):
        text += "\n"
    return text.encode("utf-8")


class _HtmlExport:
    """One ``HTMLExporter("classic")`` per process, used under a lock (it is not
    documented as thread-safe, and the benchmark renders from two threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._exporter: Any = None

    def __call__(self, nb: NotebookNode, page_title: str) -> bytes:
        with self._lock:
            if self._exporter is None:
                from nbconvert import HTMLExporter  # 0.15 s import: only when HTML is wanted

                self._exporter = HTMLExporter(template_name="classic")
            html, _ = self._exporter.from_notebook_node(
                nb, resources={"metadata": {"name": page_title}}
            )
        return html.replace("\r\n", "\n").encode("utf-8")


write_html = _HtmlExport()
