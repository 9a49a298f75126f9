"""Parse expanded text into cells that know their source lines and carry stable ids.

Parse the percent format with Jupytext, drop empty markdown cells, assign SHA3-224 ids
(docs/course-reference.md#notebook-sources and #cell-ids). Each cell also keeps the source
line of its marker and of every body line, so that tag warnings and cell errors can name
a line of the file the author edits (docs/course-reference.md#errors-and-warnings).
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from typing import Any

import jupytext
from jupytext.formats import get_format_implementation, long_form_one_format
from jupytext.header import header_to_metadata_and_cell
from jupytext.languages import default_language_from_metadata_and_ext, set_main_and_cell_language
from nbformat import NotebookNode, from_dict

from clx.notebooks.templating import Expanded

# Keys Jupytext adds to record the text layout; they are not the author's metadata.
_LAYOUT_KEYS = frozenset(
    {"lines_to_next_cell", "lines_to_end_of_cell_marker", "cell_marker", "region_name"}
)


@dataclass(frozen=True)
class SourceCell:
    """One parsed cell (before any kind-specific processing)."""

    cell_type: str  # "code", "markdown" or "raw"
    source: str
    metadata: dict[str, Any]
    id: str
    position: int  # index after dropping empty markdown cells
    line: int  # source line of the cell marker (or of the first line without marker)
    body_lines: tuple[int, ...]  # source line of each line of the cell body

    def body_line(self, offset: int) -> int:
        """Source line of the cell's ``offset``-th line (1-based), else the marker line."""
        if 1 <= offset <= len(self.body_lines):
            return self.body_lines[offset - 1]
        return self.line

    @property
    def tags(self) -> list[str]:
        tags = self.metadata.get("tags", [])
        if isinstance(tags, str):
            return [tags]
        if isinstance(tags, list):
            return [t for t in tags if isinstance(t, str)]
        return []


class ParseError(Exception):
    """The expanded text is not a readable percent-format notebook."""


def parse_cells(expanded: Expanded, jupytext_format: str) -> list[SourceCell]:
    """Cells of the expanded text; cached, because the HTML and notebook formats usually
    expand to the same text. Callers must not mutate the returned cells' metadata."""
    key = (jupytext_format, expanded.text, expanded.line_origins)
    with _CACHE_LOCK:
        cached = _CACHE.get(key)
    if cached is not None:
        return cached
    cells = _parse(expanded, jupytext_format)
    with _CACHE_LOCK:
        _CACHE[key] = cells
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
    return cells


_CACHE: dict[tuple[str, str, tuple[int, ...]], list[SourceCell]] = {}
_CACHE_SIZE = 16
_CACHE_LOCK = threading.Lock()


def _parse(expanded: Expanded, jupytext_format: str) -> list[SourceCell]:
    try:
        raw, spans = _read_with_spans(expanded.text, jupytext_format)
    except Exception:  # Jupytext internals changed (or odd input): use the public API
        try:
            raw = jupytext.reads(expanded.text, fmt=jupytext_format).cells
        except Exception as exc:  # jupytext raises many types for malformed input
            raise ParseError(f"{type(exc).__name__}: {exc}") from exc
        spans = _scan_markers(expanded.text.splitlines(), jupytext_format, len(raw))
    cells: list[SourceCell] = []
    seen: set[str] = set()
    for cell, (start, body_start, end) in zip(raw, spans, strict=True):
        if cell.cell_type == "markdown" and not cell.source.strip():
            continue  # step 4: empty markdown cells are dropped (the header call leaves one)
        position = len(cells)
        metadata = {k: v for k, v in cell.metadata.items() if k not in _LAYOUT_KEYS}
        cells.append(
            SourceCell(
                cell_type=cell.cell_type,
                source=cell.source,
                metadata=metadata,
                id=_unique_id(cell.source, position, seen),
                position=position,
                line=expanded.source_line(start),
                body_lines=tuple(expanded.source_line(i) for i in range(body_start, end)),
            )
        )
    return cells


