"""The build report as data (counts, failures, timings) and its text rendering.

The report is data first so that the CLI can print it as text or JSON and tests can
assert on it without parsing output.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from clx.pipeline.problem_groups import errors_of, group, variants_text
from clx.problems import Problem

if TYPE_CHECKING:
    from clx.pipeline.cache_gc import GcResult
    from clx.pipeline.retries import RetryReport


@dataclass
class BuildReport:
    jobs_by_kind: dict[str, Counter[str]] = field(default_factory=dict)  # kind -> state -> n
    copies_written: int = 0
    copies_unchanged: int = 0
    restored: int = 0  # job outputs a cache hit wrote because they were missing or differed
    outputs: int = 0
    wall_seconds: float = 0.0
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    interrupted: bool = False
    finished: dict[int, Any] = field(default_factory=dict)  # job id -> JobRecord (this build)
    cache_gc: GcResult | None = None  # what the clean-up after the build freed, if anything
    output_root: str | None = None  # where the outputs went
    output_trees: list[str] = field(default_factory=list)  # course trees below it that exist
    retries: RetryReport | None = None  # jobs the queue ran again, and why (pipeline.retries)

    @property
    def ok(self) -> bool:
        return not self.errors and not self.interrupted

    def count(self, kind: str, state: str, n: int = 1) -> None:
        self.jobs_by_kind.setdefault(kind, Counter())[state] += n

    def error_entries(self) -> list[Problem]:
        """Errors as reported: once per location and message (clx.pipeline.problem_groups)."""
        return errors_of(self.errors)

    def warning_entries(self) -> list[Problem]:
        return group(self.warnings)

    def to_dict(self) -> dict[str, Any]:
        errors, warnings = self.error_entries(), self.warning_entries()
        return {
            "ok": self.ok,
            "wall_seconds": round(self.wall_seconds, 3),
            "jobs": {k: dict(v) for k, v in sorted(self.jobs_by_kind.items())},
            "copies": {"written": self.copies_written, "unchanged": self.copies_unchanged},
            "outputs": self.outputs,
            "errors": [p.to_dict() for p in errors],
            "warnings": [p.to_dict() for p in warnings],
            "error_count": len(errors),
            "warning_count": len(warnings),
            "interrupted": self.interrupted,
            **({"cache_gc": self.cache_gc.to_dict()} if self.cache_gc else {}),
            **({"retries": self.retries.to_dict()} if self.retries and self.retries.jobs else {}),
        }

    def render_text(self) -> str:
        errors, warnings = self.error_entries(), self.warning_entries()
        lines = []
        for w in warnings:
            lines.extend(_entry(w, detail_lines=0))
        for e in errors:
            lines.extend(_entry(e, detail_lines=8))
        lines.append("")
        for kind, states in sorted(self.jobs_by_kind.items()):
            parts = ", ".join(f"{n} {s}" for s, n in sorted(states.items()))
            lines.append(f"{kind}: {parts}")
        if self.retries is not None:
            lines.extend(self.retries.lines())
        lines.extend(self._cache_lines())
        lines.append(f"copies: {self.copies_written} written, {self.copies_unchanged} unchanged")
        if self.cache_gc is not None and self.cache_gc.freed:
            lines.append(f"cache: pruned {self.cache_gc.summary()}")
        status = "interrupted" if self.interrupted else (
            "ok" if self.ok else f"{len(errors)} error(s)")
        lines.append(
            f"build {status}: {self.outputs} outputs, {len(warnings)} warning(s), "
            f"{self.wall_seconds:.1f} s"
        )
        if self.output_root is not None:
            lines.append(f"outputs in {self.output_root}")
            lines.extend(f"  {tree}" for tree in self.output_trees)
        return "\n".join(lines)

    def _cache_lines(self) -> list[str]:
        """What the cache did: a rebuild after deleting the outputs must not read like a
        no-op, and an unchanged one should say that nothing needed writing."""
        total = sum(sum(states.values()) for states in self.jobs_by_kind.values())
        hits = sum(states[s] for states in self.jobs_by_kind.values()
                   for s in ("cached", "cached-failed"))
        if not hits:
            return []
        done = (f"{self.restored} file(s) restored" if self.restored
                else "outputs already up to date")
        return [f"cache: {hits} of {total} job(s) answered, {done}"]


def _entry(p: Problem, *, detail_lines: int) -> list[str]:
    """One report entry: its line, the notebooks of a shared template, the detail."""
    lines = [replace(p, variants=variants_text(p.variants)).format()]
    if p.sources:
        lines.append("    in " + ", ".join(p.sources))
    if p.detail and detail_lines:
        lines.extend("    " + d for d in p.detail.splitlines()[:detail_lines])
    return lines
