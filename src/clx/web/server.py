"""Run the page's server (uvicorn) on its own thread, beside a build or on its own.

The socket is bound before the thread starts, so the URL is known at once (port 0 picks
a free port) and a port in use is an immediate, clear error. uvicorn runs its own event
loop on the thread; the build's thread only ever calls ``StatusHub.wake``, which hands
the event to that loop and returns.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
import threading
import time
from pathlib import Path

import uvicorn

from clx.web.app import LOOPBACK_NAMES, StatusHub, create_app
from clx.web.status import StatusCollector

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def no_auth_warning(host: str) -> str | None:
    """The warning for binding anything but the loopback address (the page has no login)."""
    if is_loopback(host):
        return None
    return (
        f"the live page listens on {host}: anyone who can reach this address sees the "
        "build's status and output files (there is no authentication)"
    )


class LiveServer:
    def __init__(
        self,
        collector: StatusCollector,
        output_root: Path,
        *,
        host: str = DEFAULT_HOST,
        port: int = 0,
        interval: float = 0.25,
    ) -> None:
        self.hub = StatusHub(collector, interval=interval)
        self.host = host.strip("[]")  # "[::1]" as written in a URL binds ::1
        self.port = port
        self.output_root = output_root
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._sock: socket.socket | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    def start(self) -> str:
        """Bind and start serving; returns the page's URL. OSError if the port is taken."""
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.port))
        except OSError:
            sock.close()
            raise
        sock.listen(64)
        self._sock = sock
        self.port = sock.getsockname()[1]
        app = create_app(self.hub, self.output_root, host=self.host)
        config = uvicorn.Config(
            app, log_level="warning", access_log=False, lifespan="off", timeout_graceful_shutdown=2
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="clx-web", daemon=True
        )
        self._thread.start()
        return self.url

    def wake(self) -> None:
        self.hub.wake()

    def stop(self, drain: float = 2.0) -> None:
        """Send the last status to open pages, end their streams, stop the server."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        loop = self.hub.loop
        if loop is not None and not loop.is_closed() and thread.is_alive():
            try:
                asyncio.run_coroutine_threadsafe(self.hub.close(), loop).result(drain)
            except Exception as e:  # the server is going away anyway
                log.debug("closing the live status: %s", e)
            deadline = time.monotonic() + drain
            while self.hub.clients and time.monotonic() < deadline:
                time.sleep(0.02)
        server.should_exit = True
        thread.join(drain + 3)
        stuck = False
        try:  # a collection stuck on a locked database must not end the build in a traceback
            self.hub.executor.submit(self.hub.collector.close).result(5)
        except Exception as e:
            stuck = True
            log.warning("live page: closing its queue connection failed: %s", e)
        self.hub.executor.shutdown(wait=not stuck, cancel_futures=stuck)
        if self._sock is not None:
            self._sock.close()
        self._server = self._thread = None
