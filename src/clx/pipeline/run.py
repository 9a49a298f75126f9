"""One build, start to end: plan → cache → submit → wait → place → sweep → report.

Nothing is written to the output trees before the plan is complete; cache hits are
restored and copies run while the workers are busy; renders are placed once their
jobs finish; every failure ends up in the report with its source file, and the exit
status says whether any did.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from clx.course.course import Course, load_course
from clx.course.languages import LANGUAGES
from clx.course.layout import Layout
from clx.course.outputs import Focus, OutputPlan, plan_outputs
from clx.course.variants import DEFAULT_FORMATS, Format
from clx.dbconnect import take_recoveries
from clx.notebooks.environments import course_python
from clx.notebooks.model import DEFAULT_MAX_OUTPUT_BYTES
from clx.pipeline.assets import add_asset_copies
from clx.pipeline.backend import SqliteBackend, StallError
from clx.pipeline.buildlock import one_build_at_a_time
from clx.pipeline.cache import BuildCache, CacheEntry
from clx.pipeline.cache_gc import DEFAULT_KEEP_DAYS, prune, running_builds, sweep_files
from clx.pipeline.copy import CopyResult, copy_files, place_render
from clx.pipeline.durations import prioritize, record_finished
from clx.pipeline.execution_policy import executed_label
from clx.pipeline.homepage import write_home_pages
from clx.pipeline.jobs import SOURCE_LINES, BuildSettings, JobPlanner, PlannedJob
from clx.pipeline.manifest import update_manifest
from clx.pipeline.preload import CoursePreload
from clx.pipeline.progress import PlainProgress, Progress
from clx.pipeline.report import BuildReport
from clx.pipeline.retries import RetryTracker
from clx.pipeline.runtime import BuildRuntime
from clx.pipeline.versions import tool_versions
from clx.problems import Category, Problem, Severity
from clx.queue.model import JobRecord, JobState, RunningJob
from clx.store import atomic_write
from clx.workers.pool import PoolError

log = logging.getLogger(__name__)


@dataclass
class BuildOptions:
    spec: Path
    course_root: Path | None = None
    output_root: Path | None = None
    notebook_workers: int | None = None  # None: one per CPU
    plantuml_workers: int = 1
    drawio_workers: int = 1
    cell_timeout: float = 120.0
    image_format: str = "png"
    write_source_renders: bool = False
    stall_timeout: float = 300.0
    ignore_cache: bool = False
    retry_failed: bool = False
    # A build that planned the whole course prunes cache entries unused for this long.
    cache_keep_days: float = DEFAULT_KEEP_DAYS
    # A notebook cell's outputs beyond this are truncated (enters the cache key).
    max_output_mb: float = DEFAULT_MAX_OUTPUT_BYTES / 1_000_000
    # Wall clock (Unix seconds) for "last used" stamps and the clean-up; tests pass their own.
    clock: Callable[[], float] = time.time
    progress: Progress = field(default_factory=PlainProgress)
    # Watch mode: returns the changed source paths since the build started (or nothing);
    # a non-empty answer cancels the affected jobs and ends the build early.
    superseded: Callable[[], set[str]] | None = None
    # Focused builds: None means all. Sections by id (1-based index) or name (either language).
    langs: tuple[str, ...] | None = None
    kinds: tuple[str, ...] | None = None
    formats: tuple[str, ...] | None = None
    # The formats of a build without --format (clx.toml `formats`); slides are opt-in.
    output_formats: tuple[str, ...] = tuple(str(f) for f in DEFAULT_FORMATS)
    targets: tuple[str, ...] | None = None  # "public" / "speaker"
    sections: tuple[str, ...] | None = None
    # A PostgreSQL queue URL (None: the course's SQLite file) and how many local workers
    # per kind to start at most (0: none, remote `clx worker`s do the work; None: all).
    queue_url: str | None = None
    local_workers: int | None = None
    # prog-lang ids: built without executing ([execute] skip, --no-execute), or whose
    # cells may fail ([execute] allow-errors); see clx.pipeline.execution_policy.
    execute_skip: tuple[str, ...] = ()
    allow_errors: tuple[str, ...] = ()
    # clx.toml [kernels] python (absolute); None: clx.notebooks.environments decides.
    python: Path | None = None

    def focus(self) -> Focus:
        return Focus.of(self.langs, self.kinds, self.formats, self.targets, self.sections)


@dataclass
class JobResult:
    """What one planned job ended with, whether it ran now or came from the cache."""

    state: str  # succeeded / failed / cancelled / cached / cached-failed / not finished
    problems: list[Problem] = field(default_factory=list)
    written: set[str] = field(default_factory=set)  # output paths that hold this build's bytes
    restored: int = 0  # outputs a cache hit had to write (missing or different)


def default_notebook_workers() -> int:
    return max(1, os.cpu_count() or 1)


def build_settings(opts: BuildOptions) -> BuildSettings:
    """The options that enter cache keys, as the planner takes them."""
    formats = ("png", "svg") if opts.image_format == "svg" else ("png",)
    return BuildSettings(cell_timeout=opts.cell_timeout, image_formats=formats,
                         max_output_bytes=round(opts.max_output_mb * 1_000_000),
                         execute_skip=opts.execute_skip, allow_errors=opts.allow_errors)


def plan_jobs(course: Course, opts: BuildOptions) -> tuple[OutputPlan, list[PlannedJob]]:
    """The output plan and the jobs (with their cache keys) a build with ``opts`` runs.

    `clx build` and `clx cache explain` both plan through here, so explain answers with
    exactly the keys the build uses: the settings above, and the focus, which decides
    which variants a job produces (``--kind``, ``--format`` and ``--target`` change them).
    """
    plan = plan_outputs(course, opts.focus(), tuple(Format(f) for f in opts.output_formats))
    add_asset_copies(plan)  # MathJax, require.js, reveal.js … once per output tree
    settings = replace(build_settings(opts), python=course_python(course.root, opts.python))
    return plan, JobPlanner(course, plan, settings, tool_versions()).jobs()


def build(opts: BuildOptions, runtime: BuildRuntime | None = None) -> BuildReport:
    """Run one build. Spec errors raise SpecError before any work starts.

    With a ``runtime`` (watch mode) the build uses its queue session and warm workers;
    otherwise it starts its own and stops them at the end, and waits while another
    build of the course runs (clx.pipeline.buildlock).
    """
    with contextlib.ExitStack() as held:
        return _build(opts, runtime, held)


def _build(opts: BuildOptions, runtime: BuildRuntime | None,
           held: contextlib.ExitStack) -> BuildReport:
    t0 = time.monotonic()
    started = opts.clock()
    course = load_course(opts.spec, opts.course_root, opts.output_root)
    if runtime is None:  # a spec error above leaves no trace in the course
        held.enter_context(one_build_at_a_time(course.state_dir, opts.progress.message))
    focus = opts.focus()
    course.state_dir.mkdir(parents=True, exist_ok=True)
    plan, planned = plan_jobs(course, opts)
    preload = CoursePreload(course.state_dir)
    preload.hand_to(planned)  # what the notebooks imported last time, for the fork server
    report = BuildReport(warnings=course.warnings + plan.warnings, errors=list(plan.errors))
    formats = build_settings(opts).image_formats
    copies = CopyResult()
    results: dict[int, JobResult] = {}

    with BuildCache(course.state_dir) as cache:
        to_run = []
        for i, p in enumerate(planned):
            hit = None if opts.ignore_cache else _restore(cache, p, opts)
            if hit is None:
                to_run.append(p)
            else:
                results[i] = hit
        opts.progress.start(_by_kind(to_run), _by_kind(
            [p for i, p in enumerate(planned) if i in results]))
        prioritize(to_run, course.state_dir)  # longest expected first
        index = {id(p): i for i, p in enumerate(planned)}

        def finished(p: PlannedJob) -> None:
            """Cache each result as its job finishes: a killed build keeps finished work."""
            i = index[id(p)]
            results[i] = _result_of(p, report)
            _remember_safely(cache, p, results[i], opts.clock(), report)

        try:
            _run_jobs(runtime, course.state_dir / "clx.db", to_run, plan.copies, opts, report,
                      copies, counts=_worker_counts(planned, opts) if runtime else None,
                      on_job=finished, python=course_python(course.root, opts.python))
        finally:
            opts.progress.stop()
            # A build focused on some formats, kinds or tiers gives its jobs fewer
            # variants (a code-along notebook alone executes nothing): its durations
            # would stand for the whole job's under the same key.
            if focus.kinds is None and focus.formats is None and focus.tiers is None:
                record_finished(to_run, report.finished, course.state_dir)
            for i, p in enumerate(planned):
                if i not in results:
                    results[i] = _result_of(p, report)
                    _remember_safely(cache, p, results[i], opts.clock(), report)
    _place_and_report(planned, results, opts, report, copies)
    _record_preload(preload, planned, report, complete=focus.everything)
    # The home pages list every deck of the course, also after a focused build (in every
    # format: they link what exists, so the decks of a `--format slides` build too).
    whole = plan if focus.everything else plan_outputs(course, formats=tuple(Format))
    report.errors.extend(write_home_pages(plan, whole))
    report.copies_written, report.copies_unchanged = copies.written, copies.unchanged
    report.errors.extend(copies.errors)

    layout = Layout(course.output_root, course.spec.name)
    planned_paths = plan.all_paths()
    if "svg" in formats:  # SVG renders sit next to their PNGs
        planned_paths += [t.with_suffix(".svg") for d in plan.diagrams for t in d.targets]
    produced = {p for p in planned_paths if p.exists()}
    report.outputs = len(produced)
    report.output_root = str(course.output_root)
    report.output_trees = [layout.relative(t) for t in layout.roots() if t.is_dir()]
    # A focused or interrupted build saw only part of the course: it must not sweep.
    complete = not report.interrupted and focus.everything
    report.errors.extend(_update_manifest(layout, course.spec.file, produced, complete=complete))
    if complete:  # and for the same reason must not prune the cache
        _prune_cache(course, planned, opts, report, started)
    report.warnings.extend(
        Problem(line, severity=Severity.WARNING, category=Category.INFRASTRUCTURE)
        for line in take_recoveries()  # damaged state databases, moved aside
    )
    report.wall_seconds = time.monotonic() - t0
    return report


def _record_preload(preload: CoursePreload, planned: list[PlannedJob], report: BuildReport,
                    *, complete: bool) -> None:
    """Remember what the notebooks imported (clx.pipeline.preload); a failure to write it
    only costs the next build its head start."""
    preload.learn(planned, report.finished, complete=complete and not report.interrupted)
    try:
        preload.save()
    except OSError as e:
        log.info("cannot write the preload list %s: %s", preload.path, e)


def _by_kind(jobs: list[PlannedJob]) -> dict[str, int]:
    out: dict[str, int] = {}
    for p in jobs:
        out[p.job.kind] = out.get(p.job.kind, 0) + 1
    return out


# --- cache ------------------------------------------------------------------------------

def _restore(cache: BuildCache, p: PlannedJob, opts: BuildOptions) -> JobResult | None:
    entry = cache.get(p.job.cache_key)
    if entry is None or (entry.failed and opts.retry_failed) or lines_moved(entry, p):
        return None
    data = cache.load_verified(entry)
    if data is None:
        return None  # a blob is missing or corrupt: run the job again
    written = set()
    restored = 0
    for label, content in data.items():
        path = p.labels.get(label)
        if path is not None:
            try:
                restored += atomic_write(Path(path), content)
            except OSError:
                return None  # run the job; a write failure there reaches the report
            written.add(path)
    cache.remember_paths(p.job.cache_key, p.labels, now=opts.clock())
    # Diagram hits restore .clx/renders; their placement counts as copies written.
    restored = 0 if p.diagram is not None else restored
    if not entry.failed:
        return JobResult("cached", [w for w in entry.problems if not w.is_error], written,
                         restored)
    return JobResult("cached-failed", _cached_problems(entry, p), written, restored)


def lines_moved(entry: CacheEntry, p: PlannedJob) -> bool:
    """Would the entry's problems name the wrong source lines? The key of a notebook job
    leaves out where its lines are (an edit of the other language moves them); a result
    with problems that name lines is only reused while they have not moved."""
    return (any(pr.line is not None for pr in entry.problems)
            and entry.ingredients.get(SOURCE_LINES) != p.ingredients.get(SOURCE_LINES))


def _cached_problems(entry: CacheEntry, p: PlannedJob) -> list[Problem]:
    out = []
    for prob in entry.problems:
        if prob.is_error:
            prob = replace(prob, message=f"{prob.message} (cached; unchanged since the failing "
                                         "build, use --retry-failed to run it again)")
        out.append(prob)
    return out


def _remember(cache: BuildCache, p: PlannedJob, r: JobResult, now: float) -> None:
    """Store successes and content failures; infrastructure trouble is never cached."""
    if r.state == "succeeded":
        state = "succeeded"
    elif r.state == "failed" and r.problems and all(
        pr.category is Category.CONTENT for pr in r.problems if pr.is_error
    ):
        state = "failed"
    else:
        return
    outputs = {}
    for label, path in p.labels.items():
        if path in r.written:
            try:
                outputs[label] = Path(path).read_bytes()
            except OSError:
                return
    cache.record(p.job.cache_key, p.job.kind, state, outputs, r.problems, p.ingredients,
                 p.source_rel, p.labels, now=now)


def _remember_safely(cache: BuildCache, p: PlannedJob, r: JobResult, now: float,
                     report: BuildReport) -> None:
    """A result that cannot be cached (disk full, say) is a warning: the build goes on."""
    try:
        _remember(cache, p, r, now)
    except (OSError, sqlite3.Error) as e:
        report.warnings.append(Problem(f"caching the result failed: {e}", file=p.source_rel,
                                       severity=Severity.WARNING,
                                       category=Category.INFRASTRUCTURE))


def _prune_cache(course: Course, planned: list[PlannedJob], opts: BuildOptions,
                 report: BuildReport, started: float) -> None:
    """After a build that planned the whole course: drop what no build has needed for a
    while (clx.pipeline.cache_gc). Skipped while another build of the course runs, since
    its plan may need inputs this one does not; a failure here is a warning, never a
    failed build."""
    try:
        others = running_builds(course.state_dir, exclude_pid=os.getpid())
        if others:
            log.info("another build of this course is running: the cache is not pruned")
            return
        with BuildCache(course.state_dir) as cache:
            result = prune(cache, now=opts.clock(), keep_days=opts.cache_keep_days,
                           blob_cutoff=started,
                           plan_keys={p.job.cache_key for p in planned},
                           plan_inputs=_input_digests(planned))
        renders = {path for p in planned if p.diagram is not None for path in p.labels.values()}
        result.add(sweep_files(course.state_dir / "renders", renders, cutoff=started))
    except Exception as e:  # a clean-up must not turn a good build into a failed one
        report.warnings.append(Problem(f"cleaning up the build cache failed: {e}",
                                       severity=Severity.WARNING,
                                       category=Category.INFRASTRUCTURE))
        return
    if result.freed:
        report.cache_gc = result


def _input_digests(planned: list[PlannedJob]) -> set[str]:
    """The blobs the planned jobs read: topic files and templates, diagram sources."""
    out: set[str] = set()
    for p in planned:
        payload = p.job.payload
        out.update((payload.get("topic_files") or {}).values())
        out.update((payload.get("course_templates") or {}).values())
        if isinstance(payload.get("source_sha256"), str):
            out.add(payload["source_sha256"])
    return out


# --- running jobs -----------------------------------------------------------------------

def _worker_counts(planned: list[PlannedJob], opts: BuildOptions) -> dict[str, int]:
    """Workers per kind: as configured, but never more than there are jobs of the kind."""
    wanted = {
        "notebook": opts.notebook_workers or default_notebook_workers(),
        "plantuml": opts.plantuml_workers,
        "drawio": opts.drawio_workers,
    }
    return {kind: min(n, wanted[kind]) for kind, n in _by_kind(planned).items() if kind in wanted}


def _kernels_used(planned: list[PlannedJob]) -> list[str]:
    """The kernelspecs the planned notebook jobs execute on, most used first: the
    workers boot a spare of each while they start."""
    uses: dict[str, int] = {}
    for p in planned:
        payload = p.job.payload
        if p.job.kind != "notebook" or not payload.get("execute", True):
            continue
        if not any(executed_label(label) for label in payload.get("outputs", {})):
            continue
        lang = LANGUAGES.get(str(payload.get("prog_lang")))
        if lang is not None:
            uses[lang.kernel_name] = uses.get(lang.kernel_name, 0) + 1
    return sorted(uses, key=lambda name: (-uses[name], name))


def _preload_of(planned: list[PlannedJob]) -> list[str]:
    """The modules the notebook jobs ask their fork servers to preload (the same list in
    each, clx.pipeline.preload): the workers import them while they start."""
    for p in planned:
        modules = p.job.payload.get("preload") if p.job.kind == "notebook" else None
        if modules:
            return [str(m) for m in modules]
    return []


class Superseded(Exception):
    """Watch mode: sources changed while this build waited; start the next one."""


def _run_jobs(runtime: BuildRuntime | None, db: Path, planned: list[PlannedJob], copies_planned,
              opts: BuildOptions, report: BuildReport, copies: CopyResult,
              counts: dict[str, int] | None = None,
              on_job: Callable[[PlannedJob], None] | None = None,
              python: str | None = None) -> None:
    if not planned:
        copy_files(copies_planned, copies)
        return
    own = runtime is None
    rt = runtime or BuildRuntime(db, info={"spec": str(opts.spec)}, queue_url=opts.queue_url,
                                 local_workers=opts.local_workers, python=python)
    try:
        pool = rt.ensure_workers(counts or _worker_counts(planned, opts), _kernels_used(planned),
                                 _preload_of(planned))
        queue, session = rt.queue, rt.session
        # Prune first: this build's own inputs, refreshed or uploaded next, are never
        # older than the cut-off then.
        rt.prune_server_blobs(opts.cache_keep_days)
        rt.publish_inputs(_input_digests(planned))
        backend = SqliteBackend(queue, session, stall_timeout=opts.stall_timeout)
        # Adopt identical jobs still in flight (watch mode), submit the rest in one go.
        inflight = {(j.cache_key, tuple(j.outputs)): j.id for j in queue.jobs(
            session, states=[JobState.PENDING, JobState.RUNNING])}
        fresh = []
        for p in planned:
            p.job_id = inflight.get((p.job.cache_key, tuple(p.job.outputs)))
            if p.job_id is None:
                fresh.append(p)
            else:
                backend.job_ids.add(p.job_id)
        ids = backend.submit([p.job for p in fresh])
        for p, job_id in zip(fresh, ids, strict=True):
            p.job_id = job_id
        by_id = {p.job_id: p for p in planned}
        copy_files(copies_planned, copies)  # data files and dir-groups meanwhile

        def on_finished(job: JobRecord, done: int, total: int) -> None:
            mine = by_id.get(job.id)
            report.errors.extend(rt.land_outputs(job, mine.job.outputs if mine else ()))
            if job.id in report.finished:  # run again by `clx jobs retry`
                p = by_id.get(job.id)
                opts.progress.message(f"retried job {job.id} ({job.kind}"
                                      f"{', ' + p.source_rel if p else ''}): {job.state}")
                report.finished[job.id] = job
                if on_job is not None and p is not None:
                    on_job(p)
                return
            report.finished[job.id] = job
            if on_job is not None and (p := by_id.get(job.id)) is not None:
                on_job(p)
            problems = ([] if job.state is JobState.SUCCEEDED
                        else _job_problems(job, by_id.get(job.id)))
            opts.progress.job_finished(job.kind, str(job.state), problems)

        last_running = 0.0
        retries = RetryTracker()

        def check() -> None:
            nonlocal last_running
            if pool is not None:
                pool.check()
            if opts.superseded is not None:
                changed = opts.superseded()
                if changed:
                    stale = [p.job_id for p in planned
                             if p.job_id not in report.finished and _touches(p, changed)]
                    if stale:
                        queue.cancel(session, stale)
                    raise Superseded()
            now = time.monotonic()
            if now - last_running >= 0.5:
                last_running = now
                opts.progress.running(_named(queue.running(session), by_id))
                # A retried job waits at least the queue's back-off in pending, with the
                # error of its failed attempt: polling pending and running jobs sees it.
                retries.observe(queue.jobs(session, states=[JobState.PENDING, JobState.RUNNING]))

        try:
            backend.wait(on_finished=on_finished, check=check)
        except StallError as e:
            report.errors.extend(e.problems)
            backend.cancel()
        except PoolError as e:  # a job kind lost every worker: say so, end the build cleanly
            report.errors.append(Problem(str(e), category=Category.INFRASTRUCTURE))
            backend.cancel()
        except KeyboardInterrupt:
            report.interrupted = True
            backend.cancel()
            raise
        finally:
            report.retries = retries.report(report.finished, by_id)
    finally:
        if own:
            rt.close()


def _named(jobs: list[RunningJob], by_id: dict[int | None, PlannedJob]) -> list[RunningJob]:
    """Running jobs as the progress display names them (``outputs[0]``): a diagram by its
    source file (its output is a render in .clx/), a notebook by its source and language."""
    out = []
    for j in jobs:
        p = by_id.get(j.id)
        if p is not None:
            name = p.source_rel.rsplit("/", 1)[-1]
            lang = p.job.payload.get("lang") if p.diagram is None else None
            j = replace(j, outputs=(f"{name} [{lang}]" if lang else name,))
        out.append(j)
    return out


def _touches(p: PlannedJob, changed: set[str]) -> bool:
    """Does a change (paths relative to the course root) invalidate this job?"""
    base = p.source_rel.rsplit("/", 1)[0] + "/"
    return any(c == p.source_rel or c.startswith(base) or c.startswith("templates/")
               for c in changed)


def _job_problems(job: JobRecord, p: PlannedJob | None) -> list[Problem]:
    if job.state is JobState.CANCELLED:
        return [Problem("job cancelled", file=p.source_rel if p else None,
                        variants=tuple(p.variants) if p else (),
                        category=Category.INFRASTRUCTURE)]
    problems = list(job.error.problems) if job.error else []
    if not problems:
        problems = [Problem(f"job {job.id} ({job.kind}) failed without a message",
                            category=Category.INFRASTRUCTURE)]
    return [_locate(pr, p) for pr in problems]


def _locate(pr: Problem, p: PlannedJob | None) -> Problem:
    """A job's problem with the job's file and variants (or render target) where it
    names none, so problems of the two languages' jobs can be grouped in the report."""
    if p is None or (pr.file and (pr.variants or pr.target)):
        return pr
    return replace(pr, file=pr.file or p.source_rel,
                   variants=pr.variants or tuple(p.variants),
                   target=pr.target or (p.diagram.render_target if p.diagram else None))


