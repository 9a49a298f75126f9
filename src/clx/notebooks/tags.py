"""The tag table (docs/course-reference.md#cells-in-each-output) in one place.

Every rule that depends on a tag or a kind lives here as data or in a small function,
so the golden tests of the 14 variants test this module and nothing else decides
which cell appears where.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from nbformat import NotebookNode

from clx.course.variants import LANGS, Kind
from clx.notebooks.cells import SourceCell, to_node

KNOWN_TAGS = frozenset(
    {"slide", "subslide", "notes", "del", "keep", "start", "alt", "answer", "raises-exception"}
)
# Tags that only make sense on one cell type (the "For" column of docs/course-reference.md#tags).
MEANT_FOR = {"keep": "code", "start": "code", "answer": "markdown", "raises-exception": "code"}
DELETED_BY: dict[Kind, frozenset[str]] = {
    Kind.CODE_ALONG: frozenset({"alt", "del", "notes"}),
    Kind.COMPLETED: frozenset({"del", "notes", "start"}),
    Kind.SPEAKER: frozenset({"del", "start"}),
}
# Code cells keep their code in code-along only with one of these tags.
KEPT_IN_CODE_ALONG = frozenset({"keep", "start"})
# Priority order of the slide tags: docs/course-reference.md#slide-metadata
SLIDE_TAGS = ("slide", "subslide", "notes")
ANSWER_PREFIX = {"de": "*Antwort:* ", "en": "*Answer:* "}
PRIVATE_MESSAGE = (
    "tag 'private' is not supported; the cell appears in public outputs (use 'notes' or 'del')"
)


@dataclass(frozen=True)
class CellWarning:
    line: int
    message: str


def check_cell(cell: SourceCell) -> list[CellWarning]:
    """Warnings for one source cell (tags, slide tags, lang, raw cells); reported once each."""
    found: list[CellWarning] = []
    kind_name = f"{cell.cell_type} cell"
    raw_tags = cell.metadata.get("tags", [])
    if not isinstance(raw_tags, (list, str)):
        found.append(CellWarning(cell.line, f"tags on {kind_name} are not a list: {raw_tags!r}"))
    for tag in cell.tags:
        if tag == "private":
            found.append(CellWarning(cell.line, PRIVATE_MESSAGE))
        elif tag not in KNOWN_TAGS:
            found.append(CellWarning(cell.line, f"unknown tag '{tag}' on {kind_name}"))
        elif tag in MEANT_FOR and MEANT_FOR[tag] != cell.cell_type:
            found.append(
                CellWarning(
                    cell.line,
                    f"tag '{tag}' is meant for {MEANT_FOR[tag]} cells, not for a {kind_name}",
                )
            )
    slide_tags = [t for t in SLIDE_TAGS if t in cell.tags]
    if len(slide_tags) > 1:
        listed = ", ".join(f"'{t}'" for t in slide_tags)
        found.append(
            CellWarning(
                cell.line, f"several slide tags ({listed}) on one cell; '{slide_tags[0]}' is used"
            )
        )
    lang = cell.metadata.get("lang")
    if lang not in (None, "", *LANGS):
        found.append(
            CellWarning(
                cell.line,
                f"lang value {lang!r} is neither 'de' nor 'en'; the cell appears in no output",
            )
        )
    if cell.cell_type == "raw":
        found.append(CellWarning(cell.line, "raw cell: passed through unchanged"))
    return found


def in_language(cell: SourceCell, lang: str) -> bool:
    """Kept if ``lang`` is absent, empty or equal to the output language.

    See docs/course-reference.md#languages-of-a-cell.
    """
    value = cell.metadata.get("lang")
    return value in (None, "") or value == lang


def is_deleted(cell: SourceCell, kind: Kind) -> bool:
    return not DELETED_BY[kind].isdisjoint(cell.tags)


def kind_cells(
    cells: Iterable[SourceCell], lang: str, kind: Kind
) -> list[tuple[SourceCell, NotebookNode]]:
    """For one output language and kind: filter, slide metadata, contents.

    Returns the surviving source cells with their processed nbformat cells, in order.
    """
    result: list[tuple[SourceCell, NotebookNode]] = []
    for cell in cells:
        if not in_language(cell, lang) or is_deleted(cell, kind):
            continue
        node = to_node(cell)
        _set_slide_type(node, cell.tags)
        _decorate(node, cell.tags, lang, kind)
        result.append((cell, node))
    return result


def _set_slide_type(node: NotebookNode, tags: list[str]) -> None:
    for tag in SLIDE_TAGS:
        if tag in tags:
            node.metadata["slideshow"] = {"slide_type": tag}
            return


def _decorate(node: NotebookNode, tags: list[str], lang: str, kind: Kind) -> None:
    if node.cell_type == "code":
        if kind is Kind.CODE_ALONG and KEPT_IN_CODE_ALONG.isdisjoint(tags):
            node.source = ""
            node.outputs = []
        return
    if node.cell_type != "markdown":
        return  # raw cells pass through unchanged
    if "answer" in tags:
        text = "" if kind is Kind.CODE_ALONG else node.source
        node.source = ANSWER_PREFIX[lang] + text
    if "notes" in tags and kind is Kind.SPEAKER:
        node.source = f"<div style='background:yellow'>\n{node.source}\n</div>"


def has_code_notes(cells: Iterable[SourceCell], lang: str) -> bool:
    """True if a code cell of this language is tagged ``notes`` (and not deleted anyway).

    Only without such a cell may completed HTML be derived from the executed speaker
    notebook: a speaker-only code cell could change what later cells compute.
    """
    return any(
        c.cell_type == "code"
        and "notes" in c.tags
        and in_language(c, lang)
        and not is_deleted(c, Kind.SPEAKER)
        for c in cells
    )
