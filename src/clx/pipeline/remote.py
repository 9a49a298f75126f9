"""The build's side of a server queue: inputs go up before the jobs, outputs come back.

Workers on other hosts share no file system with the build. Before submitting, the build
uploads the input blobs its jobs name (only those the server lacks). A worker returns each
output as a blob (``result["blobs"]``: output path → digest); the build writes them into
the output tree atomically, and only to the paths its own plan gave the job (not the
outputs stored with the job, which anyone with rights on the database could change), so a
worker can never make the build write elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from clx.blobs import Blobs, FileBlobs, upload
from clx.problems import Category, Problem
from clx.queue.model import JobRecord
from clx.store import atomic_write


def publish_inputs(local: FileBlobs, remote: Blobs, digests: Iterable[str]) -> int:
    """Upload the input blobs the server lacks; returns how many were sent."""
    return upload(local, remote, digests)


def land_outputs(job: JobRecord, blobs: Blobs, planned_outputs: Iterable[str]) -> list[Problem]:
    """Write the output blobs of a finished job to the paths of ``planned_outputs`` (the
    build's plan for it); record them in ``result["written"]``, and mark the result
    ``landing_failed`` when one could not be fetched or written, so that the job counts
    as failed and is never cached with what an earlier build left at that path.

    Returns problems for outputs that could not be fetched or written (the build
    reports them and goes on)."""
    result = job.result
    if not result or not result.get("blobs"):
        return []
    planned = set(planned_outputs)
    written: list[str] = []
    problems: list[Problem] = []
    file = (job.payload or {}).get("file") if job.payload else None
    for path, digest in sorted(result["blobs"].items()):
        if path not in planned:
            problems.append(
                Problem(
                    f"job {job.id} returned an output it was not asked for: {path}",
                    file=file,
                    category=Category.INFRASTRUCTURE,
                )
            )
            continue
        try:
            atomic_write(Path(path), blobs.get(digest))
            written.append(path)
        except OSError as e:
            problems.append(
                Problem(
                    f"output {path} of job {job.id} could not be written: {e}",
                    file=file,
                    category=Category.INFRASTRUCTURE,
                )
            )
    result["written"] = written
    if problems:
        result["landing_failed"] = True
    return problems