def _result_of(p: PlannedJob, report: BuildReport) -> JobResult:
    job = report.finished.get(p.job_id) if p.job_id is not None else None
    if job is None:
        problems = []
        if not report.interrupted and not any("stalled" in e.message for e in report.errors):
            problems = [Problem("job did not finish", file=p.source_rel,
                                category=Category.INFRASTRUCTURE)]
        return JobResult("not finished", problems)
    result = job.result or {}
    warnings = [_locate(Problem.from_dict(w), p) for w in result.get("warnings", [])]
    # On a server queue (outputs returned as blobs) the build wrote the outputs itself:
    # only those hold this build's bytes.
    landed = result.get("blobs")
    written = {str(f) for f in result.get("written" if landed else "files", [])}
    if job.state is JobState.SUCCEEDED:
        if result.get("landing_failed"):  # its errors are in the report; never cached
            return JobResult("failed", warnings, written)
        return JobResult("succeeded", warnings, written)
    # A failed job's error repeats the warnings of its result: keep them once.
    errors = [pr for pr in _job_problems(job, p) if pr.is_error or not warnings]
    return JobResult(str(job.state), warnings + errors, written)


# --- placing results and reporting -----------------------------------------------------

def _place_and_report(planned: list[PlannedJob], results: dict[int, JobResult],
                      opts: BuildOptions, report: BuildReport, copies: CopyResult) -> None:
    for i, p in enumerate(planned):
        r = results[i]
        report.count(p.job.kind, r.state)
        report.restored += r.restored
        for prob in r.problems:
            (report.errors if prob.is_error else report.warnings).append(prob)
        if p.diagram is not None and r.state in ("succeeded", "cached"):
            _place_diagram(p, opts, copies)
        else:
            report.warnings.extend(_remove_stale(p, r.written))


