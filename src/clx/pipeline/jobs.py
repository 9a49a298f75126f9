"""From the output plan to queue jobs: one per (notebook, language) and one per diagram.

Every input a job reads is hashed once and put into the blob store; the payload names
inputs by hash, so the cache key below covers exactly what the worker will process.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clx.course.course import Course
from clx.course.files import FileClass
from clx.course.images import missing_images
from clx.course.outputs import DiagramOutput, NotebookOutput, OutputPlan
from clx.course.topics import Topic, TopicFinder
from clx.course.variants import LANGS, Format
from clx.diagrams.payload import DiagramJobPayload
from clx.notebooks.model import DEFAULT_MAX_OUTPUT_BYTES
from clx.notebooks.payload import NotebookJobPayload
from clx.pipeline.execution_policy import ExecutionPolicy, executed_label
from clx.pipeline.kernel_environments import CourseKernels
from clx.pipeline.language_view import MEMO_NAME, ViewMemo, language_view
from clx.problems import Problem, Severity
from clx.queue.model import NewJob
from clx.store import BlobStore

PIPELINE_VERSION = "clx-1"  # bump when processing changes in a way the versions miss
# Ingredient that is not part of the key: where the source lines a job's problems name
# are (clx.pipeline.language_view); a cached result with problems needs them unchanged.
SOURCE_LINES = "source_lines"
_PAGE_FORMATS = (Format.HTML, Format.SLIDES)


@dataclass(frozen=True)
class BuildSettings:
    cell_timeout: float = 120.0
    image_formats: tuple[str, ...] = ("png",)
    max_output_bytes: int = DEFAULT_MAX_OUTPUT_BYTES
    execute_skip: tuple[str, ...] = ()  # prog-lang ids built unexecuted ([execute] skip)
    allow_errors: tuple[str, ...] = ()  # prog-lang ids whose cells may fail
    python: str = ""  # the course's interpreter (clx.notebooks.environments); "": clx's own


@dataclass
class PlannedJob:
    job: NewJob
    source_rel: str
    labels: dict[str, str]  # output label (variant label or image format) -> output path
    ingredients: dict[str, Any]  # what went into the cache key, for `clx cache explain`
    diagram: DiagramOutput | None = None
    job_id: int | None = None

    @property
    def variants(self) -> list[str]:
        return sorted(self.labels) if self.diagram is None else []


def ingredients_of(kind: str, payload: dict[str, Any], versions: dict[str, str]) -> dict[str, Any]:
    """The parts of a cache key, each hashed, so a changed key can be explained."""
    def h(value: Any) -> str:
        blob = json.dumps(value, sort_keys=True).encode("utf-8")
        return hashlib.sha256(blob).hexdigest()[:16]

    parts: dict[str, Any] = {"kind": kind, "versions": dict(versions)}
    for k, v in sorted(payload.items()):
        if k == "outputs":
            parts["labels"] = sorted(v)
            continue
        if k == "file":
            continue
        if k in ("kernel", "chromium"):  # readable: `clx cache explain` names them
            parts[k] = v
            continue
        parts[k] = dict(v) if k in ("topic_files", "course_templates") else h(v)
    return parts


def cache_key(kind: str, payload: dict[str, Any], versions: dict[str, str]) -> str:
    """Hash of everything that affects the job's bytes, minus where they are written."""
    canonical = {k: v for k, v in payload.items() if k not in ("outputs", "file")}
    # Which variants are produced matters (a focused build makes fewer); where they go not.
    canonical["labels"] = sorted(payload.get("outputs", {}))
    blob = json.dumps([kind, canonical, versions, PIPELINE_VERSION], sort_keys=True)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class JobPlanner:
    def __init__(self, course: Course, plan: OutputPlan, settings: BuildSettings,
                 versions: dict[str, str] | None = None) -> None:
        self.course = course
        self.plan = plan
        self.settings = settings
        self.versions = versions or {}
        self.blobs = BlobStore(course.state_dir / "blobs")
        self._file_hashes: dict[Path, str] = {}
        self._topic_files: dict[tuple[str, str], dict[str, str]] = {}
        self._templates: dict[str, str] | None = None
        self._renders: set[Path] | None = None
        self._template_texts: dict[str, str] | None = None
        self._chromium: str | None = None
        self.views = ViewMemo(course.state_dir / MEMO_NAME)
        # What runs each notebook's kernel (clx.pipeline.kernel_environments).
        self.kernels = CourseKernels(course.state_dir, settings.python,
                                     lambda p: self.blobs.get(self.put(p)))
        self.execution = ExecutionPolicy(
            settings.execute_skip, settings.allow_errors, unusable=self.kernels.unusable
        )

    def chromium(self) -> str:
        if self._chromium is None:
            from clx.diagrams.tools import chromium_identity
            from clx.stamped_memo import StampedMemo

            memo = StampedMemo(self.course.state_dir / "tools.json")
            self._chromium = chromium_identity(memo)
        return self._chromium

    def put(self, path: Path) -> str:
        digest = self._file_hashes.get(path)
        if digest is None:
            digest = self._file_hashes[path] = self.blobs.put(path.read_bytes())
        return digest

    def renders(self) -> set[Path]:
        """Where the planned diagrams render, next to the notebooks that show them."""
        if self._renders is None:
            self._renders = {
                (d.topic.base / d.render_target).resolve() for d in self.plan.diagrams
            }
        return self._renders

    def course_templates(self) -> dict[str, str]:
        if self._templates is None:
            folder = self.course.root / "templates"
            self._templates = {}
            links = TopicFinder(self.course.root, self.course.prog_lang)
            if folder.is_dir() and not links.leaves_root(folder):
                for p in sorted(folder.rglob("*")):
                    if p.is_file() and not links.leaves_root(p):
                        self._templates[p.relative_to(folder).as_posix()] = self.put(p)
            self.plan.warnings.extend(links.warnings)
        return self._templates

    def topic_files(self, topic: Topic, exclude: str) -> dict[str, str]:
        """The topic's other files (no diagram sources) by relative path → hash."""
        key = (topic.id, exclude)
        if key not in self._topic_files:
            self._topic_files[key] = {
                f.relpath: self.put(f.path)
                for f in topic.files
                if f.cls in (FileClass.DATA, FileClass.NOTEBOOK) and f.relpath != exclude
            }
        return self._topic_files[key]

    def jobs(self) -> list[PlannedJob]:
        out: list[PlannedJob] = []
        for nb in self.plan.notebooks:
            out.extend(self.notebook_jobs(nb))
        for d in self.plan.diagrams:
            out.append(self.diagram_job(d))
        self.views.save()
        self.kernels.save()
        for problem in self.execution.problems(self.course.spec.file):
            (self.plan.errors if problem.is_error else self.plan.warnings).append(problem)
        return out

    def notebook_jobs(self, nb: NotebookOutput) -> list[PlannedJob]:
        raw = nb.file.path.read_bytes().decode("utf-8", errors="replace")
        text = raw.replace("\r\n", "\n")  # one key for either line ending
        notebook_dir = nb.file.relpath.rsplit("/", 1)[0] if "/" in nb.file.relpath else ""
        spec = self.course.spec
        for line, src in missing_images(nb.file.path, text, nb.prog_lang.comment, self.renders()):
            self.plan.warnings.append(Problem(f"image not found: {src}", file=nb.source_rel,
                                              line=line, severity=Severity.WARNING))
        jobs = []
        run = self.execution.of(nb)
        for lang in LANGS:
            outputs = {v.label: str(p) for v, p in nb.paths.items() if v.lang == lang
                       and not (run.kernel_missing and executed_label(v.label))}
            if not outputs:
                continue
            # Every HTML page and deck of one notebook and language sits at the same depth.
            pages = [v for v in nb.paths if v.lang == lang and v.format in _PAGE_FORMATS]
            assets = (self.plan.layout.assets_href(pages[0], nb.prog_lang, nb.section.name)
                      if pages else "")
            # Whether a kernel runs for this job: only then do the interpreter and the
            # kernel's environment shape its bytes (and belong in its key).
            runs = (run.execute and not run.kernel_missing
                    and any(executed_label(label) for label in outputs))
            payload = NotebookJobPayload(
                source_path=nb.source_rel,
                text=text,
                prog_lang=nb.prog_lang.id,
                lang=lang,
                notebook_dir=notebook_dir,
                topic_files=self.topic_files(nb.topic, nb.file.relpath),
                course_templates=self.course_templates(),
                author=spec.author[lang],
                organization=spec.organization[lang],
                page_title=nb.page_title(lang),
                cell_timeout=self.settings.cell_timeout,
                max_output_bytes=self.settings.max_output_bytes,
                outputs=outputs,
                assets_href=assets,
                execute=run.execute,
                allow_errors=run.allow_errors,
                python=self.kernels.payload_python(nb) if runs else "",
            ).to_dict()
            payload["file"] = nb.source_rel  # the runtime names this file in problems
            # What runs the kernel (clx.notebooks.environments): its environment changes,
            # say a package installed into the course's Python, re-run the job.
            payload["kernel"] = self.kernels.identity(nb, text) if runs else ""
            keyed, lines = self.as_seen(payload)
            key = cache_key("notebook", keyed, self.versions)
            job = NewJob("notebook", payload, key, tuple(sorted(outputs.values())))
            ingredients = ingredients_of("notebook", keyed, self.versions)
            ingredients[SOURCE_LINES] = lines
            jobs.append(PlannedJob(job, nb.source_rel, outputs, ingredients))
        return jobs

    def as_seen(self, payload: dict[str, Any]) -> tuple[dict[str, Any], str]:
        """The payload as the key sees it: the source and course templates as this
        language sees them (clx.pipeline.language_view), and where its lines are."""
        formats = sorted({Format(label.rsplit("/", 1)[1]) for label in payload["outputs"]})
        args = {k: payload[k] for k in ("text", "prog_lang", "lang", "author", "organization",
                                        "topic_files", "notebook_dir", "course_templates",
                                        "page_title", "source_path")}
        view = self.views.view(
            [args, [str(f) for f in formats], self.versions, PIPELINE_VERSION],
            lambda: language_view(
                payload["text"], prog_lang=payload["prog_lang"], lang=payload["lang"],
                formats=formats, author=payload["author"],
                organization=payload["organization"], topic_files=payload["topic_files"],
                read_blob=self.blobs.get, notebook_dir=payload["notebook_dir"],
                course_templates=self.template_texts(), name=payload["page_title"],
                source_name=payload["source_path"],
            ))
        # "preload" is a speed hint for the workers (clx.pipeline.preload), never a key.
        keyed = {k: v for k, v in payload.items() if k not in ("text", "preload")}
        keyed["source"] = view.digest
        if view.templates_used is not None:
            keyed["course_templates"] = {n: h for n, h in payload["course_templates"].items()
                                         if n in view.templates_used}
        return keyed, view.lines_digest

    def template_texts(self) -> dict[str, str]:
        if self._template_texts is None:
            self._template_texts = {
                n: self.blobs.get(h).decode("utf-8", errors="replace")
                for n, h in self.course_templates().items()
            }
        return self._template_texts

    def diagram_job(self, d: DiagramOutput) -> PlannedJob:
        digest = self.put(d.file.path)
        kind = "plantuml" if d.file.cls is FileClass.PLANTUML else "drawio"
        renders = self.course.state_dir / "renders"
        outputs = {fmt: str(renders / f"{digest}.{fmt}") for fmt in self.settings.image_formats}
        payload = DiagramJobPayload(d.source_rel, digest, outputs, target=d.render_target).to_dict()
        payload["file"] = d.source_rel
        if kind == "drawio":  # the browser that draws it (clx.diagrams.tools)
            payload["chromium"] = self.chromium()
        key = cache_key(kind, payload, self.versions)
        job = NewJob(kind, payload, key, tuple(sorted(outputs.values())))
        return PlannedJob(job, d.source_rel, outputs, ingredients_of(kind, payload, self.versions),
                          diagram=d)
