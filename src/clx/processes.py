"""The one place for child-process lifecycle: start in its own group, kill whole trees.

Kernels, the PlantUML JVM, Chromium and worker processes all end up here so that a
stop or a crash never leaves orphans behind.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Sequence

import psutil

log = logging.getLogger(__name__)


def descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []


def _tree(pid: int, include_root: bool) -> list[psutil.Process]:
    procs = descendants(pid)
    if include_root:
        with contextlib.suppress(psutil.Error):
            procs.insert(0, psutil.Process(pid))
    return procs


def kill_tree(pid: int, *, include_root: bool = True, timeout: float = 3.0) -> None:
    """Terminate a process and all its descendants; SIGKILL what does not exit in time."""
    procs = _tree(pid, include_root)
    for p in procs:
        with contextlib.suppress(psutil.Error):
            p.terminate()
    _, alive = psutil.wait_procs(procs, timeout=timeout)
    _kill(alive)


def kill_tree_now(pid: int, *, include_root: bool = True) -> None:
    """SIGKILL a tree at once (for kernels whose state is thrown away anyway)."""
    _kill(_tree(pid, include_root))


def _kill(procs: list[psutil.Process]) -> None:
    for p in procs:
        with contextlib.suppress(psutil.Error):
            p.kill()
    psutil.wait_procs(procs, timeout=2.0)


def popen(args: Sequence[str], **kwargs) -> subprocess.Popen:
    """Start a child in its own session so that a terminal Ctrl-C reaches only us.

    The parent then decides how and when its children stop.
    """
    kwargs.setdefault("start_new_session", True)
    return subprocess.Popen(list(args), **kwargs)


def die_with_parent(sig: int = signal.SIGTERM) -> None:
    """On Linux, ask the kernel to send ``sig`` to this process when its parent dies."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, int(sig))
    except OSError:  # pragma: no cover - not on glibc
        log.debug("prctl(PR_SET_PDEATHSIG) unavailable")


def parent_alive(original_ppid: int) -> bool:
    """True while the process that started us is still our parent."""
    return os.getppid() == original_ppid
