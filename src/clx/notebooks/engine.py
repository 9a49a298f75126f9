"""``render_language``: every requested variant of one notebook in one output language.

Templating, parsing and tag checks per format (templating cannot see the kind), then
the tag table per kind (docs/course-reference.md#cells-in-each-output). Executed HTML is
the expensive part, so the plan is:

* code-along HTML is never executed;
* completed and speaker HTML come from **one** execution of the speaker notebook when
  no code cell is tagged ``notes`` (completed = speaker minus the notes cells);
  otherwise each is executed on its own;
* decks (``slides``) are written from the same executed notebooks as the HTML pages
  (``clx.notebooks.slides``): asking for them adds no execution;
* a notebook without code is exported without a kernel.

Failures become Problems naming the file, the variants and the source line; identical
errors of several variants are one Problem. A failing variant has no bytes, and an
executed kind never falls back to unexecuted HTML.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from nbformat import NotebookNode

from clx.course.languages import LANGUAGES
from clx.course.variants import Format, Kind, Variant
from clx.notebooks import formats, slides, tags
from clx.notebooks.cells import ParseError, SourceCell, parse_cells
from clx.notebooks.execution import CellFailed, Executor, KernelFailed, cell_line_offset
from clx.notebooks.hints import missing_module_hint
from clx.notebooks.kernels import KernelMissing
from clx.notebooks.model import LanguageResult, NotebookSettings, NotebookSource
from clx.notebooks.output_limit import bound_outputs, megabytes
from clx.notebooks.templating import TemplateFailure, expand
from clx.problems import Category, Problem, Severity, strip_ansi

_BEFORE, _AFTER = 3, 2  # cell lines shown around a failing line
_CELL_HEAD = 6  # cell lines shown when the kernel named no line
_EXECUTED = (Format.HTML, Format.SLIDES)
_TEMPLATE_FORMAT = {Format.SLIDES: Format.HTML}

_ErrorKey = tuple[str, int | None, Category, str | None, str | None]


@dataclass
class _Collector:
    """Errors grouped by identical content (listing their variants) and unique warnings."""

    path: str
    errors: dict[_ErrorKey, list[Variant]] = field(default_factory=dict)
    warnings: dict[tuple[int | None, str], None] = field(default_factory=dict)

    def fail(
        self,
        variants: Sequence[Variant],
        message: str,
        *,
        line: int | None = None,
        category: Category = Category.CONTENT,
        detail: str | None = None,
        file: str | None = None,
    ) -> None:
        """``file``: a template shared with other notebooks, if the error lies there."""
        self.errors.setdefault((message, line, category, detail, file), []).extend(variants)

    def warn(self, line: int | None, message: str) -> None:
        self.warnings.setdefault((line, message), None)

    def problems(self, order: Sequence[Variant]) -> list[Problem]:
        rank = {v: i for i, v in enumerate(order)}
        found = [
            Problem(
                message=message,
                file=file or self.path,
                line=line,
                variants=tuple(v.label for v in sorted(set(vs), key=rank.__getitem__)),
                category=category,
                detail=detail,
                sources=(self.path,) if file else (),
            )
            for (message, line, category, detail, file), vs in self.errors.items()
        ]
        found += [
            Problem(message=message, file=self.path, line=line, severity=Severity.WARNING)
            for line, message in sorted(self.warnings, key=lambda k: (k[0] or 0, k[1]))
        ]
        return found


def render_language(
    src: NotebookSource,
    lang: str,
    variants: Sequence[Variant],
    page_title: str,
    settings: NotebookSettings,
    executor: Executor | None = None,
) -> LanguageResult:
    """Bytes for each of ``variants`` (all of language ``lang``), problems, inputs used.

    ``executor`` runs executed HTML variants; without one a temporary executor is made
    for this call (slow: no warm kernel), which is fine for one-off use and tests.
    """
    if any(v.lang != lang for v in variants):
        raise ValueError(f"variants of another language than {lang!r}: {list(variants)}")
    if src.prog_lang not in LANGUAGES:
        raise ValueError(f"unknown notebook language {src.prog_lang!r}")
    job = _LanguageJob(src, lang, page_title, settings, executor)
    try:
        # Decks are HTML to the templates and come from the HTML pages' execution.
        by_template: dict[Format, list[Variant]] = {}
        for v in variants:
            by_template.setdefault(_TEMPLATE_FORMAT.get(v.format, v.format), []).append(v)
        for fmt, group in by_template.items():
            job.render_format(fmt, group)
    finally:
        job.close()
    result = job.result
    result.problems = job.collector.problems(variants)
    result.templates_used = sorted(job.templates_used)
    return result


class _LanguageJob:
    def __init__(
        self,
        src: NotebookSource,
        lang: str,
        page_title: str,
        settings: NotebookSettings,
        executor: Executor | None,
    ) -> None:
        self.src = src
        self.lang = lang
        self.page_title = page_title
        self.settings = settings
        self._executor = executor
        self._own_executor: Executor | None = None
        self.collector = _Collector(src.path)
        self.templates_used: set[str] = set()
        self.result = LanguageResult()

    def _html(self, nb: NotebookNode) -> bytes:
        return formats.write_html(nb, self.page_title, self.settings.assets_href)

    # -- per format -------------------------------------------------------------------------

    def render_format(self, fmt: Format, variants: list[Variant]) -> None:
        cells = self._prepare(fmt, variants)
        if cells is None:
            return
        for variant in variants:
            if variant.format in _EXECUTED:
                continue
            self._guard([variant], lambda v=variant: self._write_plain(v, cells))
        executed = [v for v in variants if v.format in _EXECUTED]
        if executed:
            self._render_html(executed, cells)

    def _prepare(self, fmt: Format, variants: list[Variant]) -> list[SourceCell] | None:
        """For one format: template, parse, ids, warnings."""
        src = self.src
        expanded = expand(
            src.text,
            prog_lang=src.prog_lang,
            lang=self.lang,
            fmt=fmt,
            author=self.settings.author.get(self.lang, ""),
            organization=self.settings.organization.get(self.lang, ""),
            beside=src.topic_files,
            notebook_dir=src.notebook_dir,
            course_templates=src.course_templates,
            name=self.page_title,
            source_name=src.path,
        )
        self.templates_used.update(expanded.templates_used)
        if isinstance(expanded, TemplateFailure):
            self._template_failed(expanded, variants)
            return None
        try:
            cells = parse_cells(expanded, LANGUAGES[src.prog_lang].jupytext_format)
        except ParseError as exc:
            first, _, rest = str(exc).partition("\n")
            self.collector.fail(variants, f"source not parseable: {first}", detail=rest or None)
            return None
        for cell in cells:
            for warning in tags.check_cell(cell):
                self.collector.warn(warning.line, warning.message)
        return cells

    def _template_failed(self, failure: TemplateFailure, variants: list[Variant]) -> None:
        """A template error; one inside a course template or a file beside the notebook
        is located there (every deck using it then reports the same problem), one in
        clx's bundled templates at the deck's line that called it."""
        shared = _template_path(self.src, failure)
        if shared is None:
            self.collector.fail(variants, failure.message, line=failure.line, detail=failure.detail)
        else:
            self.collector.fail(variants, failure.message, line=failure.template_line, file=shared)

    def _write_plain(self, variant: Variant, cells: list[SourceCell]) -> None:
        nb = self._kind_notebook(cells, variant.kind)[0]
        if variant.format is Format.NOTEBOOK:
            self.result.outputs[variant] = formats.write_ipynb(nb)
        else:
            self.result.outputs[variant] = formats.write_code(nb, self.src.prog_lang)

    def _kind_notebook(
        self, cells: list[SourceCell], kind: Kind
    ) -> tuple[NotebookNode, list[SourceCell]]:
        pairs = tags.kind_cells(cells, self.lang, kind)
        nb = formats.notebook_node([node for _, node in pairs], self.src.prog_lang)
        return nb, [cell for cell, _ in pairs]

    # -- HTML -----------------------------------------------------------------------------------

    def _render_html(self, variants: list[Variant], cells: list[SourceCell]) -> None:
        """HTML pages and decks: each executed kind runs once for all its formats."""
        for variant in variants:
            if variant.kind is Kind.CODE_ALONG and variant.format is Format.HTML:
                self._guard([variant], lambda v=variant: self._export(v, cells, Kind.CODE_ALONG))
        completed = [v for v in variants if v.kind is Kind.COMPLETED]
        speaker = [v for v in variants if v.kind is Kind.SPEAKER]
        if completed and speaker and not tags.has_code_notes(cells, self.lang):
            self._guard(
                completed + speaker,
                lambda: self._speaker_and_completed(completed, speaker, cells),
            )
            return
        for group in (completed, speaker):
            if group:
                self._guard(group, lambda g=group: self._executed(g, cells))

    def _export(self, variant: Variant, cells: list[SourceCell], kind: Kind) -> None:
        nb = self._kind_notebook(cells, kind)[0]
        self.result.outputs[variant] = self._html(nb)

    def _executed(self, group: list[Variant], cells: list[SourceCell]) -> None:
        nb, origins = self._kind_notebook(cells, group[0].kind)
        done = self._execute(nb, origins, group)
        if done is not None:
            self._write_executed(group, done, origins)

    def _speaker_and_completed(
        self, completed: list[Variant], speaker: list[Variant], cells: list[SourceCell]
    ) -> None:
        nb, origins = self._kind_notebook(cells, Kind.SPEAKER)
        done = self._execute(nb, origins, completed + speaker)
        if done is None:
            return
        self._write_executed(speaker, done, origins)
        public = done.copy()
        kept = [i for i, origin in enumerate(origins) if "notes" not in origin.tags]
        public.cells = [done.cells[i] for i in kept]
        self._write_executed(completed, public, [origins[i] for i in kept])

    def _write_executed(
        self, group: list[Variant], nb: NotebookNode, origins: list[SourceCell]
    ) -> None:
        for variant in group:
            if variant.format is Format.SLIDES:
                info = slides.DeckInfo(
                    title=self.page_title,
                    lang=self.lang,
                    prog_lang=self.src.prog_lang,
                    assets=self.settings.assets_href,
                    speaker=variant.kind is Kind.SPEAKER,
                )
                self.result.outputs[variant] = slides.write_deck(nb, origins, info)
            else:
                self.result.outputs[variant] = self._html(nb)

    def _execute(
        self, nb: NotebookNode, origins: list[SourceCell], variants: list[Variant]
    ) -> NotebookNode | None:
        """The executed notebook, or None after recording why it failed."""
        if not self.settings.execute:
            return nb  # execution switched off for this language or topic
        if not any(c.cell_type == "code" and c.source.strip() for c in nb.cells):
            return nb  # nothing to run: no kernel needed
        prog = LANGUAGES[self.src.prog_lang]
        executor = self.executor()
        try:
            done = executor.execute(
                nb,
                kernel_name=prog.kernel_name,
                files=self.src.topic_files,
                notebook_dir=self.src.notebook_dir,
                cell_timeout=self.settings.cell_timeout,
                retries=self.settings.kernel_retries,
                output_grace=prog.output_grace,
                allow_errors=self.settings.allow_errors,
                interpreter=self.settings.python or None,
                preload=self.settings.preload,
            )
            self.result.modules = sorted({*self.result.modules, *executor.last_modules})
            limit = self.settings.max_output_bytes
            for index, total in bound_outputs(done, limit):
                self.collector.warn(
                    origins[index].line,
                    f"cell output of {megabytes(total)} truncated to {megabytes(limit)} "
                    "(max-output-mb in clx.toml)",
                )
            if self.settings.allow_errors:
                self._allowed_errors(done, origins)
            return done
        except CellFailed as failure:
            self._cell_failed(failure, nb, origins, variants)
        except KernelMissing as missing:
            self.collector.fail(variants, str(missing), category=Category.CONFIGURATION)
        except KernelFailed as dead:
            self.collector.fail(
                variants, dead.message, category=Category.INFRASTRUCTURE, detail=dead.detail or None
            )
        finally:
            self.result.executions += executor.last_attempts
        return None

    def _allowed_errors(self, done: NotebookNode, origins: list[SourceCell]) -> None:
        """Where errors are allowed, each failing cell (not tagged ``raises-exception``)
        keeps its error output and is listed once as a warning with its line."""
        for cell, origin in zip(done.cells, origins, strict=True):
            if cell.cell_type != "code" or "raises-exception" in origin.tags:
                continue
            for out in cell.get("outputs", []):
                if out.get("output_type") != "error":
                    continue
                value = strip_ansi(str(out.get("evalue", ""))).strip().splitlines()
                offset = cell_line_offset(strip_ansi("\n".join(out.get("traceback", []))))
                line = origin.body_line(offset) if offset else origin.line
                message = f"{out.get('ename', 'Error')}: {value[0] if value else ''}".rstrip(": ")
                self.collector.warn(line, f"cell failed where errors are allowed: {message}")

    def _cell_failed(
        self,
        failure: CellFailed,
        nb: NotebookNode,
        origins: list[SourceCell],
        variants: list[Variant],
    ) -> None:
        if not 0 <= failure.cell_index < len(origins):
            self.collector.fail(variants, failure.message, detail=failure.traceback or None)
            return
        origin = origins[failure.cell_index]
        source_lines = nb.cells[failure.cell_index].source.splitlines()
        offset = failure.line_offset
        line = origin.body_line(offset) if offset else origin.line
        detail = _cell_excerpt(source_lines, origin, offset, failure.message) or None
        hint = missing_module_hint(failure.message, self.src.prog_lang, self.settings.python)
        message = f"{failure.message} ({hint})" if hint else failure.message
        self.collector.fail(variants, message, line=line, detail=detail)

    # -- helpers ------------------------------------------------------------------------------

    def executor(self) -> Executor:
        if self._executor is None and self._own_executor is None:
            self._own_executor = Executor()
        ex = self._executor or self._own_executor
        assert ex is not None
        return ex

    def close(self) -> None:
        if self._own_executor is not None:
            self._own_executor.close()

    def _guard(self, variants: list[Variant], work: Callable[[], None]) -> None:
        """Run ``work``; an unexpected exception fails these variants, not the others."""
        try:
            work()
        except Exception as exc:  # a bug or a tool crash: report it, keep going
            for variant in variants:
                self.result.outputs.pop(variant, None)
            self.collector.fail(
                variants,
                f"internal error: {type(exc).__name__}: {exc}",
                category=Category.INFRASTRUCTURE,
                detail=traceback.format_exc(limit=8),
            )


def _template_path(src: NotebookSource, failure: TemplateFailure) -> str | None:
    """The course-relative path of the author's template a failure lies in, if any."""
    if failure.template is None or failure.template_line is None:
        return None
    if failure.template_origin == "course":
        return f"templates/{failure.template}"
    if failure.template_origin == "beside":
        folder = src.path.rsplit("/", 1)[0] if "/" in src.path else ""
        return f"{folder}/{failure.template}" if folder else failure.template
    return None


def _cell_excerpt(
    source_lines: list[str], origin: SourceCell, offset: int | None, message: str
) -> str:
    """The failing cell's own source around the failing line (marked ``>``), then the
    final exception line. Library frames (pandas, turtle, …) tell the author nothing
    about their own code, so the kernel's traceback is not part of the excerpt."""
    if offset and 1 <= offset <= len(source_lines):
        first = max(offset - _BEFORE, 1)
        shown = range(first, min(offset + _AFTER, len(source_lines)) + 1)
    else:
        offset = None
        shown = range(1, min(len(source_lines), _CELL_HEAD) + 1)
    lines = [
        f"{'>' if i == offset else ' '}{origin.body_line(i):>4} | {source_lines[i - 1]}"
        for i in shown
    ]
    final = message.strip().splitlines()[-1] if message.strip() else ""
    return "\n".join([*lines, final] if final else lines)
