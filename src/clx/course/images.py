"""Images a notebook's Markdown points to that do not exist: one warning each, with the line.

A broken ``<img src>`` or ``![alt](path)`` is silent in the browser (an empty box), so the
planner checks every relative image path of the Markdown cells against the source tree
and the diagram renders it will produce. URLs (``http:``, ``data:`` …), absolute paths and
paths with Jinja expressions are not checked.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

_IMG_TAG = re.compile(r"""<img\b[^>]*?\bsrc\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE)
_MD_IMAGE = re.compile(r"!\[[^\]]*\]\(\s*(?:<([^>]*)>|([^)\s]+))")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def image_refs(text: str, comment: str) -> Iterator[tuple[int, str]]:
    """(1-based line, src) of every image in the Markdown cells of a percent-format source."""
    marker = re.compile(rf"^\s*{re.escape(comment)}\s*%%(.*)$")
    in_markdown = False
    for number, line in enumerate(text.splitlines(), start=1):
        m = marker.match(line)
        if m:
            in_markdown = "[markdown]" in m.group(1)
            continue
        if not in_markdown:
            continue
        for found in _IMG_TAG.finditer(line):
            yield number, found.group(1) if found.group(1) is not None else found.group(2)
        for found in _MD_IMAGE.finditer(line):
            yield number, found.group(1) if found.group(1) is not None else found.group(2)


def checkable(src: str) -> bool:
    src = src.strip()
    return bool(src) and not (
        _SCHEME.match(src) or src.startswith(("/", "#")) or "{{" in src or "{%" in src
    )


def missing_images(
    notebook: Path, text: str, comment: str, produced: set[Path]
) -> list[tuple[int, str]]:
    """Images that neither exist beside ``notebook`` nor are in ``produced`` (renders)."""
    out = []
    for line, src in image_refs(text, comment):
        if not checkable(src):
            continue
        path = unquote(src.strip().split("#", 1)[0].split("?", 1)[0])
        target = Path(notebook.parent, path)
        if not target.exists() and target.resolve() not in produced:
            out.append((line, src))
    return out
