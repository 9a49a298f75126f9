"""Classification of topic files and what a file topic pulls in
(docs/course-reference.md#the-files-of-a-topic)."""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import PurePosixPath

from clx.course.languages import ProgLang, language_for_suffix

PLANTUML_SUFFIXES = (".pu", ".puml", ".plantuml")
DRAWIO_SUFFIXES = (".drawio",)
_UNSUPPORTED_NOTEBOOK_SUFFIXES = (".c", ".md", ".rust")


class FileClass(StrEnum):
    PLANTUML = "plantuml"
    DRAWIO = "drawio"
    NOTEBOOK = "notebook"
    DATA = "data"


def classify(name: str) -> tuple[FileClass, str | None]:
    """The class of a file by its name, and a warning text if it looks like a bad notebook."""
    suffix = PurePosixPath(name).suffix
    if suffix in PLANTUML_SUFFIXES:
        return FileClass.PLANTUML, None
    if suffix in DRAWIO_SUFFIXES:
        return FileClass.DRAWIO, None
    if name.startswith(("slides_", "topic_")):
        if language_for_suffix(suffix) is not None:
            return FileClass.NOTEBOOK, None
        if suffix in _UNSUPPORTED_NOTEBOOK_SUFFIXES:
            return FileClass.DATA, (
                f"'{suffix}' is not a supported notebook language; copied as a data file"
            )
    return FileClass.DATA, None


def render_target(relpath: str) -> str:
    """Where a diagram's image lands, relative to the topic (docs/course-reference.md#diagrams)."""
    p = PurePosixPath(relpath)
    folder = p.parent
    if folder.name in ("pu", "puml", "plantuml", "drawio"):
        folder = folder.parent / "img"
    return (folder / (p.stem + ".png")).as_posix()


# --- file topics -------------------------------------------------------------------

_IMPORT = re.compile(r"^[ \t]*import[ \t]+(.+)$", re.MULTILINE)
_FROM = re.compile(r"^[ \t]*from[ \t]+([\w.]+)[ \t]+import\b", re.MULTILINE)
_IMG = re.compile(r"""<img\b[^>]*?\bsrc\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE)


def imported_modules(text: str) -> list[str]:
    """First components of imported module names, in order, without relative imports."""
    names: list[str] = []
    for m in _IMPORT.finditer(text):
        for part in m.group(1).split("#")[0].split(","):
            name = part.strip().split(" as ")[0].strip()
            if name and not name.startswith("."):
                names.append(name.split(".")[0])
    for m in _FROM.finditer(text):
        name = m.group(1)
        if not name.startswith("."):
            names.append(name.split(".")[0])
    seen: set[str] = set()
    return [n for n in names if n.isidentifier() and not (n in seen or seen.add(n))]


def image_sources(text: str) -> list[str]:
    """Relative ``<img src>`` paths in order; URLs and data URIs are skipped."""
    out: list[str] = []
    for m in _IMG.finditer(text):
        src = (m.group(1) if m.group(1) is not None else m.group(2)).strip()
        if not src or re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", src) or src.startswith(("/", "#")):
            continue
        src = PurePosixPath(src).as_posix()
        if ".." in PurePosixPath(src).parts:
            continue
        if src not in out:
            out.append(src)
    return out


def module_file_name(name: str, lang: ProgLang) -> str:
    return name + lang.suffix
