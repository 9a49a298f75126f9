"""What a renderer hands back, and how it reports a broken diagram.

Renderers do not know the diagram's file name; they report the line (and column) in
the text they were given, and the job glue adds the file and the render target.
"""

from __future__ import annotations

from dataclasses import dataclass

from clx.problems import ContentError, Problem, Severity


@dataclass(frozen=True)
class Rendered:
    data: bytes
    warnings: tuple[Problem, ...] = ()


def content_error(
    message: str, *, line: int | None = None, detail: str | None = None
) -> ContentError:
    """A ContentError whose single Problem carries the line; the caller fills in the file."""
    return ContentError(message, [Problem(message=message, line=line, detail=detail)])


def warning(message: str, *, line: int | None = None) -> Problem:
    return Problem(message=message, line=line, severity=Severity.WARNING)
