"""One Chromium with one open draw.io ``export3.html`` page, driven through Playwright.

This is the part of the draw.io renderer that talks to the browser: launch, page
load, one render, and tearing the whole process tree down. It knows nothing about
files or problems; ``drawio.py`` decides what a failure means.

Opening a page costs about a second, a render in an open page 0.03–0.07 s, so the
page is reused for every diagram. Debian's Chromium is used through
``executable_path``; Playwright's own browser download is never needed.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import threading
import time
from dataclasses import dataclass
from typing import Any

import psutil
from playwright.sync_api import Browser, Page, Playwright, sync_playwright
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from clx.diagrams.tools import DrawioTools

log = logging.getLogger(__name__)

# The network stays off: this is a renderer, not a browser. Host names other than the
# loopback server resolve to nothing, so a diagram that links an image by URL fails
# fast instead of waiting for a connection.
CHROMIUM_FLAGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--no-proxy-server",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
)

# Start render() from a timer so that evaluate() returns at once: a render that never
# finishes must not block the Python side, which waits with a timeout instead. A
# synchronous exception becomes a marker element the wait can see.
_START_RENDER = """
d => {
  document.querySelectorAll('#LoadingComplete, #ClxRenderError').forEach(e => e.remove());
  window.clxGraph = null;
  setTimeout(() => {
    try {
      window.clxGraph = render(d);
    } catch (e) {
      const el = document.createElement('div');
      el.id = 'ClxRenderError';
      el.style.display = 'none';
      el.setAttribute('message', String((e && e.message) || e));
      document.body.appendChild(el);
    }
  }, 0);
}
"""

# The SVG export as draw.io's own exporters do it: getSvg on the rendered graph, math
# CSS for math pages, images embedded as data URIs (like --embed-svg-images).
_EXPORT_SVG = """
async ({border, math, timeout}) => {
  const graph = window.clxGraph;
  graph.mathEnabled = math;
  let bg = graph.background;
  if (bg == mxConstants.NONE || bg == '') bg = null;
  const svg = graph.getSvg(bg, 1, border, false, null, true, null, null, null);
  if (graph.shadowVisible) graph.addSvgShadow(svg);
  if (math) Editor.prototype.addMathCss(svg);
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('embedding images timed out')), timeout);
    new Editor().convertImages(svg, () => { clearTimeout(timer); resolve(); });
  });
  return Graph.xmlDeclaration + '\\n' + Graph.svgDoctype + '\\n' + mxUtils.getXml(svg);
}
"""


# After a render: the shapes of the graph that draw.io knows neither as a built-in shape
# nor as a stencil (it draws those as plain boxes), with the files their library would
# be loaded from.
_UNKNOWN_SHAPES = """
() => {
  const graph = window.clxGraph;
  if (!graph) return [];
  const found = {};
  for (const id in graph.model.cells) {
    const style = graph.getCellStyle(graph.model.cells[id]);
    const name = style && style[mxConstants.STYLE_SHAPE];
    if (!name || found[name] || mxCellRenderer.defaultShapes[name] != null) continue;
    if (mxStencilRegistry.getStencil(name) != null) continue;
    const base = mxStencilRegistry.getBasenameForStencil(name);
    const files = base
      ? (mxStencilRegistry.libraries[base] || [STENCIL_PATH + '/' + base + '.xml'])
      : [];
    found[name] = files.map(String);
  }
  return Object.keys(found).sort().map(name => ({name, files: found[name]}));
}
"""


@dataclass(frozen=True)
class UnknownShape:
    """A shape the page drew as a plain box, and the library files it would need."""

    name: str
    files: tuple[str, ...]


class RenderTimeout(Exception):
    """The page did not finish in time."""


class PageFailure(Exception):
    """The browser or page broke (crash, closed target, protocol error)."""


class RenderRejected(Exception):
    """draw.io's render() threw: the diagram content is the problem."""


@dataclass(frozen=True)
class Bounds:
    """The ``bounds`` draw.io reports: the drawing plus ``border`` + 1 px on the right/bottom."""

    x: float
    y: float
    width: float
    height: float

    def content_size(self, border: int) -> tuple[float, float]:
        return self.width - border - 1, self.height - border - 1

    def symmetric_clip(self, border: int) -> dict[str, int]:
        """Clip from the origin with the left/top margin repeated on the right/bottom.

        export.js shifts the drawing by the scaled border but adds the border to the
        width unscaled, so a plain clip would give 60 px on the left and 21 px on the
        right at scale 3.
        """
        content_w, content_h = self.content_size(border)
        left, top = math.ceil(self.x), math.ceil(self.y)
        return {
            "x": 0,
            "y": 0,
            "width": 2 * left + math.ceil(content_w),
            "height": 2 * top + math.ceil(content_h),
        }


