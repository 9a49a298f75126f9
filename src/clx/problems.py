"""Structured errors and warnings that cross process boundaries as plain JSON.

Every failure in clx ends up as a Problem so that the build report can name the
source file, the variant(s), the message and the source line, whatever part of the
system found it.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


# C0 controls but tab and newline, DEL and the C1 range: never raw on a terminal.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


def printable(text: str) -> str:
    """``text`` safe to print: colour codes dropped, other control bytes shown as ``\\xNN``.

    Messages quote source text and kernel output, which may hold anything (a binary file,
    escape sequences that retitle or clear the terminal).
    """
    text = strip_ansi(text).replace("\r\n", "\n")
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


class Category(StrEnum):
    """Who has to act: the author (content), the operator (configuration), or nobody (retry)."""

    CONTENT = "content"
    CONFIGURATION = "configuration"
    INFRASTRUCTURE = "infrastructure"


@dataclass(frozen=True)
class Problem:
    message: str
    file: str | None = None  # relative to the course root, '/'-separated
    line: int | None = None
    variants: tuple[str, ...] = field(default_factory=tuple)  # e.g. ("de/completed/html",)
    target: str | None = None  # for renders and copies: the target path
    severity: Severity = Severity.ERROR
    category: Category = Category.CONTENT
    detail: str | None = None  # excerpt, traceback tail, …
    # When ``file`` is shared by several notebooks (a course template): those that met it.
    sources: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        object.__setattr__(self, "message", printable(self.message))
        if self.detail is not None:
            object.__setattr__(self, "detail", printable(self.detail))

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["variants"] = list(self.variants)
        d["sources"] = list(self.sources)
        d["severity"] = str(self.severity)
        d["category"] = str(self.category)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Problem:
        return cls(
            message=d["message"],
            file=d.get("file"),
            line=d.get("line"),
            variants=tuple(d.get("variants") or ()),
            target=d.get("target"),
            severity=Severity(d.get("severity", "error")),
            category=Category(d.get("category", "content")),
            detail=d.get("detail"),
            sources=tuple(d.get("sources") or ()),
        )

    def format(self) -> str:
        """One line, ``error: file:line [variants]: message``.

        As docs/course-reference.md#errors-and-warnings shows it.
        """
        where = self.file or "<course>"
        if self.line is not None:
            where += f":{self.line}"
        if self.target:
            where += f" -> {self.target}"
        if self.variants:
            where += f" [{', '.join(self.variants)}]"
        return f"{self.severity}: {where}: {self.message}"

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR


class ClxError(Exception):
    """Base of clx's exceptions; carries the problems that explain it."""

    category = Category.CONTENT

    def __init__(self, message: str, problems: list[Problem] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


class ContentError(ClxError):
    """The author's input is wrong; retrying cannot help."""


class ConfigurationError(ClxError):
    """A tool or setting is missing; the operator has to act."""

    category = Category.CONFIGURATION


class InfrastructureError(ClxError):
    """A process died or timed out; another attempt may succeed."""

    category = Category.INFRASTRUCTURE
