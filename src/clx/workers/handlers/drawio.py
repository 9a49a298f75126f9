"""Job kind ``drawio``: a thin handler around the warm draw.io renderer."""

from __future__ import annotations

from clx.diagrams.drawio import DrawioRenderer
from clx.diagrams.jobs import run_diagram_job
from clx.workers.handler import JobView, Outcome


class DrawioHandler:
    kind = "drawio"
    # Renders take 0.03–0.1 s warm: claiming a few at once saves queue round trips
    # without letting one worker hoard a large share of the diagrams.
    claim_batch = 4

    def __init__(self, renderer: DrawioRenderer | None = None) -> None:
        self.renderer = renderer or DrawioRenderer()
        self._versions: dict[str, str] = {}

    def start(self) -> None:
        """Open Chromium with the draw.io page and render once to warm it."""
        try:
            self.renderer.start()
            self._versions = self.renderer.versions()
            self.renderer.warm()
        except BaseException:
            self.renderer.stop()
            raise

    def run(self, job: JobView) -> Outcome:
        return run_diagram_job(job, self.renderer.render, info={"tools": self._versions})

    def stop(self) -> None:
        self.renderer.stop()
