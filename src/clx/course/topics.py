"""Modules, topics and the files of each topic (docs/course-reference.md#modules-topics-and-ids).

Every walk is sorted by code-point order, so the winner of a duplicate id and the
order of files never depend on the file system.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from clx.course.files import (
    DRAWIO_SUFFIXES,
    PLANTUML_SUFFIXES,
    FileClass,
    classify,
    image_sources,
    imported_modules,
    module_file_name,
    render_target,
)
from clx.course.ignore import ignored_dir, ignored_file
from clx.course.languages import ProgLang
from clx.course.sources import read_error
from clx.problems import Problem, Severity


@dataclass(frozen=True)
class TopicFile:
    relpath: str  # relative to the topic base, '/'-separated
    path: Path
    cls: FileClass


@dataclass(frozen=True)
class Topic:
    id: str
    path: Path  # the directory, or the file of a file topic
    relpath: str  # relative to the course root
    is_file: bool
    files: tuple[TopicFile, ...]

    @property
    def base(self) -> Path:
        """The folder that relative paths of this topic's files start from."""
        return self.path.parent if self.is_file else self.path

    @property
    def base_rel(self) -> str:
        parent = self.relpath.rsplit("/", 1)[0] if self.is_file else self.relpath
        return parent

    def source_rel(self, f: TopicFile) -> str:
        """A file's path relative to the course root, for messages."""
        return f"{self.base_rel}/{f.relpath}"


def topic_id(entry_name: str) -> str | None:
    stem = entry_name.rsplit(".", 1)[0] if "." in entry_name else entry_name
    parts = stem.split("_")
    return "_".join(parts[2:]) if len(parts) >= 3 else None


def _warn(message: str, file: str | None = None, line: int | None = None) -> Problem:
    return Problem(message, file=file, line=line, severity=Severity.WARNING)


