"""The end-of-build report as the CLI prints it: text on stderr, JSON on stdout.

The JSON document is ``BuildReport.to_dict()`` plus fields the CLI derives from the report
(cache hits, job timings, the exit status, where the course lives). Its schema is
``docs/build-report.schema.json``; ``SCHEMA_ID`` names its version and changes whenever a
field changes meaning or disappears.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from clx.pipeline.report import BuildReport

SCHEMA_ID = "clx-build-report/1"
_CACHED_STATES = ("cached", "cached-failed")


def render_text(report: BuildReport) -> str:
    """The build's text report (each problem once, configuration errors collapsed)."""
    return report.render_text()


def _job_seconds(report: BuildReport) -> dict[str, dict[str, float | int]]:
    """Per job kind: jobs that ran in this build, their summed and longest run time."""
    out: dict[str, dict[str, float | int]] = {}
    for job in report.finished.values():
        started, finished = getattr(job, "started_at", None), getattr(job, "finished_at", None)
        t = out.setdefault(job.kind, {"ran": 0, "total_seconds": 0.0, "max_seconds": 0.0})
        t["ran"] += 1
        if started is not None and finished is not None:
            secs = max((finished - started).total_seconds(), 0.0)
            t["total_seconds"] = round(t["total_seconds"] + secs, 3)
            t["max_seconds"] = round(max(t["max_seconds"], secs), 3)
    return dict(sorted(out.items()))


def report_json(
    report: BuildReport,
    *,
    exit_status: int,
    spec: Path,
    course_root: Path | None,
    output_root: Path | None,
) -> dict[str, Any]:
    doc: dict[str, Any] = {"schema": SCHEMA_ID, "exit_status": exit_status}
    doc.update(report.to_dict())
    states: Counter[str] = Counter()
    for by_state in report.jobs_by_kind.values():
        states.update(by_state)
    jobs_total = sum(states.values())
    hits = sum(states[s] for s in _CACHED_STATES)
    doc["cache"] = {
        "jobs": jobs_total,
        "hits": hits,
        "failed_hits": states["cached-failed"],
        "misses": jobs_total - hits,
        "restored": report.restored,
    }
    doc["timings"] = {"wall_seconds": doc["wall_seconds"], "jobs": _job_seconds(report)}
    doc["paths"] = {
        "spec": str(spec.resolve()),
        "course_root": str(course_root) if course_root else None,
        "output_root": str(output_root) if output_root else None,
    }
    return doc
