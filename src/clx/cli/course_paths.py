"""Finding the spec file and the course root, with hints when the user points elsewhere."""

from __future__ import annotations

import argparse
from pathlib import Path

from clx.cli.errors import UsageError
from clx.course.course import default_course_root


def _candidates(where: Path) -> list[Path]:
    """Spec files a user probably meant: ``course-specs/*.xml`` in or above ``where``."""
    for base in (where, *where.parents[:2]):
        specs = sorted((base / "course-specs").glob("*.xml"))
        if specs:
            return specs
    return []


def _listing(specs: list[Path]) -> str:
    shown = [str(p) for p in specs[:5]]
    more = f" and {len(specs) - 5} more" if len(specs) > 5 else ""
    return ", ".join(shown) + more


def spec_path(args: argparse.Namespace) -> Path:
    """The spec file named on the command line; UsageError with suggestions if it is not one."""
    spec = Path(args.spec)
    if spec.is_file():
        return spec
    if spec.is_dir():
        specs = _candidates(spec)
        hint = (
            f"; specs found: {_listing(specs)}"
            if specs
            else "; a spec is an XML file, usually in <course root>/course-specs/"
        )
        raise UsageError(f"{spec} is a directory, not a spec file{hint}")
    specs = _candidates(spec.parent if str(spec.parent) else Path("."))
    hint = f"; did you mean one of: {_listing(specs)}" if specs else ""
    raise UsageError(f"spec file not found: {spec}{hint}")


def course_root(args: argparse.Namespace, spec: Path) -> Path:
    root = Path(args.course_root) if getattr(args, "course_root", None) else None
    if root is not None and not root.is_dir():
        raise UsageError(f"course root not found: {root}")
    return (root or default_course_root(spec)).resolve()
