"""Diagram renderers: PlantUML and draw.io text in, image bytes out, tools kept warm.

``plantuml.PlantUmlRenderer`` and ``drawio.DrawioRenderer`` share one shape:
``start()`` / ``render(text, "png" | "svg") -> Rendered`` / ``stop()`` (or ``with``).
A diagram the tool rejects raises ``ContentError`` (with the line); a dead or stuck
tool raises ``InfrastructureError`` after the tool was replaced; a missing tool raises
``ConfigurationError`` naming the install command (``tools``). ``jobs`` and
``payload`` connect the renderers to the ``plantuml`` and ``drawio`` job kinds.

Nothing is imported here so that importing one renderer does not pull in the other's
stack (Playwright).
"""
