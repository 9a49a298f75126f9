"""Which jobs of a build were retried, and why, for the report.

The queue retries infrastructure failures by itself (a killed worker, a dead kernel, an
expired lease) and keeps only the latest reason on the job, until it succeeds. The build
therefore watches its running jobs while it waits (a retried job carries the error of
its previous attempt until it finishes) and adds the attempt count of each finished job,
so that a build that recovered still says what it recovered from.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from clx.queue.model import JobRecord, JobState

_REASONS = [
    (re.compile(r"exited with code -(9|15)\b|killed", re.I), "worker killed"),
    (re.compile(r"exited with code", re.I), "worker crashed"),
    (re.compile(r"was stopped", re.I), "worker stopped"),
    (re.compile(r"lease", re.I), "lease expired"),
    (re.compile(r"kernel.*(died|dead)|dead ?kernel", re.I), "kernel died"),
    (re.compile(r"timed out|timeout|did not finish within", re.I), "timeout"),
    (re.compile(r"JVM|PlantUML", re.I), "PlantUML failed"),
    (re.compile(r"draw\.io|chromium|browser", re.I), "draw.io renderer failed"),
]


def reason_of(message: str) -> str:
    """A short name for why an attempt failed, from the message the pool or queue wrote."""
    for pattern, reason in _REASONS:
        if pattern.search(message):
            return reason
    return "infrastructure failure"


@dataclass
class DeckRetries:
    file: str
    kind: str
    variants: list[str]
    retries: int = 0
    messages: list[str] = field(default_factory=list)  # one per attempt that failed, if seen

    @property
    def reasons(self) -> list[str]:
        return [reason_of(m) for m in self.messages] or ["unknown"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "kind": self.kind,
            "variants": self.variants,
            "retries": self.retries,
            "reasons": self.reasons,
            "messages": self.messages,
        }


@dataclass
class RetryReport:
    decks: list[DeckRetries] = field(default_factory=list)

    @property
    def jobs(self) -> int:
        return len(self.decks)

    def by_reason(self) -> dict[str, int]:
        c: Counter[str] = Counter()
        for d in self.decks:
            c.update(d.reasons[: d.retries] if d.messages else ["unknown"] * d.retries)
        return dict(sorted(c.items()))

    def to_dict(self) -> dict[str, Any]:
        return {
            "jobs": self.jobs,
            "attempts_retried": sum(d.retries for d in self.decks),
            "by_reason": self.by_reason(),
            "decks": [d.to_dict() for d in self.decks],
        }

    def lines(self) -> list[str]:
        """The text report's lines: a summary, then each deck with its reasons."""
        if not self.decks:
            return []
        why = ", ".join(f"{n} {r}" for r, n in self.by_reason().items())
        out = [
            f"retried {self.jobs} job(s) ({why}): "
            + "; ".join(
                f"{d.file} [{', '.join(d.variants) or d.kind}] {', '.join(sorted(set(d.reasons)))}"
                for d in self.decks
            )
        ]
        return out


class RetryTracker:
    """Collects the failed attempts of a build's jobs as the build waits for them."""

    def __init__(self) -> None:
        self._seen: dict[int, dict[int, str]] = {}  # job id -> attempt -> message

    def observe(self, unfinished: list[JobRecord]) -> None:
        """Pending and running jobs: one with an error is waiting for, or on, a retry; the
        error is that of its latest failed attempt."""
        for job in unfinished:
            if job.error is None:
                continue
            failed = job.attempts if job.state is JobState.PENDING else job.attempts - 1
            if failed >= 1:
                self._seen.setdefault(job.id, {})[failed] = job.error.message

    def report(self, finished: dict[int, JobRecord], decks: dict[int, Any]) -> RetryReport:
        """``decks`` maps job ids to their planned job (source_rel, kind, variants)."""
        out = RetryReport()
        for job_id, job in sorted(finished.items()):
            seen = dict(self._seen.get(job_id, {}))
            if job.error is not None and job.attempts > 1 and job.attempts - 1 not in seen:
                # A job that failed for good after retries: its last error says why.
                seen.setdefault(job.attempts - 1, job.error.message)
            retries = max(job.attempts - 1, len(seen))
            if retries <= 0:
                continue
            p = decks.get(job_id)
            out.decks.append(
                DeckRetries(
                    file=p.source_rel if p is not None else f"job {job_id}",
                    kind=job.kind,
                    variants=sorted({v.split("/")[0] for v in p.variants}) if p else [],
                    retries=retries,
                    messages=[seen[a] for a in sorted(seen)],
                )
            )
        return out
