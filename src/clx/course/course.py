"""A loaded course: spec + the topics it names, with every topic id resolved.

Loading is all-or-nothing for spec errors (every missing topic id listed at once) so
that no work starts on a course that cannot be built as written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from clx.course.languages import LANGUAGES, ProgLang
from clx.course.spec import CourseSpec, SpecError, load_spec
from clx.course.topics import Topic, TopicFinder
from clx.problems import Category, Problem


@dataclass
class Course:
    spec: CourseSpec
    root: Path
    output_root: Path
    topics: dict[str, Topic]  # every topic the spec references, by id
    warnings: list[Problem] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)  # unlistable folders, unreadable files

    @property
    def prog_lang(self) -> ProgLang:
        return LANGUAGES[self.spec.prog_lang]

    @property
    def state_dir(self) -> Path:
        return self.root / ".clx"

    def rel(self, path: Path) -> str:
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return str(path)


def default_course_root(spec_path: Path) -> Path:
    """``<root>/course-specs/x.xml`` → ``<root>`` (docs/course-reference.md#the-course-folder)."""
    return spec_path.resolve().parent.parent


def load_course(
    spec_path: Path, course_root: Path | None = None, output_root: Path | None = None
) -> Course:
    """Load spec and topics; raise SpecError with every spec error found."""
    root = (course_root or default_course_root(spec_path)).resolve()
    out = (output_root or root / "output").resolve()
    spec, warnings = load_spec(spec_path, root)
    slides = (root / "slides").resolve()
    if out == slides or slides in out.parents:
        # Outputs would land among the sources (which stay read-only during a build)
        # and be found as topic files by the next build.
        raise SpecError([Problem(
            f"the output folder {out} is inside the course's slides/ folder; "
            "choose one outside slides/ (--output-dir or output-dir in clx.toml)",
            file=spec.file, category=Category.CONFIGURATION,
        )])
    if not (root / "slides").is_dir() and any(s.topics for s in spec.sections):
        raise SpecError([Problem(
            f"no slides/ folder in the course root {root}", file=spec.file,
            category=Category.CONFIGURATION,
        )])
    finder = TopicFinder(root, LANGUAGES[spec.prog_lang], skip=(out,))
    entries = finder.entries()
    missing = [
        Problem(f"Topic not found: {ref.id}", file=spec.file, line=ref.line,
                category=Category.CONFIGURATION)
        for section in spec.sections for ref in section.topics if ref.id not in entries
    ]
    if missing:  # a topic may be missing because its link leaves the root: say so
        links = [w for w in finder.warnings if w.message.startswith("symlink ")]
        raise SpecError(missing + links)
    wanted = {ref.id for s in spec.sections for ref in s.topics}
    topics = {tid: finder.topic(tid, entry) for tid, entry in entries.items() if tid in wanted}
    return Course(spec, root, out, topics, warnings + finder.warnings, finder.errors)
