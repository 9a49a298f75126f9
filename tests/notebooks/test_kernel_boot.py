"""The spare kernel's boot check notices a kernel that dies before it answers."""

from __future__ import annotations

import json
import sys
import time

import pytest

from clx.notebooks.kernels import KernelPool


def test_a_kernel_that_dies_while_booting_is_reported_at_once(tmp_path, monkeypatch) -> None:
    spec = tmp_path / "jupyter" / "kernels" / "clx-broken"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-c", "import sys; sys.exit(3)", "-f", "{connection_file}"],
        "display_name": "broken",
        "language": "python",
    }))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    with KernelPool(root=tmp_path / "kernels", spares=1, startup_timeout=60) as pool:
        t0 = time.monotonic()
        kernel = pool.take("clx-broken")
        with pytest.raises(RuntimeError, match="died before replying"):
            kernel.wait_ready(60)
        assert time.monotonic() - t0 < 30  # noticed by the liveness check, not the 60 s limit
        pool.discard(kernel)
