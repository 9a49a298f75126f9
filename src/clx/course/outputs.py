"""The output plan: every file a build must produce, decided before any work starts.

Numbers, titles and paths are fixed from the course structure alone, so a failing
notebook keeps its number and both languages agree. Conflicts between sources that
map to one output path are resolved here, once, by the rules of
docs/course-reference.md#when-two-sources-want-the-same-path.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from clx.course.course import Course
from clx.course.files import FileClass, render_target
from clx.course.ignore import DIAGRAM_SOURCE_DIRS
from clx.course.languages import ProgLang, language_for_suffix
from clx.course.layout import TIERS, Layout
from clx.course.naming import header_line, header_titles, shown_titles
from clx.course.sources import read_notebook
from clx.course.spec import SectionSpec, SpecError
from clx.course.topics import Topic, TopicFile, TopicFinder
from clx.course.variants import DEFAULT_FORMATS, LANGS, Format, Variant, all_variants
from clx.problems import Category, Problem, Severity


@dataclass(frozen=True)
class NotebookOutput:
    topic: Topic
    file: TopicFile
    source_rel: str  # relative to the course root
    section: SectionSpec
    section_index: int
    number: int
    titles: dict[str, str]
    prog_lang: ProgLang
    html: bool
    paths: dict[Variant, Path]
    evaluate: bool = True  # <topic evaluate="no"> turns execution off
    skip_errors: bool = False  # <topic skip-errors="yes"> lets cells fail
    shown: dict[str, str] = field(default_factory=dict)  # titles as written (shown_titles)

    def page_title(self, lang: str) -> str:
        return Layout.page_title(self.number, self.titles[lang])

    def shown_title(self, lang: str) -> str:
        """The number and the title as the author wrote it (a home page lists decks by
        it); ``page_title`` is the file name's version."""
        return Layout.page_title(self.number, self.shown.get(lang) or self.titles[lang])


@dataclass
class DiagramOutput:
    topic: Topic
    file: TopicFile
    source_rel: str
    render_target: str  # relative to the topic base
    targets: list[Path] = field(default_factory=list)  # every placed copy of the image


@dataclass(frozen=True)
class CopyOutput:
    source: Path
    source_rel: str
    target: Path
    origin: str  # "data", "dir-group" or "asset" (clx.pipeline.assets)


@dataclass(frozen=True)
class HomePageOutput:
    """The ``index.html`` of one ``<tier>/<Lang>/<course>`` tree (clx.pipeline.homepage)."""

    tier: str
    lang: str
    path: Path


@dataclass
class OutputPlan:
    course: Course
    layout: Layout
    notebooks: list[NotebookOutput] = field(default_factory=list)
    diagrams: list[DiagramOutput] = field(default_factory=list)
    copies: list[CopyOutput] = field(default_factory=list)
    home_pages: list[HomePageOutput] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        c: Counter[str] = Counter()
        for nb in self.notebooks:
            for v in nb.paths:
                c[f"notebook-{v.format}"] += 1
        c["notebooks"] = len({nb.source_rel for nb in self.notebooks})
        c["diagrams"] = len(self.diagrams)
        c["diagram-images"] = sum(len(d.targets) for d in self.diagrams)
        for cp in self.copies:
            c[f"copy-{cp.origin}"] += 1
        c["home-pages"] = len(self.home_pages)
        return dict(sorted(c.items()))

    def all_paths(self) -> list[Path]:
        paths = [p for nb in self.notebooks for p in nb.paths.values()]
        paths += [t for d in self.diagrams for t in d.targets]
        paths += [cp.target for cp in self.copies]
        paths += [h.path for h in self.home_pages]
        return sorted(paths)


