"""Programming languages as one table: every per-language fact lives in a row here.

Adding a language means adding a row (and tests); nothing else in clx branches on
language names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any


@dataclass(frozen=True)
class ProgLang:
    id: str
    suffix: str
    comment: str
    jupytext_format: str
    kernel_name: str
    kernel_display_name: str
    code_folder: str
    language_info: MappingProxyType[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    # Seconds of IOPub quiet to wait for after the last cell (and a kernel_info barrier):
    # Deno's kernel sometimes publishes a cell's result after its idle status
    # (clx.notebooks.execution).
    output_grace: float = 0.0

    @property
    def jinja_prefix(self) -> str:
        return f"{self.comment} j2"

    @property
    def kernelspec(self) -> dict[str, str]:
        return {
            "display_name": self.kernel_display_name,
            "language": self.language_info["name"],
            "name": self.kernel_name,
        }


def _ro(d: dict[str, Any]) -> MappingProxyType[str, Any]:
    return MappingProxyType(d)


LANGUAGES: dict[str, ProgLang] = {
    lang.id: lang
    for lang in (
        ProgLang(
            "python", ".py", "#", "py:percent", "python3", "Python 3 (ipykernel)", "Python",
            _ro({
                "name": "python", "file_extension": ".py", "mimetype": "text/x-python",
                "codemirror_mode": {"name": "ipython", "version": 3},
                "pygments_lexer": "ipython3", "nbconvert_exporter": "python",
            }),
        ),
        ProgLang(
            "cpp", ".cpp", "//", "cpp:percent", "xcpp17", "C++17", "Cpp",
            _ro({
                "name": "c++", "file_extension": ".cpp", "mimetype": "text/x-c++src",
                "codemirror_mode": "text/x-c++src", "version": "17",
            }),
        ),
        ProgLang(
            "csharp", ".cs", "//", "cs:percent", ".net-csharp", ".NET (C#)", "CSharp",
            _ro({
                "name": "C#", "file_extension": ".cs", "mimetype": "text/x-csharp",
                "pygments_lexer": "csharp",
            }),
        ),
        ProgLang(
            "java", ".java", "//", "java:percent", "java", "Java", "Java",
            _ro({
                "name": "Java", "file_extension": ".java", "mimetype": "text/java",
                "codemirror_mode": "java", "pygments_lexer": "java",
            }),
        ),
        ProgLang(
            "typescript", ".ts", "//", "ts:percent", "deno", "Deno", "TypeScript",
            _ro({
                "name": "typescript", "file_extension": ".ts", "mimetype": "text/typescript",
                "codemirror_mode": "typescript", "pygments_lexer": "typescript",
            }),
            output_grace=0.03,
        ),
        ProgLang(
            "rust", ".rs", "//", "rs:percent", "rust", "Rust", "Rust",
            _ro({
                "name": "Rust", "file_extension": ".rs", "mimetype": "text/rust",
                "codemirror_mode": "rust", "pygments_lexer": "rust",
            }),
        ),
    )
}

BY_SUFFIX: dict[str, ProgLang] = {lang.suffix: lang for lang in LANGUAGES.values()}


def language_for_suffix(suffix: str) -> ProgLang | None:
    """The notebook language of a file suffix (case-sensitive), or None."""
    return BY_SUFFIX.get(suffix)
