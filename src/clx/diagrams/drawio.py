"""draw.io XML → PNG or SVG bytes in a warm Chromium page.

The renderer checks every file in Python first (``drawio_xml``), because the page
hangs rather than fails on bad input. What the page then does wrong is sorted like
this: render() throwing or an empty drawing is the author's problem (ContentError);
a timeout, a crash or a protocol error is ours (InfrastructureError) and the page is
reloaded, or the browser restarted, before the error is raised, so the next job, or
the retry, meets a clean page. After ``recycle_after`` jobs the browser is restarted
anyway as a safety valve against slow leaks.
"""

from __future__ import annotations

import contextlib
import logging
from types import TracebackType

from clx.diagrams.drawio_page import DrawioPage, PageFailure, RenderRejected, RenderTimeout
from clx.diagrams.drawio_xml import check_drawio
from clx.diagrams.rendered import Rendered, content_error, warning
from clx.diagrams.static_server import StaticServer
from clx.diagrams.tools import DrawioTools, locate_drawio_tools
from clx.problems import Category, ConfigurationError, InfrastructureError, Problem

log = logging.getLogger(__name__)

FORMATS = ("png", "svg")
WARM_UP_DIAGRAM = (
    '<mxfile><diagram id="w" name="w"><mxGraphModel><root><mxCell id="0"/>'
    '<mxCell id="1" parent="0"/><mxCell id="2" value="warm" vertex="1" parent="1">'
    '<mxGeometry x="0" y="0" width="40" height="20" as="geometry"/></mxCell>'
    "</root></mxGraphModel></diagram></mxfile>"
)