def _place_diagram(p: PlannedJob, opts: BuildOptions, copies: CopyResult) -> None:
    d = p.diagram
    assert d is not None
    for fmt, render in sorted(p.labels.items()):
        try:
            data = Path(render).read_bytes()
        except OSError as e:
            copies.errors.append(Problem(f"render missing: {e}", file=p.source_rel,
                                         target=d.render_target))
            continue
        targets = [t if fmt == "png" else t.with_suffix(f".{fmt}") for t in d.targets]
        place_render(data, targets, p.source_rel, copies)
        if opts.write_source_renders:
            dest = d.topic.base / d.render_target
            dest = dest if fmt == "png" else dest.with_suffix(f".{fmt}")
            try:
                atomic_write(dest, data)
            except OSError as e:
                copies.errors.append(Problem(f"writing the render back failed: {e.strerror or e}",
                                             file=p.source_rel, target=str(dest)))


def _remove_stale(p: PlannedJob, written: set[str]) -> list[Problem]:
    """A failed variant leaves no file: remove what an earlier build left at its path."""
    targets = [str(t) for t in p.diagram.targets] if p.diagram else list(p.labels.values())
    problems = []
    for t in targets:
        if t not in written:
            try:
                os.unlink(t)
            except (FileNotFoundError, NotADirectoryError):
                pass
            except OSError as e:
                problems.append(Problem(f"cannot remove the stale output: {e.strerror or e}",
                                        file=p.source_rel, target=t, severity=Severity.WARNING,
                                        category=Category.INFRASTRUCTURE))
    return problems


def _update_manifest(layout: Layout, spec_key: str, produced: set[Path], *,
                     complete: bool) -> list[Problem]:
    """Record this spec's outputs; a complete build also sweeps its stale ones
    (clx.pipeline.manifest keeps one list per spec, so specs sharing a folder coexist).

    Returns the problems: an output tree that refuses a removal or the manifest itself
    fails here cleanly, and the report is still printed."""
    root = layout.output_root
    owned = tuple(r.relative_to(root).as_posix() + "/" for r in layout.roots())
    failed: list[tuple[str, str]] = []
    problems = []
    try:
        update_manifest(layout.manifest_path(), spec_key,
                        {p.relative_to(root).as_posix() for p in produced},
                        sweep_stale=complete, owned_prefixes=owned, failed=failed)
    except OSError as e:
        problems.append(Problem(
            f"writing the output manifest failed: {e.strerror or e}; the next build "
            "cannot remove outputs this one made stale", target=str(layout.manifest_path()),
            category=Category.INFRASTRUCTURE))
    problems += [Problem(f"cannot remove the stale output: {why}", target=rel,
                         severity=Severity.WARNING, category=Category.INFRASTRUCTURE)
                 for rel, why in failed]
    return problems
