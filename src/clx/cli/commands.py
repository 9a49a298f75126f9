"""The CLI verbs: each loads what it needs, calls the library and prints."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from clx.course.course import Course, load_course
from clx.course.outputs import plan_outputs
from clx.course.spec import SpecError

EXIT_SPEC = 2


class UsageError(Exception):
    """A mistake on the command line: printed without a traceback, exit status 2."""


def _print_problems(problems, stream=sys.stderr) -> None:
    for p in problems:
        print(p.format(), file=stream)


def load(args: argparse.Namespace) -> Course:
    spec = Path(args.spec)
    if not spec.is_file():
        raise UsageError(f"spec file not found: {spec}")
    root = Path(args.course_root) if args.course_root else None
    out = Path(args.output_dir) if args.output_dir else None
    return load_course(spec, root, out)


def plan(args: argparse.Namespace) -> int:
    try:
        course = load(args)
    except SpecError as e:
        _print_problems(e.problems)
        return EXIT_SPEC
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
    from clx.build.run import run_build_command

    return run_build_command(args)


def cache_explain(args: argparse.Namespace) -> int:
    from clx.build.explain import explain

    spec = Path(args.spec)
    if not spec.is_file():
        raise UsageError(f"spec file not found: {spec}")
    try:
        _rebuild, lines = explain(
            spec, Path(args.output),
            Path(args.course_root) if args.course_root else None,
            Path(args.output_dir) if args.output_dir else None,
        )
    except SpecError as e:
        _print_problems(e.problems)
        return EXIT_SPEC
    print("\n".join(lines))
    return 0


def cache_clear(args: argparse.Namespace) -> int:
    from clx.build.cache import BuildCache

    try:
        course = load(args)
    except SpecError as e:
        _print_problems(e.problems)
        return EXIT_SPEC
    with BuildCache(course.state_dir) as cache:
        n = cache.clear()
    print(f"cleared {n} cached result(s)")
    return 0
