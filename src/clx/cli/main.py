"""Command line entry point: parse arguments, call into clx, print, choose the exit code.

No business logic lives here. Exit status: 0 ok, 1 a job, copy or command failed,
2 usage, config or spec errors (printed as ``clx: …`` without a traceback).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from clx.cli import commands, queue_commands
from clx.cli.config import DEFAULTS
from clx.cli.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError

__all__ = ["EXIT_FAILED", "EXIT_OK", "EXIT_USAGE", "build_parser", "main"]


def _add_course_args(p: argparse.ArgumentParser, *, output_dir: bool = True) -> None:
    p.add_argument("spec", help="course spec XML file (course-specs/*.xml)")
    p.add_argument("--course-root", help="course root (default: parent of the spec's folder)")
    if output_dir:
        p.add_argument(
            "--output-dir",
            help="output root (default: clx.toml output-dir, else <course root>/output)",
        )


def _add_build_parser(sub: argparse._SubParsersAction) -> None:
    d = DEFAULTS
    p = sub.add_parser("build", help="build every output of a course")
    _add_course_args(p)
    # Defaults are None here: config files fill in what no flag gives (clx.cli.config).
    p.add_argument("--workers", type=int, help="notebook workers (default: CPU count)")
    p.add_argument(
        "--cell-timeout", type=float, help=f"seconds per notebook cell (default {d.cell_timeout:g})"
    )
    p.add_argument(
        "--image-format",
        choices=["png", "svg"],
        help=f"svg additionally writes an SVG next to every PNG render (default {d.image_format})",
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
    focus = p.add_argument_group("focused builds (repeat or comma-separate values)")
    focus.add_argument("--lang", action="append", help="de, en")
    focus.add_argument("--kind", action="append", help="code-along, completed, speaker")
    focus.add_argument("--format", action="append", help="html, notebook, code")
    focus.add_argument("--target", action="append", help="public, speaker")
    focus.add_argument("--section", action="append", help="section index (1-based) or name")
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
    p.set_defaults(func=commands.build)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="clx", description="Build courses from one source.")
    parser.add_argument("--log-level", default="WARNING", help=argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("plan", help="print what a build would produce")
    _add_course_args(p)
    p.add_argument("-v", "--verbose", action="store_true", help="list every planned output path")
    p.set_defaults(func=commands.plan)

    _add_build_parser(sub)
    queue_commands.add_parsers(sub, _add_course_args)

    cache = sub.add_parser("cache", help="inspect or clear the build cache")
    cache_sub = cache.add_subparsers(dest="cache_command", required=True)
    p = cache_sub.add_parser("explain", help="why an output would or would not be rebuilt")
    _add_course_args(p)
    p.add_argument("output", help="output path (absolute, or relative to the output root)")
    p.set_defaults(func=commands.cache_explain)
    p = cache_sub.add_parser("clear", help="forget every cached result of a course")
    _add_course_args(p)
    p.set_defaults(func=commands.cache_clear)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    try:
        return args.func(args)
    except UsageError as e:
        print(f"clx: {e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("clx: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `clx jobs list | head`
        return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
