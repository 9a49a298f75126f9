"""The page's HTTP side: ``/`` the page, ``/events`` (SSE), ``/api/status``, ``/files/…``.

Every route is a GET that reads; nothing changes the build or the queue. Output files
are served from the output root only: the requested path is resolved (symbolic links
too) and refused unless it stays inside the root. Requests naming another host than the
one the server was bound to are refused, so a web page elsewhere cannot read this one
through a rebound DNS name.

The status document is produced by one poller task per server, on a single worker
thread (the collector's database connection lives there), and only while a page is
connected: with nobody watching, the server costs the build nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from importlib.resources import files
from pathlib import Path
from typing import Any

from sse_starlette.sse import EventSourceResponse
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, PlainTextResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from clx.web.status import StatusCollector

log = logging.getLogger(__name__)

STATIC = files("clx.web") / "static"
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1", "[::1]")


def _comparable(doc: dict[str, Any]) -> str:
    return json.dumps({k: v for k, v in doc.items() if k != "generated_at"}, sort_keys=True)


class StatusHub:
    """The latest status document and everyone waiting for the next one."""

    def __init__(self, collector: StatusCollector, interval: float = 0.25) -> None:
        self.collector = collector
        self.interval = interval
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="clx-web-status")
        self.version = 0
        self.text = "{}"
        self._last = ""
        self.clients = 0
        self.closing = False
        self.loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._changed: asyncio.Condition | None = None
        self._poller: asyncio.Task | None = None
        self._failing: str | None = None  # the last collection error, reported once

    # --- called from other threads (the build) ------------------------------------------

    def wake(self) -> None:
        """Something happened: collect now instead of at the next tick."""
        loop = self.loop
        if loop is not None and self._wake is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop just closed
                loop.call_soon_threadsafe(self._wake.set)

    # --- on the server's loop -------------------------------------------------------------

    def _bind(self) -> None:
        if self.loop is None:
            self.loop = asyncio.get_running_loop()
            self._wake = asyncio.Event()
            self._changed = asyncio.Condition()

    async def refresh(self) -> dict[str, Any]:
        self._bind()
        assert self.loop is not None and self._changed is not None
        doc = await self.loop.run_in_executor(self.executor, self.collector.collect)
        key = _comparable(doc)
        if key != self._last:
            self._last = key
            self.version += 1
            self.text = json.dumps(doc, ensure_ascii=False)
            async with self._changed:
                self._changed.notify_all()
        return doc

    async def _poll(self) -> None:
        assert self._wake is not None
        while self.clients > 0 and not self.closing:
            try:
                await self.refresh()
                self._failing = None
            except Exception as e:  # a locked or vanished database: say so once, try again
                if str(e) != self._failing:
                    self._failing = str(e)
                    log.warning("collecting the live status failed: %s", e)
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval)
        self._poller = None

    async def close(self) -> None:
        """Last document out, then every stream ends."""
        self._bind()
        assert self._changed is not None
        try:
            await self.refresh()
        except Exception:
            log.exception("collecting the live status failed")
        self.closing = True
        async with self._changed:
            self._changed.notify_all()

    async def stream(self) -> AsyncIterator[dict[str, str]]:
        self._bind()
        assert self._changed is not None
        self.clients += 1
        try:
            if self._poller is None:
                self._poller = asyncio.create_task(self._poll())
            if self.version == 0:
                await self.refresh()
            seen = -1
            while True:
                if self.version != seen:
                    seen = self.version
                    yield {"event": "status", "id": str(seen), "data": self.text}
                if self.closing:
                    yield {"event": "end", "data": "{}"}
                    return
                async with self._changed:
                    if self.version == seen and not self.closing:
                        await self._changed.wait()
        finally:
            self.clients -= 1


def _refused() -> PlainTextResponse:
    return PlainTextResponse("not found", status_code=404)


def resolve_output(output_root: Path, rel: str) -> Path | None:
    """The file ``rel`` names below the output root, or None if it is not one there."""
    root = output_root.resolve()
    if "\x00" in rel or rel.startswith("/") or "\\" in rel:
        return None
    try:
        p = (root / rel).resolve()
    except (OSError, RuntimeError, ValueError):
        return None
    if p != root and root not in p.parents:
        return None
    return p if p.is_file() else None


def allowed_hosts(host: str) -> list[str]:
    """The Host header values served when bound to ``host``: the loopback names for a
    loopback address (any of 127.0.0.0/8), the address itself otherwise; anything only
    for an unspecified address (0.0.0.0, ::), which every name of the machine reaches."""
    bare = host.strip("[]")
    try:
        ip = ipaddress.ip_address(bare)
    except ValueError:
        return [*LOOPBACK_NAMES] if host in LOOPBACK_NAMES else [host]
    if ip.is_unspecified:
        return ["*"]
    own = [f"[{bare}]", bare] if ip.version == 6 else [bare]
    return [*LOOPBACK_NAMES, *own] if ip.is_loopback else own


def create_app(hub: StatusHub, output_root: Path, *, host: str = "127.0.0.1") -> Starlette:
    page = (STATIC / "index.html").read_bytes()

    async def index(_request: Request) -> HTMLResponse:
        return HTMLResponse(page)

    async def status(_request: Request) -> JSONResponse:
        return JSONResponse(await hub.refresh())

    async def events(_request: Request) -> EventSourceResponse:
        return EventSourceResponse(hub.stream(), ping=10)

    async def output_file(request: Request) -> Any:
        p = resolve_output(output_root, request.path_params["path"])
        if p is None:
            return _refused()
        return FileResponse(p)

    allowed = allowed_hosts(host)
    return Starlette(
        routes=[
            Route("/", index),
            Route("/api/status", status),
            Route("/events", events),
            Route("/files/{path:path}", output_file),
            Mount("/static", StaticFiles(directory=str(STATIC)), name="static"),
        ],
        middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=allowed)],
    )
