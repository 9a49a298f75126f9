"""A handler that does nothing: measures the queue and runtime overhead alone."""

from __future__ import annotations

from clx.workers.handler import JobView, Outcome


class NoopHandler:
    kind = "noop"
    # Jobs are instantaneous, so a worker may claim many per round trip.
    claim_batch = 256

    def start(self) -> None:
        pass

    def run(self, job: JobView) -> Outcome:
        return Outcome()

    def stop(self) -> None:
        pass
