"""Kernel lifecycle around an execution: a boot that dies, and the process's signal handlers."""

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


SIGNALS_AFTER_EXECUTION = """
import signal, sys
from nbformat.v4 import new_code_cell, new_notebook
from clx.notebooks import Executor

def stop(*_):
    pass

signal.signal(signal.SIGTERM, stop)
signal.signal(signal.SIGINT, stop)
nb = new_notebook(cells=[new_code_cell("print(6 * 7)")])
with Executor() as ex:
    done = ex.execute(nb, kernel_name="python3", files={})
assert done.cells[0].outputs[0]["text"] == "42\\n", done.cells[0].outputs
print(signal.getsignal(signal.SIGTERM) is stop, signal.getsignal(signal.SIGINT) is stop)
"""


def test_an_execution_leaves_the_process_signal_handlers_alone(tmp_path) -> None:
    """nbclient resets SIGTERM and SIGINT to their defaults after each execution on the
    main thread; a worker would then die on SIGTERM without handing its jobs back."""
    import subprocess

    r = subprocess.run([sys.executable, "-c", SIGNALS_AFTER_EXECUTION], capture_output=True,
                       text=True, timeout=120, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["True", "True"]
