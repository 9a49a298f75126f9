"""From a diagram job to an Outcome: the glue both diagram handlers share.

It reads the source from the blob store, renders each requested format and turns a
broken diagram into an error Problem naming the source file and the render target,
so the build reports it and carries on. Only failures a retry may cure (a dead JVM,
a stuck page) leave as exceptions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from clx.diagrams.payload import DiagramJobPayload
from clx.diagrams.rendered import Rendered
from clx.problems import (
    ClxError,
    ConfigurationError,
    ContentError,
    InfrastructureError,
    Problem,
)
from clx.workers.handler import JobView, Outcome

RenderFunction = Callable[[str, str], Rendered]


def run_diagram_job(job: JobView, render: RenderFunction, *, info: dict | None = None) -> Outcome:
    payload = DiagramJobPayload.from_dict(job.payload)

    def located(problem: Problem) -> Problem:
        return replace(problem, file=payload.source_path, target=payload.target_label)

    try:
        text = read_source_text(job, payload)
    except ContentError as e:
        return Outcome(problems=[located(p) for p in _problems_of(e)], info=dict(info or {}))
    except (InfrastructureError, ConfigurationError) as e:
        raise _relocated(e, located) from e
    outcome = Outcome(info=dict(info or {}))
    for fmt in payload.formats():
        try:
            rendered = render(text, fmt)
        except ContentError as e:
            # The same text fails the same way in every format: report it once.
            outcome.problems.extend(located(p) for p in _problems_of(e))
            break
        except (InfrastructureError, ConfigurationError) as e:
            raise _relocated(e, located) from e
        outcome.files[payload.outputs[fmt]] = rendered.data
        for w in rendered.warnings:
            w = located(w)
            if w not in outcome.problems:
                outcome.problems.append(w)
    return outcome


def read_source_text(job: JobView, payload: DiagramJobPayload) -> str:
    """The source as the build hashed it; ContentError if it is not UTF-8 text."""
    blobs = job.input_blobs()
    if blobs is None:
        raise ConfigurationError(f"job {job.id} has no blob store to read its source from")
    try:
        data = blobs.get(payload.source_sha256)
    except OSError as e:
        raise InfrastructureError(
            f"cannot read the source blob of {payload.source_path}: {e}"
        ) from e
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        message = f"not UTF-8 text (byte {e.start}: {data[e.start : e.start + 1]!r})"
        raise ContentError(message, [Problem(message=message)]) from None


def _relocated(error: ClxError, located: Callable[[Problem], Problem]) -> ClxError:
    """The same error for the runtime to retry or fail, but naming the diagram."""
    return type(error)(str(error), [located(p) for p in _problems_of(error)])


def _problems_of(error: ClxError) -> list[Problem]:
    return list(error.problems) or [Problem(message=str(error), category=error.category)]
