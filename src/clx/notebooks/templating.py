"""Jinja expansion of a notebook source, remembering which source line made each line.

The whole source is a Jinja template (docs/course-reference.md#templating). Two things make this
more than ``Template.render``:

* Errors and warnings must name lines of the *source*, also for cells produced by a
  macro or an include (they take the line of the call). The main template is compiled
  from a slightly rewritten syntax tree in which every piece of literal text passes
  through a marker filter; each yielded chunk is then attributed to the template line
  of the statement that yielded it. That gives an exact source line for every line of
  the expanded text.
* The search path is made of in-memory files (beside the notebook, course templates,
  bundled templates), and every name loaded is recorded, because those files are
  inputs of the notebook for caching.
"""

from __future__ import annotations

import base64
import bisect
import hashlib
import posixpath
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from types import CodeType, TracebackType
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.bccache import Bucket, BytecodeCache

from clx.course.languages import LANGUAGES
from clx.course.variants import Format

MAIN_TEMPLATE_FILENAME = "<notebook>"
_DATA_FILTER = "clx_source_text"


@dataclass(frozen=True)
class Expanded:
    """The expanded text and, per expanded line (0-based), its 1-based source line."""

    text: str
    line_origins: tuple[int, ...]
    templates_used: tuple[str, ...]

    def source_line(self, expanded_index: int) -> int:
        if not self.line_origins:
            return 1
        i = min(max(expanded_index, 0), len(self.line_origins) - 1)
        return self.line_origins[i]


@dataclass(frozen=True)
class TemplateFailure:
    """A Jinja error of the notebook; ``line`` is in the notebook source.

    When the error lies inside a loaded template, ``template`` names it, ``template_line``
    is its line there and ``template_origin`` says where it was found ("beside" the
    notebook, in the "course" templates, or "bundled" with clx).
    """

    message: str
    line: int | None
    detail: str | None
    templates_used: tuple[str, ...]
    template: str | None = None
    template_line: int | None = None
    template_origin: str | None = None


# -- bundled files -----------------------------------------------------------------------


def _bundled_root() -> Any:
    return resources.files("clx.notebooks") / "templates"


@cache
def _bundled_file(prog_lang: str, name: str) -> str | None:
    entry = _bundled_root() / prog_lang
    for part in name.split("/"):
        entry = entry / part
    try:
        return entry.read_text(encoding="utf-8")
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None


@cache
def logo_data_url(prog_lang: str) -> str:
    """The bundled logo of a language as a data URL (the header macro's image)."""
    svg = (_bundled_root() / prog_lang / "logo.svg").read_bytes()
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


# -- the loader ----------------------------------------------------------------------------


class _SearchPathLoader(jinja2.BaseLoader):
    """Beside the notebook, then ``<course root>/templates``, then the bundled files."""

    def __init__(
        self,
        beside: Mapping[str, bytes],
        notebook_dir: str,
        course_templates: Mapping[str, str],
        prog_lang: str,
    ) -> None:
        self.beside = beside
        self.notebook_dir = notebook_dir.strip("/")
        self.course_templates = course_templates
        self.prog_lang = prog_lang
        self.loaded: set[str] = set()
        self.origins: dict[str, str] = {}  # name -> "beside" / "course" / "bundled"

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str | None, Callable[[], bool] | None]:
        name = template.replace("\\", "/")
        if name.startswith("/") or ".." in name.split("/"):
            raise jinja2.TemplateNotFound(f"{template} (template names may not contain '..')")
        key = posixpath.join(self.notebook_dir, name) if self.notebook_dir else name
        data = self.beside.get(key)
        if data is not None:
            source, origin = data.decode("utf-8"), "beside"
        elif name in self.course_templates:
            source, origin = self.course_templates[name], "course"
        else:
            bundled = _bundled_file(self.prog_lang, name)
            if bundled is None:
                raise jinja2.TemplateNotFound(template)
            source, origin = bundled, "bundled"
        self.loaded.add(name)
        self.origins[name] = origin
        return source, name, lambda: True


