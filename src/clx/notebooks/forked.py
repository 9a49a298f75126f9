"""The worker's side of the kernel fork server (``clx.notebooks.zygote``).

``ForkingKernelManager`` is a jupyter_client ``KernelManager`` that launches python3
kernels in a given interpreter (the course's, ``clx.notebooks.environments``) by asking
that interpreter's zygote process to fork, and any other kernel the usual way. The
rest of jupyter_client sees an ordinary process through ``ForkedProcess``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import psutil
from jupyter_client.manager import KernelManager

from clx.processes import kill_tree, popen
from clx.stamped_memo import stat_stamp

log = logging.getLogger(__name__)

_LAUNCHER = ["-m", "ipykernel_launcher"]
# Run by its path: the course's interpreter has no clx to find ``-m clx.notebooks.zygote``.
ZYGOTE_SCRIPT = Path(__file__).with_name("zygote.py")


class ForkedProcess:
    """A Popen look-alike for a kernel that is the zygote's child, not ours."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                p = psutil.Process(self.pid)
                if p.status() == psutil.STATUS_ZOMBIE:
                    self.returncode = -1
            except psutil.NoSuchProcess:
                self.returncode = -1
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(str(self.pid), timeout or 0)
            time.sleep(0.02)
        assert self.returncode is not None
        return self.returncode

    def send_signal(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, sig)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


class ZygoteUnavailable(RuntimeError):
    """The fork server of an interpreter does not start; its kernels start plainly."""


class Zygote:
    """One fork server per interpreter of a kernel pool, started on first use.

    It also remembers which third-party modules its kernels should start with
    (``preload``): a zygote that had to be replaced imports them again, and a module
    that made one unfit to fork is never asked for again.
    """

    preload_timeout = 120.0  # seconds for one preload request; past it the zygote is replaced

    def __init__(self, interpreter: str = sys.executable,
                 env: dict[str, str] | None = None) -> None:
        self.interpreter = interpreter
        self._env = env  # the zygote imports what the kernels import, in their environment
        self._proc: subprocess.Popen | None = None
        self._lock = threading.Lock()
        self.baseline: frozenset[str] = frozenset()  # top-level modules before any preload
        self._wanted: dict[str, None] = {}  # preload requests in order, refused ones dropped
        self._refused: set[str] = set()
        self.loaded: frozenset[str] = frozenset()  # what the running zygote preloaded
        self.present: frozenset[str] = frozenset()  # all it holds (at most one dot)
        self.broken = ""  # why it did not start: then kernels start the usual way
        self._paths: list[str] = []  # the running zygote's sys.path folders
        self._stamp: list = []  # and their stat when it started (see ``stale``)

    def _ensure(self) -> subprocess.Popen:
        if self._proc is not None and self._proc.poll() is None:
            return self._proc
        if self.broken:
            raise ZygoteUnavailable(self.broken)
        # Its stderr goes to an unnamed file (a pipe nobody reads could fill and block it),
        # read when it does not start: that is where Python says why. The zygote keeps
        # its own descriptor of the file.
        with tempfile.TemporaryFile() as errors:
            proc = popen([self.interpreter, str(ZYGOTE_SCRIPT)], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=errors, text=True, bufsize=1,
                         env=self._env)
            assert proc.stdout is not None
            ready = proc.stdout.readline()
            if not ready.strip().startswith('{"ready"'):
                killed = (proc.poll() or 0) < 0  # by a signal: try again next time
                kill_tree(proc.pid)
                if killed:
                    raise ZygoteUnavailable(f"the kernel fork server ({self.interpreter}) was"
                                            " killed while it started")
                try:
                    why = json.loads(ready).get("error", "")
                except ValueError:
                    errors.seek(0)
                    lines = errors.read().decode("utf-8", "replace").strip().splitlines()
                    why = ready.strip() or (lines[-1] if lines else "")
                self.broken = (f"the kernel fork server ({self.interpreter}) did not start"
                               + (f": {why}" if why else ""))
                log.warning("%s; its kernels start without it", self.broken)
                raise ZygoteUnavailable(self.broken)
        answer = json.loads(ready)
        self.present = frozenset(answer.get("modules") or ())
        self._paths = [str(p) for p in answer.get("path") or ()]
        self._stamp = stat_stamp(self._paths)
        self.baseline = frozenset(n.partition(".")[0] for n in self.present)
        self._proc = proc
        self.loaded = frozenset()
        if self._wanted:
            # An unfit module makes ``_import`` replace this zygote: the caller must get
            # the one that runs now, not the one that exited (its answer would be EOF).
            self._import(proc, list(self._wanted))
        assert self._proc is not None
        return self._proc

    def spawn(self, args: list[str], cwd: str, env: dict[str, str],
              stderr: str) -> tuple[ForkedProcess, frozenset[str]]:
        """Fork a kernel; also returns the modules it starts with (at most one dot)."""
        with self._lock:
            proc = self._ensure()
            assert proc.stdin is not None and proc.stdout is not None
            request = {"args": args, "cwd": cwd, "env": env, "stderr": stderr}
            proc.stdin.write(json.dumps(request) + "\n")
            proc.stdin.flush()
            answer = json.loads(proc.stdout.readline() or '{"error": "fork server died"}')
            present = self.present
        if "pid" not in answer:
            raise RuntimeError(f"kernel fork failed: {answer.get('error')}")
        return ForkedProcess(int(answer["pid"])), present

    def preload(self, names: Sequence[str]) -> bool:
        """Have every kernel forked from now on start with ``names`` imported (modules the
        zygote does not hold yet are imported now; see ``clx.notebooks.zygote``). Returns
        whether anything new was imported. Never raises for a module: one that fails or
        is unfit is left out (logged at debug), and the notebook imports it itself."""
        with self._lock:
            new = [n for n in names if n not in self._wanted and not self._is_refused(n)]
            if not new:
                return False
            self._wanted.update(dict.fromkeys(new))
            before = self.loaded
            running = self._proc is not None and self._proc.poll() is None
            proc = self._ensure()  # a fresh zygote imports everything wanted by itself
            if running:
                self._import(proc, new)
            return bool(self.loaded - before)

    def stale(self) -> bool:
        """Whether the environment changed under the running zygote (a package installed
        or upgraded: pip changes the site-packages folder). Its kernels would start with
        the old modules in memory, while the build keys them by the new versions; the
        pool then replaces it. A few ``stat`` calls."""
        with self._lock:
            running = self._proc is not None and self._proc.poll() is None
            return running and stat_stamp(self._paths) != self._stamp

    def close(self) -> None:
        with self._lock:
            if self._proc is not None:
                kill_tree(self._proc.pid)
                self._proc = None

    # -- internals (called with the lock held) ----------------------------------------------

    def _is_refused(self, name: str) -> bool:
        return any(name == r or name.startswith(r + ".") for r in self._refused)

    def _import(self, proc: subprocess.Popen, names: list[str]) -> None:
        """One preload request; an unfit module replaces the zygote (and is dropped)."""
        while True:
            names = [n for n in names if not self._is_refused(n)]
            if not names:
                return
            answer = self._ask(proc, {"preload": names})
            if answer is None:  # hung or died while importing: no preload in this worker
                log.debug("kernel fork server did not preload %s; dropping them", names)
                self._refuse(names)
                kill_tree(proc.pid)
                self._proc = None
                proc = self._ensure()
                return
            for name, why in answer.get("failed") or ():
                log.debug("not preloading %s: %s", name, why)
            self._refuse([n for n, _ in answer.get("failed") or ()])
            self.loaded = self.loaded | frozenset(answer.get("preloaded") or ())
            self.present = self.present | frozenset(answer.get("modules") or ())
            unsafe = list(answer.get("unsafe") or ())
            if not unsafe:
                return
            log.debug("not preloading %s: it starts a thread or needs the IPython shell",
                      unsafe)
            self._refuse(unsafe)
            kill_tree(proc.pid)  # it said it is unfit and exits; a new one imports the rest
            self._proc = None
            proc = self._ensure()
            return

    def _refuse(self, names: Sequence[str]) -> None:
        self._refused.update(names)
        for name in names:
            self._wanted.pop(name, None)
        for name in [w for w in self._wanted if self._is_refused(w)]:
            del self._wanted[name]

    def _ask(self, proc: subprocess.Popen, request: dict) -> dict | None:
        assert proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.write(json.dumps(request) + "\n")
            proc.stdin.flush()
        except OSError:
            return None
        ready, _, _ = select.select([proc.stdout], [], [], self.preload_timeout)
        line = proc.stdout.readline() if ready else ""
        try:
            return json.loads(line) if line else None
        except ValueError:
            return None


