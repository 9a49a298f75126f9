"""The CLI verbs that need a loaded course: each loads it, calls the library and prints."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from clx.cli.buildcmd import build_options, focus_args, run_build_command, settings
from clx.cli.course_paths import spec_path
from clx.cli.errors import EXIT_FAILED, EXIT_USAGE, UsageError
from clx.course.course import Course, load_course
from clx.course.outputs import plan_outputs
from clx.course.spec import SpecError

__all__ = ["UsageError", "build", "cache_clear", "cache_explain", "cache_prune", "load", "plan"]


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
    from clx.course.outputs import Focus
    from clx.course.variants import Format
    from clx.pipeline.assets import add_asset_copies

    focus = Focus.of(**focus_args(args))
    spec = spec_path(args)
    root, defaults = settings(args, spec)
    try:
        course = load_course(spec, root, defaults.output_dir)
        # the formats a build makes (clx.toml `formats`: decks are opt-in), as `clx build`
        result = plan_outputs(course, focus, tuple(Format(f) for f in defaults.formats))
        add_asset_copies(result)  # what the pages need in clx-assets/, as `clx build`
    except SpecError as e:
        _print_problems(e.problems)
        return EXIT_USAGE
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
    from clx.pipeline.explain import UnknownOutput, explain

    spec = spec_path(args)
    opts = build_options(args, spec)  # clx.toml and the flags, exactly as `clx build`
    try:
        _rebuild, lines = explain(opts, Path(args.output))
    except SpecError as e:
        _print_problems(e.problems)
        return EXIT_USAGE
    except UnknownOutput as e:
        print(f"clx: {e}", file=sys.stderr)
        return EXIT_USAGE
    print("\n".join(lines))
    return 0


def _refuse_while_running(course: Course, what: str, args: argparse.Namespace) -> bool:
    """True (after saying why) if a build of the course runs: its blobs must stay."""
    from clx.pipeline.cache_gc import running_builds

    running = running_builds(course.state_dir)
    if not running:
        return False
    ids = ", ".join(s.id[:8] for s in running)
    print(
        f"clx: cannot {what} while a build of this course is running (build {ids}); "
        f"wait for it to end or stop it with: clx workers stop {args.spec}",
        file=sys.stderr,
    )
    return True


def cache_clear(args: argparse.Namespace) -> int:
    """Forget every cached result and delete the blobs (no running build may need them)."""
    import time

    from clx.pipeline.cache import BuildCache
    from clx.pipeline.cache_gc import clear
    from clx.pipeline.language_view import forget_views
    from clx.pipeline.preload import forget as forget_preload

    try:
        course = load(args)
    except SpecError as e:
        _print_problems(e.problems)
        return EXIT_USAGE
    if _refuse_while_running(course, "clear the cache", args):
        return EXIT_FAILED
    with BuildCache(course.state_dir) as cache:
        result = clear(cache, now=time.time())
    forget_preload(course.state_dir)  # what the kernel fork server preloads
    forget_views(course.state_dir)  # the language views of the sources, a shortcut
    print(f"cleared {result.summary()}")
    return 0


def cache_prune(args: argparse.Namespace) -> int:
    """Drop entries unused for --keep-days (else clx.toml cache-keep-days) and the blobs
    no remaining entry names; the next build puts back the inputs it needs."""
    import time

    from clx.pipeline.cache import BuildCache
    from clx.pipeline.cache_gc import prune

    if args.keep_days is not None and args.keep_days < 0:
        raise UsageError("--keep-days: must be at least 0")
    spec = spec_path(args)
    root, defaults = settings(args, spec)  # --keep-days over clx.toml cache-keep-days
    try:
        course = load_course(spec, root, defaults.output_dir)
    except SpecError as e:
        _print_problems(e.problems)
        return EXIT_USAGE
    if _refuse_while_running(course, "prune the cache", args):
        return EXIT_FAILED
    now = time.time()
    with BuildCache(course.state_dir) as cache:
        result = prune(cache, now=now, keep_days=defaults.cache_keep_days, blob_cutoff=now)
        left = cache.count()
    days = f"{defaults.cache_keep_days:g}"
    print(f"pruned {result.summary()}; kept {left} cached result(s) used in the last {days} days")
    return 0
