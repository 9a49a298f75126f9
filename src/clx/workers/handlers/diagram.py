"""What the ``plantuml`` and ``drawio`` handlers share: a warm renderer around jobs."""

from __future__ import annotations

from typing import Any, ClassVar

from clx.diagrams.jobs import run_diagram_job
from clx.workers.handler import JobView, Outcome


class DiagramHandler:
    kind: ClassVar[str]
    # Renders take 0.03–0.1 s warm: claiming a few at once saves queue round trips
    # without letting one worker hoard a large share of the diagrams.
    claim_batch = 4

    def __init__(self, renderer: Any) -> None:
        self.renderer = renderer
        self._versions: dict[str, str] = {}

    def warm(self) -> None:
        """Render something once so the first real job pays no start-up."""
        raise NotImplementedError

    def start(self) -> None:
        try:
            self.renderer.start()
            self._versions = self.renderer.versions()
            self.warm()
        except BaseException:
            self.renderer.stop()
            raise

    def run(self, job: JobView) -> Outcome:
        return run_diagram_job(job, self.renderer.render, info={"tools": self._versions})

    def stop(self) -> None:
        self.renderer.stop()
