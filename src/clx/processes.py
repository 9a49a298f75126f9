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
import threading
import time
from collections.abc import Iterator, Sequence

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
    _kill(_wait_gone(procs, timeout))


def kill_tree_now(pid: int, *, include_root: bool = True) -> None:
    """SIGKILL a tree at once (for kernels whose state is thrown away anyway)."""
    _kill(_tree(pid, include_root))


# Environment variable that tags every process below one kernel (set when the kernel
# starts, inherited by whatever its code starts): a child that left the kernel's tree
# (``cmd &`` whose shell exited, ``setsid``) is still found by it and killed with it.
MARK = "CLX_PROCESS_MARK"


def kill_marked(mark: str, *, passes: int = 5) -> int:
    """SIGKILL every process whose environment carries ``MARK=mark``; returns how many.

    Reads every process's environment from /proc (about 2 ms for 200 processes; through
    psutil it took 50 times longer); processes we may not inspect are left alone.
    A marked process may fork between the scan and the kill, so the scan is repeated
    until one finds nothing (at most ``passes`` times). Elsewhere than Linux it finds
    nothing.
    """
    needle = f"\0{MARK}={mark}\0".encode()
    killed = 0
    for _ in range(passes):
        found = _marked(needle)
        if not found:
            break
        _kill(found)
        killed += len(found)
    return killed


def _marked(needle: bytes) -> list[psutil.Process]:
    me = os.getpid()
    found = []
    try:
        pids = [int(d) for d in os.listdir("/proc") if d.isdigit()]
    except OSError:
        return []
    for pid in pids:
        if pid == me:
            continue
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                if needle not in b"\0" + f.read() + b"\0":
                    continue
            p = psutil.Process(pid)
            if p.status() != psutil.STATUS_ZOMBIE:
                found.append(p)
        except (OSError, psutil.Error):
            continue
    return found


def kill_processes(procs: Sequence[psutil.Process]) -> None:
    """SIGKILL processes seen earlier (say, a dead worker's tree) that still run, and wait
    until they are gone; a pid reused by an unrelated process meanwhile is left alone."""
    survivors = []
    for p in procs:
        with contextlib.suppress(psutil.Error):
            if p.is_running():
                survivors.append(p)
    _kill(survivors)


def _kill(procs: list[psutil.Process]) -> None:
    for p in procs:
        with contextlib.suppress(psutil.Error):
            p.kill()
    _wait_gone(procs, 2.0)


def _wait_gone(procs: list[psutil.Process], timeout: float) -> list[psutil.Process]:
    """Wait up to ``timeout`` until every process has exited; returns those still alive.

    Our own children are reaped. A zombie that is not our child counts as gone: it has
    exited and waits for a parent to reap it, which may itself have died in the same
    stop (its orphans then wait for init, which can take seconds in a container).
    Waiting for it made every pool stop sit out the whole timeout.
    """
    deadline = time.monotonic() + timeout
    alive = list(procs)
    while alive:
        _, alive = psutil.wait_procs(alive, timeout=min(0.05, max(deadline - time.monotonic(), 0)))
        alive = [p for p in alive if not _zombie(p)]
        if time.monotonic() >= deadline:
            break
    return alive


def _zombie(p: psutil.Process) -> bool:
    try:
        return p.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True
    except psutil.Error:
        return False


def popen(args: Sequence[str], **kwargs) -> subprocess.Popen:
    """Start a child in its own session so that a terminal Ctrl-C reaches only us.

    The parent then decides how and when its children stop.
    """
    kwargs.setdefault("start_new_session", True)
    return subprocess.Popen(list(args), **kwargs)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where a Ctrl-C would be, so that a stop runs the same clean-up."""


@contextlib.contextmanager
def terminate_like_interrupt() -> Iterator[None]:
    """While inside, SIGTERM stops this process the way Ctrl-C does (main thread only).

    Only the first one raises: a second SIGTERM during the clean-up is ignored, so the
    clean-up (workers stopped, session closed) is not cut short.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(_signum: int, _frame: object) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


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
