"""The course spec: XML → CourseSpec, collecting every error and warning with its line.

Validation collects all problems before failing (like a schema with error lists), so
an author fixes a broken spec in one round instead of one error per run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from clx.course.languages import LANGUAGES
from clx.course.naming import sanitize
from clx.course.xmltree import Node, XmlSyntaxError, parse_xml
from clx.problems import Category, Problem, Severity


@dataclass(frozen=True)
class Bilingual:
    de: str
    en: str

    def __getitem__(self, lang: str) -> str:
        return self.de if lang == "de" else self.en

    @classmethod
    def same(cls, text: str) -> Bilingual:
        return cls(text, text)


@dataclass(frozen=True)
class TopicRef:
    id: str
    html: bool
    line: int
    # <topic evaluate="no">: completed/speaker HTML exported without executing;
    # <topic skip-errors="yes">: failing cells are warnings and keep their error output.
    evaluate: bool = True
    skip_errors: bool = False


@dataclass(frozen=True)
class SectionSpec:
    name: Bilingual  # sanitised
    topics: tuple[TopicRef, ...]
    line: int
    title: Bilingual | None = None  # as written in the spec (trimmed), for --section


@dataclass(frozen=True)
class DirGroupSpec:
    name: Bilingual  # may be empty: the course directory itself
    path: str  # relative to the course root, '/'-separated
    subdirs: tuple[str, ...] | None
    line: int


@dataclass(frozen=True)
class CourseSpec:
    file: str  # the spec's path relative to the course root (for messages)
    name: Bilingual  # sanitised
    prog_lang: str
    author: Bilingual
    organization: Bilingual
    sections: tuple[SectionSpec, ...]
    dir_groups: tuple[DirGroupSpec, ...]
    description: Bilingual = Bilingual("", "")  # shown on the course home page


class SpecError(Exception):
    """The spec is invalid; nothing is built. ``problems`` holds every error found."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(p.format() for p in problems))
        self.problems = problems


_COURSE_CHILDREN = {
    "name", "prog-lang", "author", "organization", "description", "certificate", "github",
    "sections", "dir-groups",
}
_HTML_OFF = {"false", "no", "0"}


class _Reader:
    def __init__(self, file: str) -> None:
        self.file = file
        self.errors: list[Problem] = []
        self.warnings: list[Problem] = []

    def error(self, node_or_line: Node | int, message: str) -> None:
        line = node_or_line if isinstance(node_or_line, int) else node_or_line.line
        self.errors.append(
            Problem(message, file=self.file, line=line, category=Category.CONFIGURATION)
        )

    def warn(self, node: Node, message: str) -> None:
        self.warnings.append(
            Problem(message, file=self.file, line=node.line, severity=Severity.WARNING)
        )

    def unknown_children(self, node: Node, allowed: set[str]) -> None:
        for c in node.children:
            if c.tag not in allowed:
                self.warn(c, f"unknown element <{c.tag}> in <{node.tag}> ignored")

    def bilingual(self, node: Node, *, text_allowed: bool) -> Bilingual | None:
        if not node.children:
            if text_allowed:
                return Bilingual.same(node.text.strip())
            self.error(node, f"<{node.tag}> needs the children <de> and <en>")
            return None
        ok = True
        for c in node.children:
            if c.tag not in ("de", "en"):
                self.error(
                    c, f"<{node.tag}> has a language child <{c.tag}>; only <de> and <en> exist"
                )
                ok = False
        de, en = node.find("de"), node.find("en")
        for lang, child in (("de", de), ("en", en)):
            if child is None:
                self.error(node, f"<{node.tag}> is missing its <{lang}> child")
                ok = False
        if not ok or de is None or en is None:
            return None
        return Bilingual(de.all_text.strip(), en.all_text.strip())

    def safe_relpath(self, node: Node, value: str, what: str) -> str | None:
        p = PurePosixPath(value.replace("\\", "/"))
        if p.is_absolute() or (len(value) > 1 and value[1] == ":"):
            self.error(node, f"{what} '{value}' is absolute; it must be relative to the root")
            return None
        if ".." in p.parts:
            self.error(node, f"{what} '{value}' leaves the course root ('..')")
            return None
        return p.as_posix() if value else ""


def load_spec(path: Path, course_root: Path) -> tuple[CourseSpec, list[Problem]]:
    """Parse a spec file. Returns the spec and its warnings; raises SpecError on errors."""
    try:
        rel = path.resolve().relative_to(course_root.resolve()).as_posix()
    except ValueError:
        rel = str(path)
    r = _Reader(rel)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise SpecError([Problem(f"cannot read spec: {e.strerror}", file=rel)]) from None
    try:
        root = parse_xml(data)
    except XmlSyntaxError as e:
        r.error(e.line, f"{e} (line {e.line}, column {e.column})")
        raise SpecError(r.errors) from None
    spec = _read_course(r, root)
    if r.errors or spec is None:
        raise SpecError(r.errors)
    return spec, r.warnings


