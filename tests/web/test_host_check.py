"""The Host header check against DNS rebinding: only the names of the bound address."""

from __future__ import annotations

import http.client
from pathlib import Path

import pytest

from clx.web.server import LiveServer
from clx.web.status import CourseInfo, StatusCollector


def _status(port: int, bind: str, host_header: str) -> int:
    conn = http.client.HTTPConnection(bind, port, timeout=10)
    try:
        conn.putrequest("GET", "/", skip_host=True)
        conn.putheader("Host", host_header)
        conn.endheaders()
        return conn.getresponse().status
    finally:
        conn.close()


@pytest.mark.parametrize("bind", ["127.0.0.1", "127.0.0.2", "[::1]"])
def test_only_the_bound_addresses_names_are_served(tmp_path: Path, bind: str) -> None:
    info = CourseInfo(spec="c.xml", name="C", output_root=tmp_path)
    server = LiveServer(StatusCollector(tmp_path / "none.db", info), tmp_path, host=bind)
    url = server.start()
    bind = bind.strip("[]")
    try:
        assert url.startswith("http://127.0.0.") or url.startswith("http://[::1]:")
        named = f"[{bind}]" if ":" in bind else bind
        assert _status(server.port, bind, f"{named}:{server.port}") == 200
        assert _status(server.port, bind, f"localhost:{server.port}") == 200
        assert _status(server.port, bind, "evil.example") == 400
        assert _status(server.port, bind, f"evil.example:{server.port}") == 400
    finally:
        server.stop(drain=0.2)