class TopicFinder:
    """Finds topic entries below ``slides/`` and lists their files."""

    def __init__(self, course_root: Path, prog_lang: ProgLang, skip: tuple[Path, ...] = ()) -> None:
        self.root = course_root
        self.prog_lang = prog_lang
        self.skip = {p.resolve() for p in (course_root / ".clx", *skip)}
        self.warnings: list[Problem] = []
        self.errors: list[Problem] = []  # folders that cannot be listed, files not readable
        self.real_root = Path(os.path.realpath(course_root))
        self._links_out: dict[Path, bool] = {}  # symlink -> leaves the root (warned once)

    def rel(self, p: Path) -> str:
        return p.relative_to(self.root).as_posix()

    def _skipped(self, p: Path) -> bool:
        return p.resolve() in self.skip

    def _inside_root(self, real: Path) -> bool:
        return real == self.real_root or self.real_root in real.parents

    def leaves_root(self, p: Path) -> bool:
        """Does ``p`` (below the course root) reach outside it through a symlink?

        Nothing outside the course root is ever read or published: the first link on the
        way that resolves outside is named in a warning (once) and ``p`` is not followed.
        Links that stay inside the root are followed as usual.
        """
        try:
            parts = p.relative_to(self.root).parts
        except ValueError:
            return True
        cur = self.root
        for part in parts:
            cur = cur / part
            known = self._links_out.get(cur)
            if known is None:
                if not cur.is_symlink():
                    continue
                real = Path(os.path.realpath(cur))
                known = self._links_out[cur] = not self._inside_root(real)
                if known:
                    rel = self.rel(cur)
                    self.warnings.append(_warn(
                        f"symlink {rel} -> {real} points outside the course root; not followed",
                        file=rel,
                    ))
            if known:
                return True
        return False

    def _cannot_list(self, e: OSError) -> None:
        folder = Path(e.filename) if e.filename else self.root
        try:
            rel = self.rel(folder)
        except ValueError:
            rel = str(folder)
        self.errors.append(Problem(f"cannot list folder: {e.strerror or e}", file=rel))

    def _listing(self, folder: Path) -> list[Path]:
        try:
            with os.scandir(folder) as it:
                return sorted((folder / e.name for e in it), key=lambda p: p.name)
        except OSError as e:
            if e.filename is None:
                e.filename = str(folder)
            self._cannot_list(e)
            return []

    def entries(self) -> dict[str, Path]:
        """Topic id → entry path, first in sorted order wins (duplicates warned)."""
        slides = self.root / "slides"
        found: dict[str, Path] = {}
        if not slides.is_dir():
            return found
        for module in self._listing(slides):
            if not module.is_dir() or ignored_dir(module.name) or self._skipped(module):
                continue
            if self.leaves_root(module):
                continue
            for entry in self._listing(module):
                if self.leaves_root(entry):
                    continue
                if entry.is_dir():
                    if ignored_dir(entry.name) or self._skipped(entry):
                        continue
                elif ignored_file(entry.name):
                    continue
                tid = topic_id(entry.name)
                if tid is None:
                    continue
                if tid in found:
                    self.warnings.append(_warn(
                        f"Duplicate topic id '{tid}': {self.rel(found[tid])} (used) and "
                        f"{self.rel(entry)} (ignored)"
                    ))
                    continue
                found[tid] = entry
        return found

    def walk(self, folder: Path, *, extra_dir_filter=None) -> list[tuple[str, Path]]:
        """Files below a folder as (relpath, path), ignore rules applied, sorted by relpath.

        Symlinked folders inside the course root are followed (a link back to one of its
        own ancestors is not: that would never end); links leaving the root are not.
        """
        out: list[tuple[str, Path]] = []
        if self.leaves_root(folder):
            return out
        for dirpath, dirnames, filenames in os.walk(
            folder, followlinks=True, onerror=self._cannot_list
        ):
            d = Path(dirpath)
            real_d = Path(os.path.realpath(d))
            dirnames[:] = [
                n for n in dirnames
                if not ignored_dir(n)
                and not self._skipped(d / n)
                and not (extra_dir_filter and extra_dir_filter(n))
                and not self.leaves_root(d / n)
                and not self._loops(d / n, real_d)
            ]
            for n in filenames:
                if ignored_file(n):
                    continue
                p = d / n
                if self.leaves_root(p):
                    continue
                out.append((p.relative_to(folder).as_posix(), p))
        out.sort(key=lambda t: t[0])
        return out

    @staticmethod
    def _loops(p: Path, real_parent: Path) -> bool:
        if not p.is_symlink():
            return False
        real = Path(os.path.realpath(p))
        return real == real_parent or real in real_parent.parents

    def topic(self, tid: str, entry: Path) -> Topic:
        if entry.is_dir():
            files = [self._file(relpath, p) for relpath, p in self.walk(entry)]
            return Topic(tid, entry, self.rel(entry), False, tuple(f for f in files if f))
        return Topic(tid, entry, self.rel(entry), True, tuple(self._file_topic_files(entry)))

    def _file(self, relpath: str, p: Path) -> TopicFile | None:
        """The file as a topic file; None (and an error) if it cannot be read."""
        try:  # non-blocking: a named pipe must not hang the build
            fd = os.open(p, os.O_RDONLY | os.O_NONBLOCK)
            try:
                regular = stat.S_ISREG(os.fstat(fd).st_mode)
            finally:
                os.close(fd)
        except OSError as e:
            self.errors.append(Problem(read_error(e), file=self.rel(p)))
            return None
        if not regular:
            self.errors.append(Problem("not a regular file (a pipe or device?)", file=self.rel(p)))
            return None
        cls, warning = classify(p.name)
        if warning:
            self.warnings.append(_warn(warning, file=self.rel(p)))
        return TopicFile(relpath, p, cls)

    def _file_topic_files(self, entry: Path) -> list[TopicFile]:
        module = entry.parent
        first = self._file(entry.name, entry)
        files = {entry.name: first} if first else {}
        try:
            text = entry.read_text(encoding="utf-8", errors="replace")
        except OSError:
            text = ""
        for name in imported_modules(text):
            fname = module_file_name(name, self.prog_lang)
            p = module / fname
            if (fname not in files and p.is_file() and not ignored_file(fname)
                    and not self.leaves_root(p)):
                files[fname] = TopicFile(fname, p, FileClass.DATA)
        diagram_targets: dict[str, str] | None = None
        for src in image_sources(text):
            if src in files:
                continue
            if diagram_targets is None:
                diagram_targets = self._module_diagrams(module)
            if src in diagram_targets:
                rel = diagram_targets[src]
                if rel not in files and (f := self._file(rel, module / rel)):
                    files[rel] = f
                continue
            p = module / src
            if self.leaves_root(p):
                continue
            if p.is_file() and self._inside(p, module):
                if f := self._file(src, p):
                    files[src] = f
                continue
            line = text.count("\n", 0, text.find(src)) + 1
            self.warnings.append(_warn(
                f"image '{src}' referenced by <img src> not found", file=self.rel(entry), line=line
            ))
        return sorted(files.values(), key=lambda f: f.relpath)

    def _inside(self, p: Path, folder: Path) -> bool:
        try:
            rel = p.relative_to(folder).parts
        except ValueError:
            return False
        return not any(ignored_dir(part) for part in rel[:-1]) and not ignored_file(rel[-1])

    def _module_diagrams(self, module: Path) -> dict[str, str]:
        targets: dict[str, str] = {}
        for relpath, _p in self.walk(module):
            if relpath.endswith(PLANTUML_SUFFIXES + DRAWIO_SUFFIXES):
                targets.setdefault(render_target(relpath), relpath)
        return targets
