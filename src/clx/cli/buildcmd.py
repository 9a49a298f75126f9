"""`clx build`: flags and config files → BuildOptions → build() → report and exit status."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from clx.cli.config import BuildDefaults, effective, load_config, prog_langs
from clx.cli.course_paths import course_root, spec_path
from clx.cli.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError

if TYPE_CHECKING:  # the build machinery is imported only once the flags are known good
    from clx.cli.serve import LivePage
    from clx.pipeline.report import BuildReport
    from clx.pipeline.run import BuildOptions

LANGS = {"de", "en"}
KINDS = {"code-along", "completed", "speaker"}
FORMATS = {"html", "notebook", "code", "slides"}
TARGETS = {"public", "speaker"}


def _choices(
    values: list[str] | None, flag: str, allowed: set[str] | None
) -> tuple[str, ...] | None:
    """Repeated or comma-separated flag values, checked against ``allowed``."""
    if not values:
        return None
    items = tuple(v.strip() for raw in values for v in raw.split(",") if v.strip())
    bad = sorted(set(items) - allowed) if allowed is not None else []
    if bad:
        raise UsageError(
            f"{flag}: unknown value(s) {', '.join(bad)}; "
            f"choose from {', '.join(sorted(allowed or ()))}"
        )
    return items


def warn(line: str) -> None:
    print(f"clx: warning: {line}", file=sys.stderr)


def settings(args: argparse.Namespace, spec: Path) -> tuple[Path, BuildDefaults]:
    """Course root and the effective defaults: flags over course config over user config."""
    root = course_root(args, spec)
    loaded = load_config(root)
    for w in loaded.warnings:
        warn(w)
    flags = {
        "workers": getattr(args, "workers", None),
        "plantuml_workers": getattr(args, "plantuml_workers", None),
        "drawio_workers": getattr(args, "drawio_workers", None),
        "cell_timeout": getattr(args, "cell_timeout", None),
        "image_format": getattr(args, "image_format", None),
        "stall_timeout": getattr(args, "stall_timeout", None),
        "output_dir": Path(args.output_dir) if getattr(args, "output_dir", None) else None,
        "cache_keep_days": getattr(args, "keep_days", None),
        # The flag, then the environment, then [queue] url in a config file.
        "queue_url": getattr(args, "queue", None) or os.environ.get("CLX_QUEUE_URL") or None,
    }
    return root, effective(flags, loaded.defaults)


def focus_args(args: argparse.Namespace) -> dict[str, tuple[str, ...] | None]:
    """The focus flags (``--lang`` … ``--section``), checked, as BuildOptions fields."""

    def flag(name: str) -> Any:
        return getattr(args, name, None)

    return {
        "langs": _choices(flag("lang"), "--lang", LANGS),
        "kinds": _choices(flag("kind"), "--kind", KINDS),
        "formats": _choices(flag("format"), "--format", FORMATS),
        "targets": _choices(flag("target"), "--target", TARGETS),
        "sections": _choices(flag("section"), "--section", None),
    }


def build_options(args: argparse.Namespace, spec: Path) -> BuildOptions:
    """The options of `clx build`; other verbs (`clx cache explain`) pass their subset of
    its flags and get the same options, so they see the build's cache keys."""
    root, d = settings(args, spec)

    def flag(name: str) -> Any:
        return getattr(args, name, None)

    for name, count in (
        ("--workers", flag("workers")),
        ("--plantuml-workers", flag("plantuml_workers")),
        ("--drawio-workers", flag("drawio_workers")),
    ):
        if count is not None and count < 1:
            raise UsageError(f"{name}: must be at least 1")
    for name, value in (
        ("--cell-timeout", flag("cell_timeout")),
        ("--stall-timeout", flag("stall_timeout")),
    ):
        if value is not None and value <= 0:
            raise UsageError(f"{name}: must be greater than 0")
    if d.queue_url is not None and not d.queue_url.startswith(("postgresql://", "postgres://")):
        raise UsageError("--queue: expected a postgresql:// URL")
    if flag("local_workers") is not None and flag("local_workers") < 0:
        raise UsageError("--local-workers: must be at least 0")
    focus = focus_args(args)
    try:  # --no-execute adds to [execute] skip
        skip = prog_langs([*d.execute_skip, *(flag("no_execute") or ())])
    except ValueError as e:
        raise UsageError(f"--no-execute: {e}") from e
    from clx.cli.live import choose_progress
    from clx.pipeline.run import BuildOptions

    return BuildOptions(
        spec=spec,
        course_root=root,
        output_root=d.output_dir,
        notebook_workers=d.workers,
        plantuml_workers=d.plantuml_workers,
        drawio_workers=d.drawio_workers,
        cell_timeout=d.cell_timeout,
        image_format=d.image_format,
        write_source_renders=bool(flag("write_source_renders")),
        stall_timeout=d.stall_timeout,
        ignore_cache=bool(flag("ignore_cache")),
        retry_failed=bool(flag("retry_failed")),
        cache_keep_days=d.cache_keep_days,
        max_output_mb=d.max_output_mb,
        queue_url=d.queue_url,
        local_workers=flag("local_workers"),
        output_formats=d.formats,
        execute_skip=skip,
        allow_errors=d.allow_errors,
        python=d.python,
        progress=choose_progress(bool(flag("quiet"))),
        **focus,
    )


def run_build_command(args: argparse.Namespace) -> int:
    spec = spec_path(args)
    as_json = args.output == "json"
    if args.watch and as_json:
        raise UsageError("--output json cannot be combined with --watch")
    opts = build_options(args, spec)
    from clx.cli.serve import start_for_build

    live = start_for_build(args, opts)  # --serve: the live page, beside the build
    try:
        return _run_build(args, spec, opts, live)
    finally:
        if live is not None:
            live.stop()


def _run_build(args: argparse.Namespace, spec: Path, opts: BuildOptions, live: LivePage | None
               ) -> int:
    as_json = args.output == "json"
    from clx.course.spec import SpecError
    from clx.pipeline.report import BuildReport
    from clx.pipeline.run import build

    if args.watch:
        from clx.pipeline.watch import watch_build

        return watch_build(opts, lambda line: print(line, file=sys.stderr, flush=True),
                           progress=opts.progress if live else None,
                           on_report=live.report if live else None)
    root = course_root(args, spec)
    output_root = (opts.output_root or root / "output").resolve()
    try:
        report = build(opts)
    except SpecError as e:
        for prob in e.problems:
            print(prob.format(), file=sys.stderr)
        if as_json:
            _emit(BuildReport(errors=list(e.problems)), EXIT_USAGE, spec, root, output_root, args)
        return EXIT_USAGE
    from clx.cli.reporting import render_text

    if live is not None:
        live.report(report)
    status = EXIT_OK if report.ok else EXIT_FAILED
    if not args.quiet or not report.ok:
        print(render_text(report), file=sys.stderr)
    _emit(report, status, spec, root, output_root, args)
    return status


def _emit(
    report: BuildReport,
    status: int,
    spec: Path,
    root: Path,
    output_root: Path,
    args: argparse.Namespace,
) -> None:
    from clx.cli.reporting import report_json

    doc: dict[str, Any] | None = None
    if args.output == "json" or args.json_report:
        doc = report_json(
            report, exit_status=status, spec=spec, course_root=root, output_root=output_root
        )
    if doc is None:
        return
    text = json.dumps(doc, indent=1, ensure_ascii=False) + "\n"
    if args.output == "json":
        sys.stdout.write(text)
        sys.stdout.flush()
    if args.json_report:
        Path(args.json_report).write_text(text, encoding="utf-8")