class DrawioRenderer:
    """``start()`` / ``render(xml, fmt)`` / ``stop()``; also a context manager.

    ``scale`` and ``border`` reproduce the predecessor's ``--scale 3 --border 20`` for
    PNG; SVG is exported at scale 1 with the same border. ``timeout`` bounds one
    render; ``recycle_after`` is the number of jobs after which the browser restarts.
    """

    def __init__(
        self,
        tools: DrawioTools | None = None,
        *,
        scale: float = 3,
        border: int = 20,
        timeout: float = 20.0,
        launch_timeout: float = 60.0,
        recycle_after: int = 200,
    ) -> None:
        self.tools = tools
        self.scale = scale
        self.border = border
        self.timeout = timeout
        self.launch_timeout = launch_timeout
        self.recycle_after = recycle_after
        self.restarts = 0  # browsers replaced after a failure or by recycling
        self.reloads = 0  # page reloads after a failed render
        self._server: StaticServer | None = None
        self._page: DrawioPage | None = None

    # -- lifecycle -------------------------------------------------------------------

    def start(self) -> None:
        """Locate the tools, serve the web app, open the page; ConfigurationError if missing."""
        if self.tools is None:
            self.tools = locate_drawio_tools()
        if self._server is None:
            self._server = StaticServer(
                self.tools.drawio_dir,
                mounts={"/math": self.tools.mathjax_dir, "/stencils": self.tools.stencils_dir},
            )
        if self._page is None:
            try:
                self._open_page()
            except Exception as e:
                self.stop()
                message = f"cannot start Chromium with the draw.io page: {e}"
                if _died(e):  # it started, then was killed: another start may succeed
                    raise InfrastructureError(
                        message, [Problem(message=message, category=Category.INFRASTRUCTURE)]
                    ) from e
                raise ConfigurationError(
                    message, [Problem(message=message, category=Category.CONFIGURATION)]
                ) from e

    def warm(self) -> None:
        """Render a tiny diagram so that the first real job pays no first-render costs."""
        self.render(WARM_UP_DIAGRAM, "png")
        self.render(WARM_UP_DIAGRAM, "svg")

    def stop(self) -> None:
        if self._page is not None:
            self._page.close()
            self._page = None
        if self._server is not None:
            self._server.close()
            self._server = None

    def __enter__(self) -> DrawioRenderer:
        self.start()  # cleans up after itself when it fails
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def versions(self) -> dict[str, str]:
        return (self.tools or locate_drawio_tools()).versions()

    @property
    def process_ids(self) -> list[int]:
        """Playwright's driver and the Chromium processes (for tests and diagnostics)."""
        return self._page.process_ids if self._page else []

    # -- rendering -------------------------------------------------------------------

    def render(self, xml_text: str, fmt: str = "png") -> Rendered:
        if fmt not in FORMATS:
            raise ValueError(f"unknown draw.io output format {fmt!r}; use one of {FORMATS}")
        info = check_drawio(xml_text)
        page = self._ready_page()
        scale = self.scale if fmt == "png" else 1
        bg = "#ffffff" if fmt == "png" else ""
        try:
            bounds = page.render(
                xml_text, fmt, scale=scale, border=self.border, bg=bg, timeout=self.timeout
            )
            width, height = bounds.content_size(self.border)
            if width < 1 or height < 1:
                raise content_error("the draw.io diagram is empty (page 1 draws nothing)")
            if fmt == "png":
                data = page.screenshot(bounds, border=self.border, timeout=self.timeout)
            else:
                data = page.export_svg(
                    border=self.border, math_enabled=info.math, timeout=self.timeout
                )
        except RenderRejected as e:
            raise content_error(f"draw.io cannot render the diagram: {e}") from e
        except RenderTimeout as e:
            self._recover(reload=True)
            raise InfrastructureError(str(e)) from e
        except PageFailure as e:
            self._recover(reload=False)
            raise InfrastructureError(f"draw.io page failed: {e}") from e
        return Rendered(data, self._page_warnings(page))

    def _page_warnings(self, page: DrawioPage) -> tuple[Problem, ...]:
        """What went wrong inside the page without stopping the render: never silent.

        A stencil library that did not load or a shape no library has is drawn as a
        plain box; a missing image leaves a gap; a script error may leave anything out.
        """
        found: list[Problem] = []
        explained: set[str] = set()
        try:
            shapes = page.unknown_shapes()
        except PageFailure as e:
            shapes = []
            found.append(warning(f"draw.io page: cannot check the shapes: {e}"))
        for shape in shapes:
            missing = [f for f in shape.files if f in page.failed_loads]
            explained.update(missing)
            if missing:
                why = ", ".join(f"{f} ({page.failed_loads[f]})" for f in missing)
                found.append(
                    warning(
                        f"draw.io shape '{shape.name}' is drawn as a plain box: its stencil "
                        f"library could not be loaded: {why}"
                    )
                )
            else:
                found.append(
                    warning(
                        f"draw.io shape '{shape.name}' is unknown to the bundled draw.io "
                        f"({self._version()}) and is drawn as a plain box"
                    )
                )
        for path in dict.fromkeys(page.failed_this_render):
            if path not in explained:
                found.append(
                    warning(f"draw.io page could not load {path} ({page.failed_loads[path]})")
                )
        for error in page.page_errors:
            found.append(warning(f"script error in the draw.io page: {error}"))
        return tuple(found)

    def _version(self) -> str:
        tools = self.tools
        return f"stencils of draw.io {tools.versions()['drawio-stencils']}" if tools else "?"

    def _ready_page(self) -> DrawioPage:
        if self._page is None:
            self.start()
        elif self._page.jobs >= self.recycle_after:
            log.info("recycling the draw.io browser after %d jobs", self._page.jobs)
            self._restart_browser()
        assert self._page is not None
        return self._page

    def _open_page(self) -> None:
        assert self.tools is not None and self._server is not None
        page = DrawioPage(self.tools, self._server.url, launch_timeout=self.launch_timeout)
        try:
            page.open()
        except BaseException:
            page.close()
            raise
        self._page = page

    def _restart_browser(self) -> None:
        if self._page is not None:
            self._page.close()
            self._page = None
        self.restarts += 1
        self._open_page()

    def _recover(self, *, reload: bool) -> None:
        """After a failure: reload the page if that is enough, else a new browser."""
        if reload and self._page is not None:
            try:
                self._page.reload(timeout=self.launch_timeout)
                self.reloads += 1
                return
            except Exception:  # the page is wedged: fall through to a new browser
                log.warning("draw.io page reload failed; restarting the browser")
        with contextlib.suppress(Exception):
            self._restart_browser()


def _died(e: Exception) -> bool:
    """Chromium started and then went away (SIGKILLed, crashed) rather than failing to
    launch at all, which is the operator's to fix."""
    text = str(e).lower()
    return "has been closed" in text or "target closed" in text or "crashed" in text
