"""The contract between the worker runtime and the job handlers.

A handler serves one job kind. The runtime calls ``start()`` once (keep tools warm
there), ``run(job)`` per job, and ``stop()`` on shutdown. Handlers never touch the
queue; the runtime writes the files of an ``Outcome`` atomically and records the
result, so a handler can stay a thin wrapper around a pure processor.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from clx.problems import Problem


@dataclass(frozen=True)
class JobView:
    """What a handler sees of a claimed job."""

    id: int
    kind: str
    payload: dict[str, Any]
    attempt: int = 1
    # Course state folder (``.clx``) of the build that submitted the job, or a worker's
    # own folder when the queue is a server.
    state_dir: Path | None = None
    # Where input blobs come from (``clx.blobs.Blobs``): ``.clx/blobs`` or the server's
    # table. Handlers read inputs through ``input_blobs`` and never ask which.
    blobs: Any = None

    def input_blobs(self) -> Any:
        if self.blobs is not None:
            return self.blobs
        if self.state_dir is None:
            return None
        from clx.store import BlobStore

        return BlobStore(Path(self.state_dir) / "blobs")


@dataclass
class Outcome:
    """What a handler produced.

    ``files`` maps absolute output paths to bytes; the runtime writes them atomically
    (unchanged bytes are not rewritten). If ``problems`` holds any error the job is
    recorded as failed (content failure, no retry) after the files are written, so the
    variants that did work still land. Warnings are recorded with the result.
    """

    files: dict[str, bytes] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return any(p.is_error for p in self.problems)


class Handler(Protocol):
    kind: str

    def start(self) -> None:
        """Warm up tools; raise ``clx.problems.ConfigurationError`` if one is missing."""

    def run(self, job: JobView) -> Outcome:
        """Process one job.

        Raise ``ContentError``/``ConfigurationError`` to fail the job at once,
        ``InfrastructureError`` (or any other exception) to have it retried.
        """

    def stop(self) -> None:
        """Release tools (kill kernels, the JVM, the browser)."""
