"""Command line entry point: parse arguments, call into clx, print, choose the exit code.

No business logic lives here. Exit status: 0 ok, 1 a job, copy or command failed,
2 usage, config or spec errors (printed as ``clx: …`` without a traceback).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from clx.cli.config import DEFAULTS
from clx.cli.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError

__all__ = ["EXIT_FAILED", "EXIT_OK", "EXIT_USAGE", "build_parser", "main"]

# Commands are imported when they run ("module:function" below), so that `clx status`
# does not pay for importing the build machinery.
EXIT_TERMINATED = 128 + 15  # the shell's status for a process ended by SIGTERM
_JOB_STATES = ["pending", "running", "succeeded", "failed", "cancelled"]


def _add_course_args(
    p: argparse.ArgumentParser, *, output_dir: bool = True, spec_optional: bool = False
) -> None:
    if spec_optional:
        p.add_argument(
            "spec", nargs="?", help="course spec XML file (not needed with --queue)"
        )
    else:
        p.add_argument("spec", help="course spec XML file (course-specs/*.xml)")
    p.add_argument("--course-root", help="course root (default: parent of the spec's folder)")
    if output_dir:
        p.add_argument(
            "--output-dir",
            help="output root (default: clx.toml output-dir, else <course root>/output)",
        )


def _add_focus_args(p: argparse.ArgumentParser) -> None:
    """The flags of focused builds, shared by `clx build` and `clx plan`."""
    focus = p.add_argument_group("focused builds (repeat or comma-separate values)")
    focus.add_argument("--lang", action="append", help="de, en")
    focus.add_argument("--kind", action="append", help="code-along, completed, speaker")
    focus.add_argument(
        "--format", action="append", help="html, notebook, code, slides (slides: opt-in decks)"
    )
    focus.add_argument("--target", action="append", help="public, speaker")
    focus.add_argument(
        "--section",
        action="append",
        help="section index (1-based) or name in either language (case-insensitive)",
    )


def _add_build_parser(sub: argparse._SubParsersAction) -> None:
    d = DEFAULTS
    p = sub.add_parser("build", help="build every output of a course")
    _add_course_args(p)
    # Defaults are None here: config files fill in what no flag gives (clx.cli.config).
    p.add_argument("--workers", type=int, help="notebook workers (default: CPU count)")
    p.add_argument(
        "--plantuml-workers", type=int, help=f"PlantUML workers (default {d.plantuml_workers})"
    )
    p.add_argument(
        "--drawio-workers", type=int, help=f"draw.io workers (default {d.drawio_workers})"
    )
    p.add_argument(
        "--cell-timeout", type=float, help=f"seconds per notebook cell (default {d.cell_timeout:g})"
    )
    p.add_argument(
        "--image-format",
        choices=["png", "svg"],
        help=f"svg additionally writes an SVG next to every PNG render (default {d.image_format})",
    )
    p.add_argument(
        "--no-execute",
        action="append",
        metavar="LANG",
        help="build this language's completed/speaker HTML without executing"
        " (adds to [execute] skip)",
    )
    p.add_argument(
        "--write-source-renders",
        action="store_true",
        help="also write diagram renders into the source tree (editor previews)",
    )
    p.add_argument(
        "--stall-timeout",
        type=float,
        help=f"report and stop when no job finishes for this many seconds "
        f"(default {d.stall_timeout:g})",
    )
    p.add_argument(
        "--queue",
        metavar="URL",
        help="submit to a PostgreSQL queue that workers on other hosts serve "
        "(also CLX_QUEUE_URL, [queue] url in clx.toml; default: the course's SQLite file)",
    )
    p.add_argument(
        "--local-workers",
        type=int,
        metavar="N",
        help="0: start no local workers and rely on `clx worker` elsewhere; N: at most N "
        "local workers per job kind (default: as --workers etc. say)",
    )
    _add_focus_args(p)
    p.add_argument("--ignore-cache", action="store_true", help="run every job again")
    p.add_argument(
        "--watch",
        action="store_true",
        help="keep workers warm and rebuild on every save (Ctrl-C ends)",
    )
    p.add_argument(
        "--retry-failed",
        action="store_true",
        help="run jobs again that failed before with unchanged inputs",
    )
    p.add_argument(
        "--output",
        choices=["text", "json"],
        default="text",
        help="json: print the build report as JSON on stdout "
        "(schema: docs/build-report.schema.json)",
    )
    p.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="no progress display; the report only if something failed",
    )
    p.add_argument("--json-report", metavar="FILE", help=argparse.SUPPRESS)
    _add_serve_flags(p)
    p.set_defaults(func="commands:build")


def _add_queue_parsers(sub: argparse._SubParsersAction) -> None:
    """The status, jobs and workers verbs (clx.cli.queue_commands)."""

    def common(p: argparse.ArgumentParser, output: bool = True) -> None:
        _add_course_args(p, output_dir=False, spec_optional=True)
        p.add_argument(
            "--queue", metavar="URL", help="a PostgreSQL queue (default: CLX_QUEUE_URL, "
            "else the course's .clx/clx.db)"
        )
        p.add_argument(
            "--session",
            help="a build's session id (or a unique prefix); "
            "default: the running builds, else the latest",
        )
        if output:
            p.add_argument(
                "--output",
                choices=["text", "json"],
                default="text",
                help="json prints a machine-readable document on stdout",
            )

    p = sub.add_parser("status", help="jobs by state and kind, workers and recent failures")
    common(p)
    p.add_argument(
        "--failures",
        type=int,
        default=10,
        metavar="N",
        help="show the N newest failures (default 10)",
    )
    p.set_defaults(func="queue_commands:status")

    jobs = sub.add_parser("jobs", help="list, retry or cancel jobs")
    jobs_sub = jobs.add_subparsers(dest="jobs_command", required=True)
    p = jobs_sub.add_parser("list", help="the jobs of the running builds (else the latest)")
    common(p)
    p.add_argument("--state", action="append", help=", ".join(_JOB_STATES))
    p.add_argument("--kind", action="append", help="notebook, plantuml, drawio")
    p.add_argument("--limit", type=int, default=50, help="show the last N jobs (0: all)")
    p.set_defaults(func="queue_commands:jobs_list")
    p = jobs_sub.add_parser(
        "retry", help="queue failed and cancelled jobs of a running build again"
    )
    common(p, output=False)
    p.add_argument("ids", nargs="*", type=int, help="job ids (default: all failed/cancelled)")
    p.set_defaults(func="queue_commands:jobs_retry")
    p = jobs_sub.add_parser("cancel", help="cancel pending and running jobs of a running build")
    common(p, output=False)
    p.add_argument("ids", nargs="*", type=int, help="job ids (default: all unfinished)")
    p.set_defaults(func="queue_commands:jobs_cancel")

    workers = sub.add_parser("workers", help="list or stop the workers")
    workers_sub = workers.add_subparsers(dest="workers_command", required=True)
    p = workers_sub.add_parser("list", help="workers with state, heartbeat age and current job")
    common(p)
    p.add_argument("--all", action="store_true", help="workers of every recorded build")
    p.set_defaults(func="queue_commands:workers_list")
    p = workers_sub.add_parser("stop", help="stop the running builds' workers (ends the build)")
    common(p, output=False)
    p.add_argument(
        "--timeout",
        type=float,
        default=15.0,
        help="seconds to wait for the workers to exit (default 15)",
    )
    p.set_defaults(func="queue_commands:workers_stop")


def _add_serve_flags(p: argparse.ArgumentParser) -> None:
    """--serve, --host, --port of `clx build` (clx.cli.serve)."""
    from clx.cli.serve import add_serve_flags

    add_serve_flags(p, switch=True)


def _add_serve_parser(sub: argparse._SubParsersAction) -> None:
    """`clx serve` (clx.cli.serve)."""
    from clx.cli.serve import add_serve_parser

    add_serve_parser(sub)


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("clx")
    except metadata.PackageNotFoundError:  # running from a source tree without installing
        return "unknown"


def _add_install_parsers(sub: argparse._SubParsersAction) -> None:
    """setup, doctor and init (clx.cli.install_commands)."""
    p = sub.add_parser(
        "setup",
        help="install the pinned non-Python tools (PlantUML jar, draw.io web app, page scripts)",
    )
    p.add_argument(
        "--prefix",
        help="install under this prefix (default: $CLX_TOOLS, else ~/.local/share/clx/tools)",
    )
    p.set_defaults(func="install_commands:setup")
    p = sub.add_parser("doctor", help="check every tool a build needs and say how to fix each")
    p.add_argument(
        "--output",
        choices=["text", "json"],
        default="text",
        help="json prints a machine-readable document on stdout",
    )
    p.set_defaults(func="install_commands:doctor")
    p = sub.add_parser("init", help="create a small bilingual course that builds at once")
    p.add_argument("dir", help="folder to create (must be empty or absent)")
    p.set_defaults(func="install_commands:init")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="clx", description="Build courses from one source.")
    parser.add_argument("--version", action="version", version=f"clx {_version()}")
    parser.add_argument("--log-level", default="WARNING", help=argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", required=True)
    _add_install_parsers(sub)

    p = sub.add_parser("plan", help="print what a build would produce")
    _add_course_args(p)
    p.add_argument("-v", "--verbose", action="store_true", help="list every planned output path")
    _add_focus_args(p)
    p.set_defaults(func="commands:plan")

    _add_build_parser(sub)
    _add_serve_parser(sub)
    _add_queue_parsers(sub)

    p = sub.add_parser("worker", help="run workers on this host for builds on a PostgreSQL queue")
    p.add_argument("--queue", metavar="URL", help="the queue (default: CLX_QUEUE_URL)")
    p.add_argument("--kinds", help="comma-separated: notebook, plantuml, drawio (default: all)")
    p.add_argument(
        "--count", type=int, metavar="N", help="workers per kind (default: CPU count for "
        "notebooks, 1 per diagram kind)"
    )
    p.add_argument("--work-dir", help="folder for worker logs and state (default: a temp folder)")
    p.set_defaults(func="worker_command:run_worker_command")

    d = DEFAULTS
    cache = sub.add_parser("cache", help="inspect, prune or clear the build cache")
    cache_sub = cache.add_subparsers(dest="cache_command", required=True)
    p = cache_sub.add_parser("explain", help="why an output would or would not be rebuilt")
    _add_course_args(p)
    p.add_argument(
        "output", help="output path: absolute, or relative to the output root or the course root"
    )
    # The build flags that enter cache keys: give the ones the build is run with.
    p.add_argument("--cell-timeout", type=float, help="as for clx build")
    p.add_argument("--image-format", choices=["png", "svg"], help="as for clx build")
    p.add_argument("--kind", action="append", help="as for clx build (focused builds)")
    p.add_argument("--format", action="append", help="as for clx build (focused builds)")
    p.add_argument("--target", action="append", help="as for clx build (focused builds)")
    p.set_defaults(func="commands:cache_explain")
    p = cache_sub.add_parser(
        "clear", help="forget every cached result of a course and delete its stored blobs"
    )
    _add_course_args(p)
    p.set_defaults(func="commands:cache_clear")
    p = cache_sub.add_parser(
        "prune", help="drop cached results no build has used for a while, and unused blobs"
    )
    _add_course_args(p, output_dir=False)
    p.add_argument(
        "--keep-days",
        type=float,
        metavar="N",
        help=f"keep results used in the last N days (default: clx.toml cache-keep-days, "
        f"else {d.cache_keep_days:g})",
    )
    p.set_defaults(func="commands:cache_prune")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    module, name = args.func.split(":")
    from clx.processes import Terminated, terminate_like_interrupt

    try:
        func = getattr(importlib.import_module(f"clx.cli.{module}"), name)
        try:
            with terminate_like_interrupt():  # SIGTERM stops cleanly, like Ctrl-C
                return func(args)
        finally:
            _print_recoveries()
    except UsageError as e:
        print(f"clx: {e}", file=sys.stderr)
        return EXIT_USAGE
    except Terminated:
        print("clx: terminated", file=sys.stderr)
        return EXIT_TERMINATED
    except KeyboardInterrupt:
        print("clx: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `clx jobs list | head`
        return EXIT_OK


def _print_recoveries() -> None:
    """Damaged state databases a command moved aside (a build reports its own)."""
    from clx.dbconnect import take_recoveries

    for line in take_recoveries():
        print(f"clx: warning: {line}", file=sys.stderr)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
