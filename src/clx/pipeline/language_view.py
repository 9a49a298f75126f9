"""What one output language of a notebook sees: the cache key's view of its source.

A notebook job produces one language's variants. Keying it by the raw source re-ran
the German job after an edit of an English-only cell. Its key is made of the source as
that language sees it instead: the Jinja expansion for each of its formats (with the
language's globals), in which the cells of the other language keep only their marker
line, so an edit of their text leaves the key alone. What else the other language's
cells can change in this language's outputs is kept in the view:

* their marker line (tags: the warnings every job reports; ``lang`` itself);
* that they exist and whether they are empty (cell ids count cell positions);
* their text when it equals a kept cell's text (an id clash is resolved by position).

The templates the expansion loaded are the course templates the job depends on.

Where the kept lines sit in the source does not change the bytes, only the line numbers
of problems; ``lines_digest`` records them apart from the key, so that a cached result
with problems is only used while its lines are still right (clx.pipeline.run).
When a template fails, the view is the raw source (and every course template): the key
is then as strict as it was.

Expanding a notebook per format and reading its cells with Jupytext (once per distinct
expansion) costs a few milliseconds a job, so
``ViewMemo`` remembers views in ``.clx/views.json`` by a hash of everything they are
computed from; an unchanged rebuild expands nothing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from clx.course.languages import LANGUAGES
from clx.course.variants import LANGS, Format
from clx.notebooks.cells import RawCell, raw_cells
from clx.notebooks.templating import Expanded, expand
from clx.store import atomic_write

log = logging.getLogger(__name__)
_MEMO_KEEP_SECONDS = 30 * 86400  # views no plan has asked for in this long are forgotten
# Bump when the view is computed differently: remembered views are then computed again.
_VIEW_VERSION = 3


@dataclass(frozen=True)
class LanguageView:
    digest: str  # the text this language's outputs are made from
    lines_digest: str  # where those lines are in the source (for problems' lines)
    templates_used: tuple[str, ...] | None  # None: unknown, every course template counts


class _LazyFiles(Mapping[str, bytes]):
    """Topic files by path, read only when a template includes one."""

    def __init__(self, digests: Mapping[str, str], read: Callable[[str], bytes]) -> None:
        self._digests = digests
        self._read = read

    def __getitem__(self, key: str) -> bytes:
        return self._read(self._digests[key])

    def get(self, key: str, default=None):  # type: ignore[override]
        return self[key] if key in self._digests else default

    def __iter__(self) -> Iterator[str]:
        return iter(self._digests)

    def __len__(self) -> int:
        return len(self._digests)


def _sha(value: object) -> str:
    return hashlib.sha256(json.dumps(value, ensure_ascii=False).encode("utf-8")).hexdigest()


def language_view(
    text: str,
    *,
    prog_lang: str,
    lang: str,
    formats: Sequence[Format],
    author: str,
    organization: str,
    topic_files: Mapping[str, str],
    read_blob: Callable[[str], bytes],
    notebook_dir: str,
    course_templates: Mapping[str, str],
    name: str,
    source_name: str,
) -> LanguageView:
    beside = _LazyFiles(topic_files, read_blob)
    views: list[object] = []
    origins: list[object] = []
    used: set[str] = set()
    jupytext_format = LANGUAGES[prog_lang].jupytext_format
    parsed: dict[str, list[RawCell]] = {}
    for fmt in formats:
        expanded = expand(
            text,
            prog_lang=prog_lang,
            lang=lang,
            fmt=fmt,
            author=author,
            organization=organization,
            beside=beside,
            notebook_dir=notebook_dir,
            course_templates=course_templates,
            name=name,
            source_name=source_name,
        )
        if not isinstance(expanded, Expanded):
            return LanguageView(_sha(["raw", text]), _sha([]), None)
        cells = parsed.get(expanded.text)  # the formats mostly expand alike: read once
        if cells is None:
            try:
                cells = parsed[expanded.text] = raw_cells(expanded.text, jupytext_format)
            except Exception:  # the engine falls back to guessing cells: keep every line
                return LanguageView(_sha(["raw", text]), _sha([]), None)
        used.update(expanded.templates_used)
        kept, lines = _filtered(expanded, cells, lang)
        views.append([str(fmt), kept])
        origins.append(lines)
    return LanguageView(_sha(views), _sha(origins), tuple(sorted(used)))


def _filtered(expanded: Expanded, cells: list[RawCell], lang: str) -> tuple[list, list]:
    """The expanded lines, other-language cells reduced (see the module docstring), and
    the source line of every line kept. Cells are cut where the engine's parser cuts
    them (not at every marker-like line: one inside a string or a fenced block starts
    no cell), and a cell's language is the one the parser read from its marker."""
    lines = expanded.text.splitlines()
    others = {other for other in LANGS if other != lang}

    def is_other(c: RawCell) -> bool:
        value = c.metadata.get("lang")  # any JSON value: lang=["en"] is a list
        return isinstance(value, str) and value in others

    kept_sources = {c.source for c in cells if not is_other(c)}
    view: list[object] = []
    where: list[int] = []

    def keep(start: int, end: int) -> None:
        view.extend(lines[start:end])
        where.extend(expanded.source_line(i) for i in range(start, end))

    covered = 0
    for c in cells:
        keep(covered, c.start)  # lines no cell holds (a Jupytext header) are kept
        covered = max(covered, c.end)
        if is_other(c):
            source = c.source
            view.append(
                [
                    "other",
                    lines[c.start],
                    bool(source.strip()),
                    source if source in kept_sources else None,
                ]
            )
            where.append(expanded.source_line(c.start))
        else:
            keep(c.start, c.end)
    keep(covered, len(lines))
    return view, where


MEMO_NAME = "views.json"  # in the course's .clx


def forget_views(state_dir: Path) -> bool:
    """Remove a course's remembered views (``clx cache clear``); True if there were any."""
    try:
        (state_dir / MEMO_NAME).unlink()
    except FileNotFoundError:
        return False
    return True


class ViewMemo:
    """Language views by a hash of their inputs, kept across builds in one JSON file.

    Only a shortcut: a missing, unreadable or concurrently rewritten file just means the
    views are computed again (a view is a pure function of the inputs it is filed under).
    """

    def __init__(self, path: Path, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self.clock = clock
        self._entries: dict[str, list] = {}
        self._changed = False
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(data, dict):
                self._entries = data
        except (OSError, ValueError):
            pass

    def view(self, inputs: object, compute: Callable[[], LanguageView]) -> LanguageView:
        key = _sha([_VIEW_VERSION, inputs])
        now = round(self.clock())
        found = self._entries.get(key)
        if isinstance(found, list) and len(found) == 4:
            digest, lines, used, _ = found
            if found[3] != now:
                found[3] = now
                self._changed = True
            return LanguageView(digest, lines, tuple(used) if used is not None else None)
        view = compute()
        used = list(view.templates_used) if view.templates_used is not None else None
        self._entries[key] = [view.digest, view.lines_digest, used, now]
        self._changed = True
        return view

    def save(self) -> None:
        if not self._changed:
            return
        cutoff = self.clock() - _MEMO_KEEP_SECONDS
        kept = {
            k: v
            for k, v in self._entries.items()
            if isinstance(v, list) and len(v) == 4 and v[3] >= cutoff
        }
        try:
            atomic_write(self.path, json.dumps(kept, sort_keys=True).encode("utf-8"))
        except OSError as e:
            log.info("cannot remember language views in %s: %s", self.path, e)
        self._changed = False
