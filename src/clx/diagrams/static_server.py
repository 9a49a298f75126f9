"""A loopback HTTP server for the draw.io web app and its MathJax folder.

The page loads ``math/es5/startup.js`` relative to itself, but the MathJax files live
in another package's folder; serving both from one origin joins them without copying
24 MB or touching the installed files. It binds 127.0.0.1 on a free port and runs in
a daemon thread, so it never outlives the worker and never listens beyond this host.
"""

from __future__ import annotations

import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


class _Handler(SimpleHTTPRequestHandler):
    mounts: dict[str, Path] = {}

    def __init__(self, *args: Any, mounts: dict[str, Path], **kwargs: Any) -> None:
        self.mounts = mounts
        super().__init__(*args, **kwargs)

    def translate_path(self, path: str) -> str:
        for prefix, folder in self.mounts.items():
            if path.startswith(prefix + "/"):
                self.directory = str(folder)
                return super().translate_path(path[len(prefix) :])
        return super().translate_path(path)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
        pass


class StaticServer:
    """Serve ``root`` at ``/`` and each ``mounts[prefix]`` folder at ``prefix/``."""

    def __init__(self, root: Path, mounts: dict[str, Path] | None = None) -> None:
        handler = partial(_Handler, directory=str(root), mounts=dict(mounts or {}))
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="clx-drawio-http", daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