class ForkingKernelManager(KernelManager):
    """Launches ``python -m ipykernel_launcher`` kernels in ``interpreter`` (default:
    ours), through ``zygote`` when it is that interpreter's."""

    zygote: Zygote | None = None
    stderr_path: str | None = None
    interpreter: str | None = None
    preloaded: frozenset[str] | None = None  # forked: the modules the kernel started with

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        # jupyter_client puts our interpreter in place of the kernelspec's "python"; a
        # course with its own environment wants its own (forked or not).
        cmd = super().format_kernel_cmd(extra_arguments)
        if self.interpreter and cmd[:1] == [sys.executable] and cmd[1:3] == _LAUNCHER:
            cmd[0] = self.interpreter
        return cmd

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
        forkable = (self.zygote is not None and self.stderr_path is not None
                    and not self.zygote.broken
                    and kernel_cmd[:1] == [self.zygote.interpreter]
                    and kernel_cmd[1:3] == _LAUNCHER)
        if not forkable:
            await super()._async_launch_kernel(kernel_cmd, **kw)
            return
        assert self.provisioner is not None and self.zygote is not None
        env = {str(k): str(v) for k, v in (kw.get("env") or os.environ).items()}
        cwd = str(kw.get("cwd") or os.getcwd())
        try:
            process, self.preloaded = self.zygote.spawn(
                kernel_cmd[3:], cwd, env, self.stderr_path or os.devnull
            )
        except ZygoteUnavailable:
            # An ipykernel the fork server cannot preload (another version's modules):
            # the kernels still start, the usual way, only slower.
            await super()._async_launch_kernel(kernel_cmd, **kw)
            return
        provisioner: Any = self.provisioner
        provisioner.process = process
        provisioner.pid = process.pid
        provisioner.pgid = None
        provisioner.cwd = cwd
        self._reconcile_connection_info(provisioner.connection_info)
