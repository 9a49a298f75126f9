"""Job kind ``plantuml``: a thin handler around the warm PlantUML renderer."""

from __future__ import annotations

from clx.diagrams.plantuml import PlantUmlRenderer
from clx.workers.handlers.diagram import DiagramHandler


class PlantUmlHandler(DiagramHandler):
    kind = "plantuml"

    def __init__(self, renderer: PlantUmlRenderer | None = None) -> None:
        super().__init__(renderer or PlantUmlRenderer())

    def warm(self) -> None:
        """Graphviz is checked by start(); warm the PNG JVM (the SVG JVM starts on use)."""
        self.renderer.warm("png")