class DrawioPage:
    def __init__(self, tools: DrawioTools, url: str, *, launch_timeout: float = 60.0) -> None:
        self.tools = tools
        self.url = url
        self.launch_timeout = launch_timeout
        self.jobs = 0
        self.page_errors: list[str] = []
        # Files the page could not load: path (or URL for other hosts) -> why. Kept for
        # the page's lifetime, since draw.io asks for each stencil library only once.
        self.failed_loads: dict[str, str] = {}
        self.failed_this_render: list[str] = []
        self._pw: Playwright | None = None
        self._browser: Browser | None = None
        self._page: Page | None = None
        self._driver: psutil.Process | None = None
        self._viewport: tuple[int, int] | None = None

    # -- lifecycle -------------------------------------------------------------------

    def open(self) -> None:
        before = _child_pids()
        # Starting Playwright has no timeout of its own: a driver that never answers (seen
        # when Chromium was killed while a worker started) would hang the worker forever.
        # Killing the driver after the launch timeout makes the start fail instead.
        watchdog = threading.Timer(self.launch_timeout, _kill_new_children, args=(before,))
        watchdog.daemon = True
        watchdog.start()
        try:
            self._pw = sync_playwright().start()
        finally:
            watchdog.cancel()
        self._driver = _new_child(before)
        self._browser = self._pw.chromium.launch(
            executable_path=str(self.tools.chromium),
            headless=True,
            args=list(CHROMIUM_FLAGS),
            timeout=self.launch_timeout * 1000,
        )
        self._page = self._browser.new_page(device_scale_factor=1)
        self._page.on("pageerror", lambda e: self._remember_error(str(e)))
        self._page.on("crash", lambda _page: self._remember_error("page crashed"))
        self._page.on(
            "response",
            lambda r: self._failed_load(r.url, f"HTTP {r.status}") if r.status >= 400 else None,
        )
        self._page.on(
            "requestfailed", lambda r: self._failed_load(r.url, str(r.failure or "failed"))
        )
        self._load()

    def _load(self) -> None:
        assert self._page is not None
        timeout = self.launch_timeout * 1000
        self._page.goto(f"{self.url}/export3.html", wait_until="load", timeout=timeout)
        self._page.wait_for_function("typeof render === 'function'", timeout=timeout)
        self._viewport = None

    def reload(self, timeout: float) -> None:
        """Throw away the page's state after a failed render (about 0.2 s)."""
        assert self._page is not None
        self._page.reload(wait_until="load", timeout=timeout * 1000)
        self._page.wait_for_function("typeof render === 'function'", timeout=timeout * 1000)
        self._viewport = None

    def close(self) -> None:
        """Close politely, then kill whatever of the driver and Chromium is left."""
        tree: list[psutil.Process] = []
        if self._driver is not None:
            with contextlib.suppress(psutil.Error):
                tree = [self._driver, *self._driver.children(recursive=True)]
        for step in (
            self._browser.close if self._browser else None,
            self._pw.stop if self._pw else None,
        ):
            if step is not None:
                with contextlib.suppress(Exception):
                    step()
        for proc in tree:
            with contextlib.suppress(psutil.Error):
                proc.kill()
        _wait_gone(tree, timeout=3)
        self._pw = self._browser = self._page = self._driver = None

    @property
    def process_ids(self) -> list[int]:
        """The Playwright driver and every Chromium process under it."""
        if self._driver is None:
            return []
        try:
            return [self._driver.pid, *(p.pid for p in self._driver.children(recursive=True))]
        except psutil.Error:
            return []

    def _remember_error(self, message: str) -> None:
        self.page_errors = [*self.page_errors[-9:], message]

    def _failed_load(self, url: str, why: str) -> None:
        where = url[len(self.url) + 1 :] if url.startswith(self.url + "/") else url
        self.failed_loads[where] = why
        self.failed_this_render.append(where)

    def unknown_shapes(self) -> list[UnknownShape]:
        """Shapes of the last render that were drawn as plain boxes (see _UNKNOWN_SHAPES)."""
        page = self._page
        if page is None:
            return []
        try:
            found = page.evaluate(_UNKNOWN_SHAPES)
        except PlaywrightError as e:
            raise PageFailure(str(e)) from e
        return [UnknownShape(str(f["name"]), tuple(f["files"])) for f in found]

    # -- rendering -------------------------------------------------------------------

    def screenshot(self, bounds: Bounds, *, border: int, timeout: float) -> bytes:
        """PNG of the last render with symmetric margins."""
        clip = bounds.symmetric_clip(border)
        size = (max(clip["width"], 100), max(clip["height"], 100))
        page = self._page
        if page is None:
            raise PageFailure("the draw.io page is not open")
        try:
            if self._viewport != size:
                page.set_viewport_size({"width": size[0], "height": size[1]})
                self._viewport = size
            return page.screenshot(clip=clip, type="png", timeout=timeout * 1000)
        except PlaywrightTimeout as e:
            raise RenderTimeout(f"screenshot not taken within {timeout:g} s") from e
        except PlaywrightError as e:
            raise PageFailure(str(e)) from e

    def export_svg(self, *, border: int, math_enabled: bool, timeout: float) -> bytes:
        """SVG of the last render (which must have used scale 1)."""
        page = self._page
        if page is None:
            raise PageFailure("the draw.io page is not open")
        args = {"border": border, "math": math_enabled, "timeout": timeout * 1000}
        try:
            return page.evaluate(_EXPORT_SVG, args).encode("utf-8")
        except PlaywrightError as e:
            if "timed out" in str(e):
                raise RenderTimeout(str(e)) from e
            raise PageFailure(str(e)) from e

    def render(
        self, xml: str, fmt: str, *, scale: float, border: int, bg: str, timeout: float
    ) -> Bounds:
        """Run draw.io's render() and wait until it reports its bounds."""
        page = self._page
        if page is None:
            raise PageFailure("the draw.io page is not open")
        self.jobs += 1
        self.page_errors = []
        self.failed_this_render = []
        data: dict[str, Any] = {
            "xml": xml,
            "format": fmt,
            "scale": scale,
            "border": border,
            "bg": bg,
            "from": 0,
        }
        try:
            page.evaluate(_START_RENDER, data)
            marker = page.wait_for_selector(
                "#LoadingComplete, #ClxRenderError", state="attached", timeout=timeout * 1000
            )
            assert marker is not None
            if marker.get_attribute("id") == "ClxRenderError":
                raise RenderRejected(marker.get_attribute("message") or "render() failed")
            raw = marker.get_attribute("bounds") or "{}"
        except PlaywrightTimeout as e:
            errors = "; ".join(self.page_errors)
            raise RenderTimeout(
                f"draw.io did not finish within {timeout:g} s"
                + (f" (page errors: {errors})" if errors else "")
            ) from e
        except PlaywrightError as e:
            raise PageFailure(str(e)) from e
        b = json.loads(raw)
        return Bounds(float(b["x"]), float(b["y"]), float(b["width"]), float(b["height"]))