def _read_course(r: _Reader, root: Node) -> CourseSpec | None:
    if root.tag != "course":
        r.error(root, f"root element is <{root.tag}>, expected <course>")
        return None
    r.unknown_children(root, _COURSE_CHILDREN)

    name = _folder_name(r, root, "missing required element <name>", "course name")

    prog_lang = ""
    pl = root.find("prog-lang")
    if pl is None:
        r.error(root, "missing required element <prog-lang>")
    else:
        prog_lang = pl.text.strip()
        if prog_lang not in LANGUAGES:
            r.error(pl, f"<prog-lang> '{prog_lang}' is not one of {', '.join(LANGUAGES)}")

    author = organization = Bilingual("", "")
    for tag in ("author", "organization"):
        node = root.find(tag)
        if node is not None:
            value = r.bilingual(node, text_allowed=True)
            if value is not None:
                if tag == "author":
                    author = value
                else:
                    organization = value
    description = Bilingual("", "")
    node = root.find("description")
    if node is not None:
        description = r.bilingual(node, text_allowed=True) or description
    for tag in ("certificate", "github"):
        node = root.find(tag)
        if node is not None and node.children:
            r.bilingual(node, text_allowed=True)

    sections = _read_sections(r, root)
    dir_groups = tuple(
        g for node in root.iter("dir-group") if (g := _read_dir_group(r, node)) is not None
    )
    if name is None or r.errors:
        return None
    return CourseSpec(
        r.file, name, prog_lang, author, organization, sections, dir_groups, description
    )


def _folder_name(r: _Reader, parent: Node, missing: str, what: str) -> Bilingual | None:
    """A bilingual <name> that becomes a folder name: required, sanitised, non-empty."""
    names = _folder_names(r, parent, missing, what)
    return names[0] if names else None


def _folder_names(
    r: _Reader, parent: Node, missing: str, what: str
) -> tuple[Bilingual, Bilingual] | None:
    """The sanitised folder name and the trimmed text it came from."""
    node = parent.find("name")
    if node is None:
        r.error(parent, missing)
        return None
    b = r.bilingual(node, text_allowed=False)
    if b is None:
        return None
    name = Bilingual(sanitize(b.de), sanitize(b.en))
    if not name.de or not name.en:
        r.error(node, f"{what} is empty after trimming and sanitising")
    return name, Bilingual(b.de.strip(), b.en.strip())


def _read_sections(r: _Reader, root: Node) -> tuple[SectionSpec, ...]:
    node = root.find("sections")
    if node is None:
        r.warn(root, "no <sections>: the course has no notebook outputs")
        return ()
    r.unknown_children(node, {"section"})
    sections = []
    for s in node.findall("section"):
        r.unknown_children(s, {"name", "topics"})
        names = _folder_names(r, s, "<section> without <name>", "section name")
        topics_node = s.find("topics")
        topics: list[TopicRef] = []
        if topics_node is None or not topics_node.findall("topic"):
            r.warn(s, "section has no topics; skipped")
        else:
            r.unknown_children(topics_node, {"topic"})
            seen: set[str] = set()
            for t in topics_node.findall("topic"):
                ref = _read_topic(r, t)
                if ref is None:
                    continue
                if ref.id in seen:
                    r.warn(t, f"topic '{ref.id}' listed twice in this section; later one ignored")
                    continue
                seen.add(ref.id)
                topics.append(ref)
        if names is not None:
            sections.append(SectionSpec(names[0], tuple(topics), s.line, names[1]))
    return tuple(sections)


def _read_topic(r: _Reader, t: Node) -> TopicRef | None:
    r.unknown_children(t, {"dir-group"})
    tid = t.text.strip()
    html = True
    if "html" in t.attrs:
        value = t.attrs["html"].strip().lower()
        if value in _HTML_OFF:
            html = False
        else:
            value = t.attrs["html"]
            r.error(t, f'invalid html="{value}" on topic \'{tid}\': only false, no or 0 allowed')
    evaluate = _yes_no(r, t, "evaluate", tid, default=True)
    skip_errors = _yes_no(r, t, "skip-errors", tid, default=False)
    if not tid:
        r.error(t, "<topic> with an empty id")
        return None
    return TopicRef(tid, html, t.line, evaluate=evaluate, skip_errors=skip_errors)


def _yes_no(r: _Reader, t: Node, name: str, tid: str, *, default: bool) -> bool:
    """A ``yes``/``no`` attribute of a topic; anything else is a spec error with its line."""
    if name not in t.attrs:
        return default
    value = t.attrs[name].strip()
    if value not in ("yes", "no"):
        r.error(t, f'invalid {name}="{value}" on topic \'{tid}\': only yes or no allowed')
        return default
    return value == "yes"


def _read_dir_group(r: _Reader, node: Node) -> DirGroupSpec | None:
    r.unknown_children(node, {"name", "path", "subdirs"})
    name = Bilingual("", "")
    name_node = node.find("name")
    if name_node is not None:
        b = r.bilingual(name_node, text_allowed=True)
        if b is not None:
            de = r.safe_relpath(name_node, b.de, "dir-group name")
            en = r.safe_relpath(name_node, b.en, "dir-group name")
            if de is not None and en is not None:
                name = Bilingual(de, en)
    path_node = node.find("path")
    if path_node is None or not path_node.text.strip():
        r.error(node, "<dir-group> without <path>")
        return None
    path = r.safe_relpath(path_node, path_node.text.strip(), "dir-group path")
    subdirs: tuple[str, ...] | None = None
    sub_node = node.find("subdirs")
    if sub_node is not None:
        r.unknown_children(sub_node, {"subdir"})
        items = []
        for sd in sub_node.findall("subdir"):
            v = r.safe_relpath(sd, sd.text.strip(), "subdir")
            if v:
                items.append(v)
        subdirs = tuple(items)
    if path is None:
        return None
    return DirGroupSpec(name, path, subdirs, node.line)