class _MemoryBytecodeCache(BytecodeCache):
    """Compiled macro files shared by all environments of the process.

    Jinja's key is name + filename only, but the compiled code also depends on the
    line-statement prefix, so the prefix is part of our key; the source checksum
    guards against a changed file with the same name.
    """

    def __init__(self) -> None:
        self._store: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def get_bucket(
        self, environment: jinja2.Environment, name: str, filename: str | None, source: str
    ) -> Bucket:
        raw = f"{environment.line_statement_prefix}\0{name}\0{filename}"
        key = hashlib.sha1(raw.encode("utf-8")).hexdigest()
        bucket = Bucket(environment, key, self.get_source_checksum(source))
        self.load_bytecode(bucket)
        return bucket

    def load_bytecode(self, bucket: Bucket) -> None:
        with self._lock:
            data = self._store.get(bucket.key)
        if data is not None:
            bucket.bytecode_from_string(data)

    def dump_bytecode(self, bucket: Bucket) -> None:
        with self._lock:
            self._store[bucket.key] = bucket.bytecode_to_string()


_BYTECODE_CACHE = _MemoryBytecodeCache()


class _CodeCache:
    """Compiled main templates by (prefix, source): each source is templated up to six
    times per process (two languages × three formats) but compiled once."""

    def __init__(self, size: int = 64) -> None:
        self._items: OrderedDict[tuple[str, str], CodeType] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str]) -> CodeType | None:
        with self._lock:
            code = self._items.get(key)
            if code is not None:
                self._items.move_to_end(key)
            return code

    def put(self, key: tuple[str, str], code: CodeType) -> None:
        with self._lock:
            self._items[key] = code
            while len(self._items) > self._size:
                self._items.popitem(last=False)


_CODE_CACHE = _CodeCache()


# -- expansion -------------------------------------------------------------------------------


class _LiteralTracker:
    """The marker filter of the rewritten main template.

    It returns its argument unchanged; being a context filter it cannot be folded at
    compile time, so each literal text is yielded by its own statement with its own
    template line. It also remembers the text so the consumer can tell literal chunks
    (whose lines advance with their newlines) from expression output.
    """

    def __init__(self) -> None:
        self.pending: str | None = None

    def take(self, chunk: str) -> bool:
        literal = chunk is self.pending
        self.pending = None
        return literal

    def filter(self) -> Callable[..., str]:
        @jinja2.pass_context
        def source_text(context: Any, text: str) -> str:
            self.pending = text
            return text

        return source_text


def make_environment(
    loader: jinja2.BaseLoader,
    prog_lang: str,
    lang: str,
    fmt: Format,
    author: str,
    organization: str,
) -> jinja2.Environment:
    """The Environment with the settings and globals of docs/course-reference.md#templating."""
    env = jinja2.Environment(
        loader=loader,
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        line_statement_prefix=LANGUAGES[prog_lang].jinja_prefix,
        bytecode_cache=_BYTECODE_CACHE,
        auto_reload=False,
    )
    env.globals.update(
        lang=lang,
        is_notebook=fmt is Format.NOTEBOOK,
        is_html=fmt is Format.HTML,
        prog_lang=prog_lang,
        author=author,
        organization=organization,
    )
    env.filters["logo_data_url"] = logo_data_url
    return env


def _compile_main(env: jinja2.Environment, text: str) -> CodeType:
    key = (env.line_statement_prefix or "", text)
    code = _CODE_CACHE.get(key)
    if code is None:
        tree = env.parse(text, filename=MAIN_TEMPLATE_FILENAME)
        for output in tree.find_all(nodes.Output):
            output.nodes = [
                nodes.Filter(
                    nodes.Const(child.data, lineno=child.lineno),
                    _DATA_FILTER,
                    [],
                    [],
                    None,
                    None,
                    lineno=child.lineno,
                )
                if isinstance(child, nodes.TemplateData)
                else child
                for child in output.nodes
            ]
        code = env.compile(tree, filename=MAIN_TEMPLATE_FILENAME)
        _CODE_CACHE.put(key, code)
    return code


