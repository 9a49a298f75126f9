"""`clx cache explain`: why an output would or would not be rebuilt.

The output may be given absolute, or relative to the output root or the course root.
It plans with the same options as `clx build` (clx.toml and the key flags, through
``clx.pipeline.run.plan_jobs``), so it asks the cache for the keys the build would use.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from clx.course.course import load_course
from clx.notebooks.environments import describe_change
from clx.pipeline.cache import BuildCache
from clx.pipeline.jobs import SOURCE_LINES, PlannedJob
from clx.pipeline.run import BuildOptions, lines_moved, plan_jobs


class UnknownOutput(Exception):
    """The path names nothing the build plans (a usage error: exit status 2)."""


def _find(planned: list[PlannedJob], target: Path) -> PlannedJob | None:
    for p in planned:
        if str(target) in p.labels.values():
            return p
        if p.diagram is not None and any(
            target in (t, t.with_suffix(".svg")) for t in p.diagram.targets
        ):
            return p
    return None


def diff_ingredients(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    changes = []
    for key in sorted(set(old) | set(new)):
        if key == SOURCE_LINES:  # not part of the key (see clx.pipeline.run.lines_moved)
            continue
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        if key == "kernel":  # a readable identity (clx.notebooks.environments)
            changes.extend(f"kernel: {line}" for line in describe_change(a, b))
        elif isinstance(a, dict) and isinstance(b, dict):
            for name in sorted(set(a) | set(b)):
                if name not in a:
                    changes.append(f"{key}: '{name}' added")
                elif name not in b:
                    changes.append(f"{key}: '{name}' removed")
                elif a[name] != b[name]:
                    what = "version" if key == "versions" else "content"
                    changes.append(
                        f"{key}: '{name}' {what} changed"
                        + (f" ({a[name]} -> {b[name]})" if key == "versions" else "")
                    )
        else:
            changes.append(f"{key} changed")
    return changes


def explain(opts: BuildOptions, output: Path) -> tuple[bool, list[str]]:
    """Would a build with ``opts`` rebuild ``output``? Returns (would_rebuild, lines)."""
    course = load_course(opts.spec, opts.course_root, opts.output_root)
    plan, planned = plan_jobs(course, opts)
    if output.is_absolute():
        candidates = [output]
    else:  # relative to the output root, the course root, or where the user stands
        candidates = [course.output_root / output, course.root / output, Path.cwd() / output]
    copies = {c.target: c for c in plan.copies}
    p = None
    for candidate in candidates:
        target = candidate.resolve()
        p = _find(planned, target)
        if p is not None:
            break
        if target in copies:
            return False, [
                f"{output}: copied from {copies[target].source_rel} (no job: "
                "copied again whenever its bytes differ)"
            ]
    if p is None:
        where = f"output root {course.output_root}, course root {course.root}"
        if any(c.exists() for c in candidates):
            raise UnknownOutput(
                f"{output}: exists, but this spec's build does not produce it "
                f"(looked relative to the {where})"
            )
        raise UnknownOutput(f"{output}: no such output (looked relative to the {where})")
    lines = [
        f"{output}: produced by the {p.job.kind} job of {p.source_rel}",
        f"cache key {p.job.cache_key[:16]}",
    ]
    with BuildCache(course.state_dir) as cache:
        entry = cache.get(p.job.cache_key)
        if entry is not None and lines_moved(entry, p):
            return True, [*lines, "inputs unchanged, but the source lines its remembered "
                          "problems name have moved: the job runs again"]
        if entry is not None:
            ok = cache.load_verified(entry) is not None
            if not ok:
                return True, [
                    *lines,
                    "cached result found but a stored blob is missing or "
                    "corrupt: the job runs again",
                ]
            if entry.failed:
                return False, [
                    *lines,
                    "unchanged since it failed: the stored error is "
                    "reported again (use --retry-failed to run it)",
                ]
            return False, [
                *lines,
                "up to date: the cached result is restored if the file is missing or differs",
            ]
        previous = cache.key_for_path(str(p.labels.get(next(iter(p.labels)))))
        if previous is None:
            return True, [*lines, "never built before: the job runs"]
        old = cache.get(previous[0])
        if old is None:
            return True, [*lines, "the previous result is no longer cached: the job runs"]
        changes = diff_ingredients(old.ingredients, p.ingredients) or ["inputs changed"]
        return True, [*lines, "rebuilds because:", *("  " + c for c in changes)]
