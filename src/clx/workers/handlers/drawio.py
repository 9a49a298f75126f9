"""Job kind ``drawio``: a thin handler around the warm draw.io renderer."""

from __future__ import annotations

from clx.diagrams.drawio import DrawioRenderer
from clx.workers.handlers.diagram import DiagramHandler


class DrawioHandler(DiagramHandler):
    kind = "drawio"

    def __init__(self, renderer: DrawioRenderer | None = None) -> None:
        super().__init__(renderer or DrawioRenderer())

    def warm(self) -> None:
        """Open Chromium with the draw.io page and render once to warm it."""
        self.renderer.warm()
