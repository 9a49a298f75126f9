"""Job kind ``plantuml``: a thin handler around the warm PlantUML renderer."""

from __future__ import annotations

from clx.diagrams.jobs import run_diagram_job
from clx.diagrams.plantuml import PlantUmlRenderer
from clx.workers.handler import JobView, Outcome


class PlantUmlHandler:
    kind = "plantuml"
    # Renders take 0.03–0.1 s warm: claiming a few at once saves queue round trips
    # without letting one worker hoard a large share of the diagrams.
    claim_batch = 4

    def __init__(self, renderer: PlantUmlRenderer | None = None) -> None:
        self.renderer = renderer or PlantUmlRenderer()
        self._versions: dict[str, str] = {}

    def start(self) -> None:
        """Check Graphviz and warm the PNG JVM (the SVG JVM starts on first use)."""
        try:
            self.renderer.start()
            self._versions = self.renderer.versions()
            self.renderer.warm("png")
        except BaseException:
            self.renderer.stop()
            raise

    def run(self, job: JobView) -> Outcome:
        return run_diagram_job(job, self.renderer.render, info={"tools": self._versions})

    def stop(self) -> None:
        self.renderer.stop()
