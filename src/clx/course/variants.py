"""Output variants: language × format × kind, with the table of which exist.

The variant table is data that the notebook engine, the layout and the build all
share, so it lives in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

LANGS: tuple[str, ...] = ("de", "en")


class Kind(StrEnum):
    CODE_ALONG = "code-along"
    COMPLETED = "completed"
    SPEAKER = "speaker"


class Format(StrEnum):
    HTML = "html"
    NOTEBOOK = "notebook"
    CODE = "code"
    SLIDES = "slides"  # reveal.js decks; opt-in (not in DEFAULT_FORMATS)


# The formats a build produces unless told otherwise (clx.toml ``formats``, ``--format``).
DEFAULT_FORMATS: tuple[Format, ...] = (Format.HTML, Format.NOTEBOOK, Format.CODE)


@dataclass(frozen=True, order=True)
class Variant:
    lang: str
    format: Format
    kind: Kind

    @property
    def label(self) -> str:
        """The user-facing name used in reports, e.g. ``de/completed/html``."""
        return f"{self.lang}/{self.kind}/{self.format}"

    @property
    def tier(self) -> str:
        return "speaker" if self.kind is Kind.SPEAKER else "public"

    @property
    def executed(self) -> bool:
        return self.format in (Format.HTML, Format.SLIDES) and self.kind is not Kind.CODE_ALONG

    @classmethod
    def parse(cls, label: str) -> Variant:
        lang, kind, fmt = label.split("/")
        return cls(lang, Format(fmt), Kind(kind))


# (format, kind) pairs produced per language, in the order of docs/course-reference.md#variants.
_PER_LANG: tuple[tuple[Format, Kind], ...] = (
    (Format.HTML, Kind.CODE_ALONG),
    (Format.HTML, Kind.COMPLETED),
    (Format.NOTEBOOK, Kind.CODE_ALONG),
    (Format.NOTEBOOK, Kind.COMPLETED),
    (Format.CODE, Kind.COMPLETED),
    (Format.HTML, Kind.SPEAKER),
    (Format.NOTEBOOK, Kind.SPEAKER),
)
# Decks are executed like HTML, so a topic without HTML has none; there is no
# code-along deck (a deck of empty code cells helps nobody present).
_SLIDES_PER_LANG: tuple[tuple[Format, Kind], ...] = (
    (Format.SLIDES, Kind.COMPLETED),
    (Format.SLIDES, Kind.SPEAKER),
)
_EXECUTED_FORMATS = (Format.HTML, Format.SLIDES)


def variants_for(lang: str, html: bool = True, slides: bool = False) -> list[Variant]:
    """The 7 variants of one language (4 without HTML), 9 with slides."""
    table = _PER_LANG + (_SLIDES_PER_LANG if slides else ())
    return [Variant(lang, f, k) for f, k in table if html or f not in _EXECUTED_FORMATS]


def all_variants(html: bool = True, slides: bool = False) -> list[Variant]:
    """The 14 variants of a notebook (8 with HTML switched off), 18 with slides."""
    return [v for lang in LANGS for v in variants_for(lang, html, slides)]