def expand(
    text: str,
    *,
    prog_lang: str,
    lang: str,
    fmt: Format,
    author: str,
    organization: str,
    beside: Mapping[str, bytes],
    notebook_dir: str,
    course_templates: Mapping[str, str],
    name: str = "",
    source_name: str = "",
) -> Expanded | TemplateFailure:
    """Render the source for one (language, format); never raises for template errors.

    ``name`` (the output name without extension) and ``source_name`` (the source path
    relative to the course root) are globals that earlier course macros use.
    """
    loader = _SearchPathLoader(beside, notebook_dir, course_templates, prog_lang)
    env = make_environment(loader, prog_lang, lang, fmt, author, organization)
    env.globals.update(name=name, source_name=source_name)
    tracker = _LiteralTracker()
    env.filters[_DATA_FILTER] = tracker.filter()
    chunks: list[tuple[int, str, bool]] = []
    try:
        code = _compile_main(env, text)
        template = env.template_class.from_code(env, code, env.make_globals(None))
        gen = template.root_render_func(template.new_context())
        frame = gen.gi_frame
        for chunk in gen:
            line = template.get_corresponding_lineno(frame.f_lineno)
            chunks.append((line, chunk, tracker.take(chunk)))
    except Exception:
        return _failure(env, sys.exc_info(), tuple(sorted(loader.loaded)), loader.origins)
    return _with_origins(chunks, tuple(sorted(loader.loaded)))


def _with_origins(chunks: list[tuple[int, str, bool]], used: tuple[str, ...]) -> Expanded:
    text = "".join(c for _, c, _ in chunks)
    starts: list[int] = []
    pos = 0
    for _, chunk, _ in chunks:
        starts.append(pos)
        pos += len(chunk)
    origins: list[int] = []
    offset = 0
    for line in text.splitlines(keepends=True):
        # The last chunk starting at or before the line start holds it (empty chunks
        # share their start with the next one and come first).
        i = bisect.bisect_right(starts, offset) - 1
        tline, chunk, literal = chunks[i]
        origins.append(tline + chunk[: offset - starts[i]].count("\n") if literal else tline)
        offset += len(line)
    return Expanded(text=text, line_origins=tuple(origins), templates_used=used)


def _failure(
    env: jinja2.Environment,
    exc_info: tuple[type[BaseException], BaseException, TracebackType] | Any,
    used: tuple[str, ...],
    origins: Mapping[str, str],
) -> TemplateFailure:
    _, exc, _ = exc_info
    assert exc is not None
    # Let Jinja rewrite the traceback so that template frames carry template lines.
    try:
        env.handle_exception()
    except BaseException as rewritten:  # noqa: BLE001 - we want whatever Jinja re-raises
        exc = rewritten
    main_line: int | None = None
    inner: tuple[str, int] | None = None
    tb = exc.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename == MAIN_TEMPLATE_FILENAME:
            main_line = tb.tb_lineno
        elif "__jinja_exception__" in tb.tb_frame.f_globals:  # a rewritten template frame
            inner = (filename, tb.tb_lineno)
        tb = tb.tb_next
    message = getattr(exc, "message", None) or str(exc)
    detail: str | None = None
    if isinstance(exc, jinja2.TemplateSyntaxError):
        if exc.name is None or exc.filename == MAIN_TEMPLATE_FILENAME:
            main_line = exc.lineno
            inner = None
        else:
            inner = (exc.name, exc.lineno)
    if inner is not None:
        detail = f"in template {inner[0]}, line {inner[1]}"
    return TemplateFailure(
        message=f"{type(exc).__name__}: {message}",
        line=main_line,
        detail=detail,
        templates_used=used,
        template=inner[0] if inner else None,
        template_line=inner[1] if inner else None,
        template_origin=origins.get(inner[0]) if inner else None,
    )
