"""The CLI verbs that need a loaded course: each loads it, calls the library and prints."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from clx.cli.buildcmd import run_build_command, settings
from clx.cli.course_paths import spec_path
from clx.cli.errors import EXIT_USAGE, UsageError
from clx.course.course import Course, load_course
from clx.course.outputs import plan_outputs
from clx.course.spec import SpecError

__all__ = ["UsageError", "build", "cache_clear", "cache_explain", "load", "plan"]


def _print_problems(problems, stream=sys.stderr) -> None:
    for p in problems:
        print(p.format(), file=stream)


def _roots(args: argparse.Namespace) -> tuple[Path, Path, Path | None]:
    """Spec, course root and output root (flag, else clx.toml, else default)."""
    spec = spec_path(args)
    root, defaults = settings(args, spec)
    return spec, root, defaults.output_dir


def load(args: argparse.Namespace) -> Course:
    spec, root, out = _roots(args)
    return load_course(spec, root, out)


def plan(args: argparse.Namespace) -> int:
    try:
        course = load(args)
    except SpecError as e:
        _print_problems(e.problems)
        return EXIT_USAGE
    result = plan_outputs(course)
    _print_problems(course.warnings + result.warnings + result.errors)
    for kind, n in result.counts().items():
        print(f"{kind}: {n}")
    print(f"total outputs: {len(result.all_paths())}")
    if args.verbose:
        for p in result.all_paths():
            print(p.relative_to(course.output_root).as_posix())
    return 1 if result.errors else 0


def build(args: argparse.Namespace) -> int:
    return run_build_command(args)


def cache_explain(args: argparse.Namespace) -> int:
    from clx.build.explain import explain

    spec, root, out = _roots(args)
    try:
        _rebuild, lines = explain(spec, Path(args.output), root, out)
    except SpecError as e:
        _print_problems(e.problems)
        return EXIT_USAGE
    print("\n".join(lines))
    return 0


def cache_clear(args: argparse.Namespace) -> int:
    from clx.build.cache import BuildCache

    try:
        course = load(args)
    except SpecError as e:
        _print_problems(e.problems)
        return EXIT_USAGE
    with BuildCache(course.state_dir) as cache:
        n = cache.clear()
    print(f"cleared {n} cached result(s)")
    return 0
