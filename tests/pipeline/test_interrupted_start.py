"""Ctrl-C while a build starts leaves no false errors in `clx status` and no temporary
folders; a SIGKILLed build's leftovers are removed by the next build."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from clxtest import TWO_TOPICS_SPEC, notebook, write_tree


@pytest.fixture
def short_tmp():
    """A private TMPDIR with a short path (kernels put unix sockets below it)."""
    path = Path(tempfile.mkdtemp(prefix="clxt-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def leftovers(tmp: Path) -> list[str]:
    return sorted(str(p.relative_to(tmp)) for p in tmp.rglob("*"))


def test_ctrl_c_during_start_up_and_sigkill(tmp_path: Path, short_tmp: Path) -> None:
    root = write_tree(
        tmp_path / "course",
        {
            "course-specs/c.xml": TWO_TOPICS_SPEC,
            "slides/m/topic_1_alpha/slides_alpha.py": notebook("A", "A", "print(1)"),
            "slides/m/topic_2_beta/slides_beta.py": notebook("B", "B", "print(2)"),
        },
    )
    spec = str(root / "course-specs" / "c.xml")
    env = dict(os.environ, TMPDIR=str(short_tmp))

    def clx(*args: str, **kw):
        return [sys.executable, "-m", "clx.cli.main", *args]

    def start_and(sig: signal.Signals, when) -> subprocess.Popen:
        proc = subprocess.Popen(
            clx("build", spec, "--ignore-cache"),
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 60
        while not when() and time.monotonic() < deadline:
            assert proc.poll() is None, proc.communicate()[1]
            time.sleep(0.05)
        proc.send_signal(sig)
        proc.communicate(timeout=60)
        return proc

    # Ctrl-C as soon as the first worker process exists (kernels still booting).
    proc = start_and(signal.SIGINT, lambda: list(short_tmp.glob("clx-*/*/.clx-owner")))
    assert proc.returncode == 130
    assert leftovers(short_tmp) == [], "no temporary folder may stay"
    r = subprocess.run(
        clx("status", spec, "--output", "json"), env=env, capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 0, r.stderr
    [build] = json.loads(r.stdout)["builds"]
    text = json.dumps(build)
    assert build["failures"] == [] and build["failed_total"] == 0, text
    assert build["state"] == "closed" and not build["running"], text
    assert '"dead"' not in text and "exited with code" not in text, text

    # SIGKILL once kernels have folders: the next build removes what was left.
    proc = start_and(signal.SIGKILL, lambda: list(short_tmp.glob("clx-*/*/clx-kernels-*/*")))
    time.sleep(1.0)  # the orphaned workers notice their build is gone
    r = subprocess.run(clx("build", spec), env=env, capture_output=True, text=True, timeout=240)
    assert r.returncode == 0, r.stderr
    assert leftovers(short_tmp) == [], leftovers(short_tmp)
