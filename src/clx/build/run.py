"""One build, start to end: plan → submit → wait → place → report.

Nothing is written to the output trees before the plan is complete; copies run while
the workers are busy; renders are placed once their jobs finish; every failure ends
up in the report with its source file, and the exit status says whether any did.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from clx.build.backend import SqliteBackend, StallError
from clx.build.copy import CopyResult, copy_files, place_render
from clx.build.jobs import BuildSettings, JobPlanner, PlannedJob
from clx.build.report import BuildReport
from clx.build.versions import tool_versions
from clx.course.course import load_course
from clx.course.outputs import OutputPlan, plan_outputs
from clx.course.spec import SpecError
from clx.problems import Category, Problem
from clx.queue.model import JobRecord, JobState
from clx.queue.sqlite import SqliteQueue
from clx.store import atomic_write
from clx.workers.pool import WorkerPool

log = logging.getLogger(__name__)


@dataclass
class BuildOptions:
    spec: Path
    course_root: Path | None = None
    output_root: Path | None = None
    notebook_workers: int | None = None
    cell_timeout: float = 120.0
    image_format: str = "png"
    write_source_renders: bool = False
    stall_timeout: float = 300.0
    echo: Callable[[str], None] = field(default=lambda line: print(line, file=sys.stderr))


def default_notebook_workers() -> int:
    return max(1, os.cpu_count() or 1)


def build(opts: BuildOptions) -> BuildReport:
    """Run one build. Spec errors raise SpecError before any work starts."""
    t0 = time.monotonic()
    course = load_course(opts.spec, opts.course_root, opts.output_root)
    plan = plan_outputs(course)
    report = BuildReport(warnings=course.warnings + plan.warnings, errors=list(plan.errors))
    course.state_dir.mkdir(parents=True, exist_ok=True)
    formats = ("png", "svg") if opts.image_format == "svg" else ("png",)
    settings = BuildSettings(cell_timeout=opts.cell_timeout, image_formats=formats)
    planned = JobPlanner(course, plan, settings, tool_versions()).jobs()

    kinds: dict[str, int] = {}
    for p in planned:
        kinds[p.job.kind] = kinds.get(p.job.kind, 0) + 1
    counts = {}
    if "notebook" in kinds:
        counts["notebook"] = min(kinds["notebook"],
                                 opts.notebook_workers or default_notebook_workers())
    for k in ("plantuml", "drawio"):
        if k in kinds:
            counts[k] = 1

    copies = CopyResult()
    db = course.state_dir / "clx.db"
    with SqliteQueue(db) as queue:
        session = queue.open_session(info={"spec": str(opts.spec), "pid": os.getpid()})
        try:
            finished = _run_jobs(queue, session, db, counts, planned, plan, opts, report, copies)
        finally:
            queue.close_session(session)
    _collect(planned, finished, plan, opts, report, copies)
    report.copies_written, report.copies_unchanged = copies.written, copies.unchanged
    report.errors.extend(copies.errors)
    report.outputs = sum(1 for p in plan.all_paths() if p.exists())
    report.wall_seconds = time.monotonic() - t0
    return report


def _run_jobs(queue, session, db, counts, planned, plan, opts, report, copies):
    if not planned:
        copy_files(plan.copies, copies)
        return {}
    with WorkerPool(db, session, counts, log_dir=db.parent / "logs") as pool:
        backend = SqliteBackend(queue, session, stall_timeout=opts.stall_timeout)
        ids = backend.submit([p.job for p in planned])
        for p, job_id in zip(planned, ids, strict=True):
            p.job_id = job_id  # type: ignore[attr-defined]
        copy_files(plan.copies, copies)  # data files and dir-groups, while workers run

        def on_finished(job: JobRecord, done: int, total: int) -> None:
            if job.state is not JobState.SUCCEEDED:
                for prob in _job_problems(job, None):
                    opts.echo(prob.format())
            if done == total or done % 20 == 0:
                opts.echo(f"[{done}/{total}] jobs finished")

        try:
            result = backend.wait(on_finished=on_finished, check=pool.check)
        except StallError as e:
            report.errors.extend(e.problems)
            backend.cancel()
            return {}
        except KeyboardInterrupt:
            report.interrupted = True
            backend.cancel()
            raise
    return result.finished


def _job_problems(job: JobRecord, p: PlannedJob | None) -> list[Problem]:
    if job.state is JobState.CANCELLED:
        return [Problem("job cancelled", file=p.source_rel if p else None,
                        variants=tuple(p.variants) if p else (),
                        category=Category.INFRASTRUCTURE)]
    problems = list(job.error.problems) if job.error else []
    if not problems:
        problems = [Problem(f"job {job.id} ({job.kind}) failed without a message",
                            category=Category.INFRASTRUCTURE)]
    if p is not None:
        problems = [
            pr if pr.file else Problem(**{**pr.__dict__, "file": p.source_rel,
                                          "variants": pr.variants or tuple(p.variants)})
            for pr in problems
        ]
    return problems


def _written(job: JobRecord) -> set[str]:
    files = (job.result or {}).get("files") or []
    return {str(f) for f in files}


def _collect(planned: list[PlannedJob], finished: dict[int, JobRecord], plan: OutputPlan,
             opts: BuildOptions, report: BuildReport, copies: CopyResult) -> None:
    for p in planned:
        job = finished.get(getattr(p, "job_id", -1))
        report.count(p.job.kind, str(job.state) if job else "not finished")
        if job is None:
            if not report.interrupted and not any("stalled" in e.message for e in report.errors):
                report.errors.append(Problem("job did not finish", file=p.source_rel,
                                             category=Category.INFRASTRUCTURE))
            _remove_stale(p, set())
            continue
        for prob in (job.result or {}).get("warnings", []):
            pr = Problem.from_dict(prob)
            (report.errors if pr.is_error else report.warnings).append(pr)
        if job.state is JobState.SUCCEEDED:
            if p.diagram is not None:
                _place_diagram(p, job, opts, copies)
            continue
        report.errors.extend(_job_problems(job, p))
        _remove_stale(p, _written(job))


def _place_diagram(p: PlannedJob, job: JobRecord, opts: BuildOptions, copies: CopyResult) -> None:
    d = p.diagram
    assert d is not None
    outputs = p.job.payload["outputs"]
    for fmt, render in sorted(outputs.items()):
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
            if fmt != "png":
                dest = dest.with_suffix(f".{fmt}")
            atomic_write(dest, data)


def _remove_stale(p: PlannedJob, written: set[str]) -> None:
    """A failed variant leaves no file: remove what an earlier build left at its path."""
    targets = [str(t) for t in p.diagram.targets] if p.diagram else list(p.job.outputs)
    for t in targets:
        if t not in written:
            try:
                os.unlink(t)
            except FileNotFoundError:
                pass
            except OSError as e:
                log.warning("cannot remove stale output %s: %s", t, e)


# --- CLI glue ---------------------------------------------------------------------------

def run_build_command(args: argparse.Namespace) -> int:
    spec = Path(args.spec)
    if not spec.is_file():
        print(f"clx: spec file not found: {spec}", file=sys.stderr)
        return 2
    opts = BuildOptions(
        spec=spec,
        course_root=Path(args.course_root) if args.course_root else None,
        output_root=Path(args.output_dir) if args.output_dir else None,
        notebook_workers=args.workers,
        cell_timeout=args.cell_timeout,
        image_format=args.image_format,
        write_source_renders=args.write_source_renders,
        stall_timeout=args.stall_timeout,
    )
    try:
        report = build(opts)
    except SpecError as e:
        for prob in e.problems:
            print(prob.format(), file=sys.stderr)
        return 2
    print(report.render_text(), file=sys.stderr)
    if getattr(args, "json_report", None):
        Path(args.json_report).write_text(json.dumps(report.to_dict(), indent=1) + "\n")
    return 0 if report.ok else 1