@dataclass(frozen=True)
class Focus:
    """A focused build: only these languages, kinds, formats, tiers and sections.

    ``None`` in a field means "all". Sections match by 1-based index or by name in
    either language, case-insensitively, as written in the spec or as sanitised.
    """

    langs: frozenset[str] | None = None
    kinds: frozenset[str] | None = None
    formats: frozenset[str] | None = None
    tiers: frozenset[str] | None = None
    sections: frozenset[str] | None = None

    @classmethod
    def of(cls, langs: Iterable[str] | None = None, kinds: Iterable[str] | None = None,
           formats: Iterable[str] | None = None, targets: Iterable[str] | None = None,
           sections: Iterable[str] | None = None) -> Focus:
        """From flag values; an empty or missing value means all."""

        def fs(v: Iterable[str] | None) -> frozenset[str] | None:
            return frozenset(v) if v else None

        return cls(fs(langs), fs(kinds), fs(formats), fs(targets), fs(sections))

    @property
    def everything(self) -> bool:
        return all(f is None for f in (self.langs, self.kinds, self.formats, self.tiers,
                                       self.sections))

    def variant(self, v: Variant) -> bool:
        return ((self.langs is None or v.lang in self.langs)
                and (self.kinds is None or str(v.kind) in self.kinds)
                and (self.formats is None or str(v.format) in self.formats)
                and (self.tiers is None or v.tier in self.tiers))

    def section(self, index: int, section: SectionSpec) -> bool:
        if self.sections is None:
            return True
        return bool(section_keys(index, section) & {s.casefold() for s in self.sections})

    def check_sections(self, sections: tuple[SectionSpec, ...]) -> None:
        """Raise SpecError (a usage error: nothing is built) naming every ``--section``
        value that matches no section, with the list of sections to choose from."""
        if self.sections is None:
            return
        known = set().union(*(section_keys(i, s) for i, s in enumerate(sections)))
        unknown = sorted(v for v in self.sections if v.casefold() not in known)
        if not unknown:
            return
        listing = "; ".join(f"{i + 1} {_section_label(s)}" for i, s in enumerate(sections))
        raise SpecError([Problem(
            f"--section: no section {', '.join(repr(v) for v in unknown)}; the sections are: "
            f"{listing or '(none)'}", category=Category.CONFIGURATION)])

    def tree(self, tier: str, lang: str) -> bool:
        """Does the build touch the ``<tier>/<lang>`` tree (and so write its home page)?"""
        return ((self.langs is None or lang in self.langs)
                and (self.tiers is None or tier in self.tiers))

    def dir_groups(self, lang: str) -> bool:
        """Dir-groups belong to no section, kind or format: only whole-course builds."""
        return (self.sections is None and self.kinds is None and self.formats is None
                and (self.tiers is None or "public" in self.tiers)
                and (self.langs is None or lang in self.langs))


# Priority of output classes when two sources map to one path. An author's own
# index.html (a dir-group into the course folder) wins over the generated home page.
_PRIORITY = {"notebook": 3, "render": 2, "copy": 1, "home": 0}


@dataclass
class _Claim:
    cls: str
    order: tuple
    source_rel: str
    topic_id: str | None
    item: object