def _wait_gone(procs: list[psutil.Process], timeout: float) -> None:
    """Wait until each process has exited.

    Chromium's helpers are not our children; once the driver is gone they are reaped
    by whatever init the machine runs (if at all), so a zombie counts as gone here.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not [p for p in procs if _running(p)]:
            return
        time.sleep(0.02)


def _running(proc: psutil.Process) -> bool:
    try:
        if proc.status() == psutil.STATUS_ZOMBIE:
            with contextlib.suppress(ChildProcessError, psutil.Error):
                proc.wait(timeout=0)  # reap it if it is ours (the driver)
            return False
        return True
    except psutil.Error:
        return False


def _child_pids() -> set[int]:
    try:
        return {p.pid for p in psutil.Process(os.getpid()).children()}
    except psutil.Error:
        return set()


def _kill_new_children(before: set[int]) -> None:
    """Kill the children (with their trees) that appeared since ``before``."""
    try:
        children = psutil.Process(os.getpid()).children()
    except psutil.Error:
        return
    for child in children:
        if child.pid in before:
            continue
        log.warning("the Playwright driver did not start in time: killing it (pid %s)", child.pid)
        with contextlib.suppress(psutil.Error):
            for proc in [*child.children(recursive=True), child]:
                proc.kill()


def _new_child(before: set[int]) -> psutil.Process | None:
    """The Playwright driver: the child process that appeared since ``before``."""
    try:
        children = psutil.Process(os.getpid()).children()
    except psutil.Error:
        return None
    new = [p for p in children if p.pid not in before]
    return new[-1] if new else None
