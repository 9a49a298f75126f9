"""The build report as data (counts, failures, timings) and its text rendering.

The report is data first so that the CLI can print it as text or JSON and tests can
assert on it without parsing output.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from clx.problems import Problem

if TYPE_CHECKING:
    from clx.pipeline.cache_gc import GcResult


@dataclass
class BuildReport:
    jobs_by_kind: dict[str, Counter[str]] = field(default_factory=dict)  # kind -> state -> n
    copies_written: int = 0
    copies_unchanged: int = 0
    outputs: int = 0
    wall_seconds: float = 0.0
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    interrupted: bool = False
    finished: dict[int, Any] = field(default_factory=dict)  # job id -> JobRecord (this build)
    cache_gc: GcResult | None = None  # what the clean-up after the build freed, if anything

    @property
    def ok(self) -> bool:
        return not self.errors and not self.interrupted

    def count(self, kind: str, state: str, n: int = 1) -> None:
        self.jobs_by_kind.setdefault(kind, Counter())[state] += n

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "wall_seconds": round(self.wall_seconds, 3),
            "jobs": {k: dict(v) for k, v in sorted(self.jobs_by_kind.items())},
            "copies": {"written": self.copies_written, "unchanged": self.copies_unchanged},
            "outputs": self.outputs,
            "errors": [p.to_dict() for p in self.errors],
            "warnings": [p.to_dict() for p in self.warnings],
            "interrupted": self.interrupted,
            **({"cache_gc": self.cache_gc.to_dict()} if self.cache_gc else {}),
        }

    def render_text(self) -> str:
        lines = []
        for w in dedupe(self.warnings):
            lines.append(w.format())
        for e in dedupe(self.errors):
            lines.append(e.format())
            if e.detail:
                lines.extend("    " + d for d in e.detail.splitlines()[:8])
        lines.append("")
        for kind, states in sorted(self.jobs_by_kind.items()):
            parts = ", ".join(f"{n} {s}" for s, n in sorted(states.items()))
            lines.append(f"{kind}: {parts}")
        lines.append(f"copies: {self.copies_written} written, {self.copies_unchanged} unchanged")
        if self.cache_gc is not None and self.cache_gc.freed:
            lines.append(f"cache: pruned {self.cache_gc.summary()}")
        status = "interrupted" if self.interrupted else (
            "ok" if self.ok else f"{len(dedupe(self.errors))} error(s)")
        lines.append(
            f"build {status}: {self.outputs} outputs, {len(dedupe(self.warnings))} warning(s), "
            f"{self.wall_seconds:.1f} s"
        )
        return "\n".join(lines)


def dedupe(problems: list[Problem]) -> list[Problem]:
    """Each problem once per source location and message (warnings repeat per variant)."""
    seen: set[tuple] = set()
    out = []
    for p in problems:
        key = (p.severity, p.file, p.line, p.message, p.variants, p.target)
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out