class _Planner:
    def __init__(self, course: Course, focus: Focus, formats: tuple[Format, ...]) -> None:
        self.course = course
        self.focus = focus
        # A focus on formats picks among all of them (``--format slides`` opts in alone).
        self.formats = frozenset(Format(f) for f in focus.formats) if focus.formats else (
            frozenset(formats))
        self.layout = Layout(course.output_root, course.spec.name)
        self.plan = OutputPlan(course, self.layout, errors=list(course.errors))
        self.claims: dict[Path, _Claim] = {}
        self.diagrams: dict[str, DiagramOutput] = {}
        self._titles: dict[str, dict[str, str]] = {}
        self._shown: dict[str, dict[str, str]] = {}
        self._unusable: dict[str, bool] = {}  # notebook source -> cannot be read as text

    def unusable(self, topic: Topic, f: TopicFile) -> bool:
        """Is this notebook unreadable, binary or not UTF-8? Reported once, then skipped."""
        rel = topic.source_rel(f)
        if rel not in self._unusable:
            text, problem = read_notebook(f.path, rel)
            self._unusable[rel] = problem is not None
            if problem is not None:
                self.plan.errors.append(problem)
            else:
                self._titles_of(rel, f, text or "")
        return self._unusable[rel]

    def warn(self, message: str, file: str | None = None, line: int | None = None) -> None:
        self.plan.warnings.append(Problem(message, file=file, line=line, severity=Severity.WARNING))

    def titles(self, topic: Topic, f: TopicFile) -> dict[str, str]:
        return self._titles[topic.source_rel(f)]  # read by unusable() first

    def _titles_of(self, rel: str, f: TopicFile, raw: str) -> None:
        stem = f.path.name.rsplit(".", 1)[0]
        titles, warning = header_titles(raw, stem)
        if warning:
            self.warn(warning, rel, header_line(raw))
        self._titles[rel] = titles
        self._shown[rel] = shown_titles(raw, titles)

    def claim(self, target: Path, claim: _Claim) -> None:
        old = self.claims.get(target)
        if old is None:
            self.claims[target] = claim
            return
        new_wins = (_PRIORITY[claim.cls], claim.order) > (_PRIORITY[old.cls], old.order)
        winner, loser = (claim, old) if new_wins else (old, claim)
        self.claims[target] = winner
        if self._silent_conflict(winner, loser):
            return
        self.warn(
            f"output path conflict at {self.layout.relative(target)}: {winner.source_rel} "
            f"replaces {loser.source_rel}",
            winner.source_rel,
        )

    def _silent_conflict(self, a: _Claim, b: _Claim) -> bool:
        if a.cls == b.cls == "copy":
            pa, pb = a.item.source, b.item.source  # type: ignore[attr-defined]
            try:
                return pa.stat().st_size == pb.stat().st_size and pa.read_bytes() == pb.read_bytes()
            except OSError:
                return False
        # A render replacing the stale image at its own target is expected.
        return {a.cls, b.cls} == {"render", "copy"} and a.topic_id == b.topic_id

    # --- topics -------------------------------------------------------------------

    def run(self) -> OutputPlan:
        spec = self.course.spec
        for s_idx, section in enumerate(spec.sections):
            if not self.focus.section(s_idx, section):
                continue
            number = 0
            for t_idx, ref in enumerate(section.topics):
                topic = self.course.topics[ref.id]
                order = (s_idx, t_idx)
                number = self.add_topic(topic, section, s_idx, order, ref.html, number,
                                        evaluate=ref.evaluate, skip_errors=ref.skip_errors)
        self.add_dir_groups()
        self.add_home_pages()
        self.finish()
        return self.plan

    def add_topic(
        self, topic: Topic, section: SectionSpec, s_idx: int, order: tuple, html: bool, number: int,
        *, evaluate: bool = True, skip_errors: bool = False,
    ) -> int:
        variants = [v for v in all_variants(html, slides=True)
                    if v.format in self.formats and self.focus.variant(v)]
        notebook_langs: list[ProgLang] = []
        for f in topic.files:
            if f.cls is not FileClass.NOTEBOOK:
                continue
            number += 1  # an unusable notebook keeps its number, so the others keep theirs
            if self.unusable(topic, f):
                continue
            pl = language_for_suffix(f.path.suffix)
            assert pl is not None
            notebook_langs.append(pl)
            titles = self.titles(topic, f)
            paths = {
                v: self.layout.notebook_path(v, pl, section.name, number, titles[v.lang])
                for v in variants
            }
            if not paths:
                continue
            nb = NotebookOutput(
                topic, f, topic.source_rel(f), section, s_idx, number, titles, pl, html, paths,
                evaluate=evaluate, skip_errors=skip_errors, shown=self._shown[topic.source_rel(f)],
            )
            self.plan.notebooks.append(nb)
            for p in paths.values():
                self.claim(p, _Claim("notebook", (*order, f.relpath), nb.source_rel, topic.id, nb))

        prog_langs = notebook_langs or [self.course.prog_lang]
        dirs = sorted({
            self.layout.variant_dir(v, pl, section.name) for v in variants for pl in prog_langs
        })
        targets_seen: dict[str, str] = {}
        for f in topic.files:
            rel = topic.source_rel(f)
            if f.cls in (FileClass.PLANTUML, FileClass.DRAWIO):
                target = render_target(f.relpath)
                if target in targets_seen and targets_seen[target] != rel:
                    self.plan.errors.append(Problem(
                        f"two diagrams render to {target}: {targets_seen[target]} is used, "
                        f"this one is not", file=rel, target=target,
                    ))
                    continue
                targets_seen[target] = rel
                d = self.diagrams.get(rel)
                if d is None:
                    d = self.diagrams[rel] = DiagramOutput(topic, f, rel, target)
                claim = _Claim("render", (*order, f.relpath), rel, topic.id, d)
                for folder in dirs:
                    self.claim(folder / target, claim)
            elif f.cls is FileClass.DATA:
                for folder in dirs:
                    cp = CopyOutput(f.path, rel, folder / f.relpath, "data")
                    self.claim(cp.target, _Claim("copy", (*order, f.relpath), rel, topic.id, cp))
        return number

    # --- dir-groups ---------------------------------------------------------------

    def add_dir_groups(self) -> None:
        root = self.course.root
        finder = TopicFinder(root, self.course.prog_lang, skip=(self.course.output_root,))
        n_sections = len(self.course.spec.sections)
        for g_idx, group in enumerate(self.course.spec.dir_groups):
            source = root / group.path
            if finder.leaves_root(source):
                continue
            if not source.is_dir():
                self.plan.errors.append(Problem(
                    f"dir-group folder not found: {group.path}", file=self.course.spec.file,
                    line=group.line,
                ))
                continue
            parts: list[tuple[Path, str]] = []
            if group.subdirs is None:
                parts.append((source, ""))
            for sub in group.subdirs or ():
                if finder.leaves_root(source / sub):
                    continue
                if (source / sub).is_dir():
                    parts.append((source / sub, sub))
                else:
                    self.plan.errors.append(Problem(
                        f"dir-group subdir not found: {group.path}/{sub}",
                        file=self.course.spec.file, line=group.line,
                    ))
            for folder, prefix in parts:
                files = finder.walk(folder, extra_dir_filter=DIAGRAM_SOURCE_DIRS.__contains__)
                for lang in ("de", "en"):
                    if not self.focus.dir_groups(lang):
                        continue
                    target_dir = self.layout.dir_group_dir(lang, group.name)
                    for relpath, p in files:
                        rel_out = f"{prefix}/{relpath}" if prefix else relpath
                        cp = CopyOutput(p, self.course.rel(p), target_dir / rel_out, "dir-group")
                        order = (n_sections, g_idx, rel_out)
                        self.claim(cp.target, _Claim("copy", order, cp.source_rel, None, cp))
        self.plan.warnings.extend(finder.warnings)
        self.plan.errors.extend(finder.errors)

    def add_home_pages(self) -> None:
        for tier in TIERS:
            for lang in LANGS:
                if self.focus.tree(tier, lang):
                    page = HomePageOutput(tier, lang, self.layout.home_page(tier, lang))
                    claim = _Claim("home", (), "the course home page", None, page)
                    self.claim(page.path, claim)

    def finish(self) -> None:
        """Keep only winning claims: drop losing notebook paths, renders and copies."""
        won_notebook: set[tuple[int, Path]] = set()
        for target, c in self.claims.items():
            if c.cls == "notebook":
                won_notebook.add((id(c.item), target))
            elif c.cls == "render":
                c.item.targets.append(target)  # type: ignore[attr-defined]
            elif c.cls == "home":
                self.plan.home_pages.append(c.item)  # type: ignore[arg-type]
            else:
                self.plan.copies.append(c.item)  # type: ignore[arg-type]
        for nb in self.plan.notebooks:
            for v, p in list(nb.paths.items()):
                if (id(nb), p) not in won_notebook:
                    del nb.paths[v]
        self.plan.diagrams = [d for d in self.diagrams.values() if d.targets]
        for d in self.plan.diagrams:
            d.targets.sort()
        self.plan.copies.sort(key=lambda c: c.target)
        self.plan.home_pages.sort(key=lambda h: h.path)


def section_keys(index: int, section: SectionSpec) -> set[str]:
    """What ``--section`` matches, case-folded: the 1-based index, and each language's
    name as written in the spec and as sanitised for its folder."""
    names = {section.name.de, section.name.en}
    if section.title is not None:
        names |= {section.title.de, section.title.en}
    return {str(index + 1)} | {n.casefold() for n in names}


def _section_label(section: SectionSpec) -> str:
    t = section.title or section.name
    return t.de if t.de == t.en else f"{t.de} / {t.en}"


def plan_outputs(course: Course, focus: Focus | None = None,
                 formats: tuple[Format, ...] = DEFAULT_FORMATS) -> OutputPlan:
    """Compute every output of a course; problems land in ``plan.errors``/``plan.warnings``.

    A ``--section`` value that names no section raises SpecError before anything is planned.
    ``formats`` are the formats of a build without a format focus (clx.toml ``formats``).
    """
    focus = focus or Focus()
    focus.check_sections(course.spec.sections)
    return _Planner(course, focus, formats).run()


__all__ = [
    "CopyOutput", "DiagramOutput", "Focus", "HomePageOutput", "NotebookOutput", "OutputPlan",
    "plan_outputs",
]