@dataclass(frozen=True)
class RawCell:
    """A cell as Jupytext reads it, with its [start, end) line range of the text."""

    start: int
    end: int
    cell_type: str
    source: str
    metadata: dict[str, Any]


def raw_cells(text: str, jupytext_format: str) -> list[RawCell]:
    """Every cell Jupytext reads from ``text`` (empty ones too), by line range: where the
    engine's parser cuts cells, for those who must cut them alike (the cache key's view,
    clx.pipeline.language_view). Raises on text the exact reading loop cannot read."""
    raw, spans = _read_with_spans(text, jupytext_format)
    return [
        RawCell(start, end, cell.cell_type, cell.source, dict(cell.metadata))
        for cell, (start, _, end) in zip(raw, spans, strict=True)
    ]


def _unique_id(source: str, position: int, seen: set[str]) -> str:
    """Content hash; on a clash hash "<n>:<source>" with n counting up from the cell's
    position (0-based, after dropping empty markdown cells); docs/course-reference.md#cell-ids."""
    candidate = _hash(source)
    n = position
    while candidate in seen:
        candidate = _hash(f"{n}:{source}")
        n += 1
    seen.add(candidate)
    return candidate


def _hash(text: str) -> str:
    return hashlib.sha3_224(text.encode("utf-8")).hexdigest()[:16]


def _read_with_spans(
    text: str, jupytext_format: str
) -> tuple[list[NotebookNode], list[tuple[int, int, int]]]:
    """Jupytext's own reading loop (as in ``jupytext.reads``), keeping cell positions.

    Returns the cells and, per cell, (marker line, first body line, end) as 0-based
    line indices of ``text``. Replaying the loop instead of calling ``reads`` and then
    guessing positions gives exact lines even for marker-like lines inside strings,
    and reads the text once instead of twice.
    """
    lines = text.splitlines()
    fmt = long_form_one_format(jupytext_format)
    impl = get_format_implementation(fmt["extension"], fmt.get("format_name"))
    metadata, _, header_cell, pos = header_to_metadata_and_cell(
        lines, impl.header_prefix, impl.header_suffix, impl.extension, True
    )
    cells: list[NotebookNode] = []
    spans: list[tuple[int, int, int]] = []
    if header_cell:
        cells.append(header_cell)
        spans.append((0, 0, pos))
    default_language = default_language_from_metadata_and_ext(metadata, impl.extension)
    while pos < len(lines):
        reader = impl.cell_reader_class(fmt, default_language)
        cell, consumed = reader.read(lines[pos:])
        if consumed <= 0:
            raise ValueError("reader did not advance")
        has_marker = bool(
            reader.start_code_re.match(lines[pos])
            or reader.alternative_start_code_re.match(lines[pos])
        )
        cells.append(cell)
        spans.append((pos, pos + 1 if has_marker else pos, pos + consumed))
        pos += consumed
    set_main_and_cell_language(metadata, cells, impl.extension, ["", ""])
    return cells, spans


def _scan_markers(
    lines: list[str], jupytext_format: str, expected: int
) -> list[tuple[int, int, int]]:
    comment = "//" if not jupytext_format.startswith("py") else "#"
    starts = [i for i, line in enumerate(lines) if line.lstrip().startswith(f"{comment} %%")]
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
    starts = starts[-expected:] if expected else []
    while len(starts) < expected:
        starts.append(starts[-1] if starts else 0)
    ends = [*starts[1:], len(lines)]
    return [(s, s + 1, max(e, s + 1)) for s, e in zip(starts, ends, strict=True)]


def to_node(cell: SourceCell) -> NotebookNode:
    """A fresh nbformat cell for ``cell`` (kinds then change their own copy)."""
    node: dict[str, Any] = {
        "cell_type": cell.cell_type,
        "id": cell.id,
        "metadata": cell.metadata,
        "source": cell.source,
    }
    if cell.cell_type == "code":
        node["execution_count"] = None
        node["outputs"] = []
    return from_dict(node)  # converts (and so copies) nested dicts and lists
