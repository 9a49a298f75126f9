"""Kernel lifecycle: the one module that starts, hands out and kills Jupyter kernels.

Starting a python3 kernel costs about 0.5 s, most of it the kernel importing itself.
The pool therefore keeps a *spare* kernel per kernelspec (and, for python3, per
interpreter: a course may have its own, ``clx.notebooks.environments``) that boots while
the current notebook runs. Each kernel serves exactly one execution and is then
killed with its whole process tree, so notebooks never see each other's state.

Details that matter:

* the transport each kernel can parse: ``ipc`` with an absolute, unique address for
  ipykernel (the relative default breaks as soon as the kernel's cwd differs from
  ours; ipc also avoids ipykernel's warning about unencrypted TCP), ``tcp`` on
  127.0.0.1 for every other kernel (Deno's kernel rejects an ipc address as an
  invalid host and exits);
* every kernel starts in its own fresh, empty directory, which the job fills with the
  topic's files when it claims the kernel; for a notebook in a sub-folder of its topic
  the directory is moved into place (a process keeps its cwd across a rename), so
  relative paths work from the notebook's own folder in every kernel language;
* one shared ZeroMQ context instead of one per kernel manager (each would keep its
  own I/O thread alive);
* the kernel's stderr goes to a file in its private folder, so a kernel that dies
  while starting is reported with the last lines it wrote there, instead of writing
  into the worker's console;
* a helper thread connects a client and waits until the kernel answers a
  ``kernel_info`` request, so the boot is off the job's path. It does not use
  ``wait_for_ready``, whose IOPub checks add at least 0.2 s of waiting for silence:
  IOPub matters only to the execution's own client, which proves it separately.
"""

from __future__ import annotations

import contextlib
import logging
import os
import posixpath
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty
from typing import IO, Any

import zmq
import zmq.asyncio
from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
from jupyter_client.manager import KernelManager
from jupyter_client.session import Session

from clx.notebooks.environments import has_ipykernel, install_ipykernel_hint, is_own, kernel_env
from clx.notebooks.forked import ForkingKernelManager, Zygote
from clx.problems import ConfigurationError, strip_ansi
from clx.processes import MARK, kill_marked, kill_tree_now

log = logging.getLogger(__name__)

# How to get each kernelspec of docs/course-reference.md#programming-languages
# (clx installs only python3).
INSTALL_HINTS: dict[str, str] = {
    "python3": "run scripts/setup.sh, or: pip install ipykernel"
    " && python -m ipykernel install --sys-prefix",
    "xcpp17": "install xeus-cling, e.g. conda install -c conda-forge xeus-cling",
    ".net-csharp": "install .NET Interactive: dotnet tool install -g Microsoft.dotnet-interactive"
    " && dotnet interactive jupyter install",
    "java": "run scripts/setup.sh, or: pip install jjava (it needs a JDK with jshell, e.g."
    " apt-get install openjdk-17-jdk-headless)",
    "deno": "run clx setup (it installs Deno from npm and its kernelspec)",
    "rust": "install evcxr: cargo install evcxr_jupyter && evcxr_jupyter --install",
}

_KERNEL_ENV = {
    # Silences debugpy's "frozen modules" warning on every start.
    "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    "JUPYTER_PLATFORM_DIRS": "1",
}


class KernelMissing(ConfigurationError):
    """The kernelspec a notebook needs is not installed."""

    def __init__(self, name: str, message: str | None = None) -> None:
        hint = INSTALL_HINTS.get(name, "install a Jupyter kernel with this kernelspec name")
        super().__init__(message or f"Jupyter kernel '{name}' is not installed; {hint}")
        self.kernel_name = name


class NoIpykernel(KernelMissing):
    """The interpreter a course's Python notebooks run in cannot import ipykernel."""

    def __init__(self, name: str, interpreter: str) -> None:
        super().__init__(
            name,
            f"the Python environment {interpreter} has no ipykernel to run notebooks;"
            f" install it with: {install_ipykernel_hint(interpreter)}",
        )
        self.interpreter = interpreter


def _await_kernel_info(client: Any, manager: KernelManager, timeout: float) -> None:
    """Ask until the kernel answers ``kernel_info`` on the shell channel; fail early if
    its process died, late if ``timeout`` passed."""
    deadline = time.monotonic() + timeout
    while True:
        msg_id = client.kernel_info()
        try:
            while True:  # until our reply, or a second without any message
                msg = client.get_shell_msg(timeout=1.0)
                if msg["parent_header"].get("msg_id") == msg_id:
                    return
        except Empty:
            pass
        if not manager.is_alive():
            raise RuntimeError("Kernel died before replying to kernel_info")
        if time.monotonic() > deadline:
            raise RuntimeError(f"Kernel didn't respond in {timeout:g} seconds")


@dataclass
class Kernel:
    """A started kernel reserved for one execution."""

    name: str
    manager: KernelManager
    folder: Path  # private: ipc sockets, connection file, stderr log, the cwd
    cwd: Path  # the kernel's working directory (empty until ``place_files``)
    # Forked from a zygote: the modules it started with (at most one dot) and the
    # top-level ones its zygote held before any preload; None: not forked.
    preloaded: frozenset[str] | None = None
    baseline: frozenset[str] = frozenset()
    imported: list[str] = field(default_factory=list)  # third-party, after its execution
    _stderr: IO[bytes] | None = None
    _ready: threading.Event | None = None
    _ready_error: BaseException | None = None

    def wait_ready(self, timeout: float) -> None:
        """Block until the helper thread saw the kernel answer; raise if it never did.

        The error ends with the last lines the kernel wrote to stderr: that is where a
        kernel says why it could not start (a bad address, a missing JDK, ...).
        """
        if self._ready is not None and not self._ready.wait(timeout):
            raise TimeoutError(
                _with_stderr(f"kernel {self.name} not ready after {timeout:g} s", self)
            )
        if self._ready_error is not None:
            raise RuntimeError(
                _with_stderr(f"kernel {self.name} did not start: {self._ready_error}", self)
            )

    def _await_boot(self, timeout: float) -> None:
        # A blocking client only for this check: nbclient needs an asyncio client, and
        # asyncio sockets must be made on the loop of the thread that uses them. It has
        # a session of its own: the shell socket's identity is the session id, and jjava
        # never answers a second client that reconnects with an identity already seen.
        own = self.manager.session
        session = Session(key=own.key, signature_scheme=own.signature_scheme)
        client = self.manager.client(session=session)
        try:
            client.start_channels()
            _await_kernel_info(client, self.manager, timeout)
        except BaseException as exc:  # reported to the job that takes this kernel
            self._ready_error = exc
        finally:
            client.stop_channels()
            assert self._ready is not None
            self._ready.set()

    @property
    def pid(self) -> int | None:
        provisioner = self.manager.provisioner
        return getattr(provisioner, "pid", None) if provisioner is not None else None

    def place_files(self, files: Mapping[str, bytes], notebook_dir: str = "") -> None:
        """Fill the still-empty cwd with the topic's files.

        ``files`` are relative to the topic root; the kernel's cwd must be the
        notebook's folder, so for ``notebook_dir="a/b"`` the cwd is moved to
        ``<topic root>/a/b`` first.
        """
        topic_root = self.cwd
        parts = [p for p in notebook_dir.split("/") if p]
        if parts:
            topic_root = self.folder / "topic"
            target = topic_root.joinpath(*parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.rename(self.cwd, target)
            self.cwd = target
        for rel, data in files.items():
            clean = posixpath.normpath(rel)
            if clean.startswith(("../", "/")) or clean == "..":
                raise ValueError(f"topic file outside the topic: {rel}")
            path = topic_root / clean
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)

    def stderr_tail(self, limit: int = 2000, lines: int = 20) -> str:
        """The end of the kernel's stderr: at most ``lines`` lines and ``limit`` characters,
        colour codes removed."""
        with contextlib.suppress(OSError):
            text = (self.folder / "stderr.log").read_text(encoding="utf-8", errors="replace")
            tail = "\n".join(strip_ansi(text[-limit:]).rstrip().splitlines()[-lines:])
            return tail
        return ""


def _with_stderr(message: str, kernel: Kernel) -> str:
    tail = kernel.stderr_tail(lines=8)
    return f"{message}; its stderr ended with:\n{tail}" if tail else message


def _preload_quietly(zygote: Zygote, preload: Sequence[str]) -> None:
    try:
        zygote.preload(preload)
    except Exception as exc:  # the kernels simply start without them
        log.debug("preloading %s failed: %s", list(preload), exc)


def _lacks(kernel: Kernel, zygote: Zygote, preload: Sequence[str]) -> bool:
    """Was ``kernel`` forked before ``zygote`` held some of ``preload``?"""
    if kernel.preloaded is None:
        return False
    present = zygote.present
    return any(m in present and m not in kernel.preloaded for m in preload)


def speaks_ipc(argv: list[str]) -> bool:
    """Whether a kernel command is ipykernel, the one kernel known to accept ``ipc``."""
    return any(part in ("ipykernel_launcher", "ipykernel") for part in argv[:4])


class KernelPool:
    """Spare kernels per kernelspec and interpreter; ``take`` hands one out and starts
    its successor.

    ``interpreter`` (of ``warm`` and ``take``) is the Python that python3 kernels run in
    (None: ours); other kernels ignore it. Thread-safe, so that one process may run
    several executions at once.
    """

    def __init__(
        self, root: Path | None = None, spares: int = 1, startup_timeout: float = 60.0
    ) -> None:
        self.startup_timeout = startup_timeout
        self._root = Path(root) if root is not None else None
        self._owns_root = root is None
        self.spares = spares
        # (kernelspec, interpreter or "") -> booting or ready kernels
        self._spares: dict[tuple[str, str], deque[Kernel]] = defaultdict(deque)
        self._known: dict[str, bool] = {}  # installed kernelspec -> speaks ipc (ipykernel)
        self._usable: dict[str, bool] = {}  # interpreter -> has ipykernel
        self._lock = threading.Lock()
        self._specs = KernelSpecManager()
        self._context = zmq.Context()
        self.async_context = zmq.asyncio.Context()  # for the clients that execute
        self._closed = False
        self.started = 0  # kernels started (for tests and benchmarks)
        # python3 kernels are forked from a process that already imported ipykernel
        # (see clx.notebooks.zygote), one per interpreter; CLX_KERNEL_FORK=0 starts each
        # one from scratch.
        self._forking = os.environ.get("CLX_KERNEL_FORK", "1") != "0"
        self._zygotes: dict[str, Zygote] = {}

    # -- public ------------------------------------------------------------------------

    def ensure_installed(self, name: str, interpreter: str | None = None) -> None:
        """Raise ``KernelMissing`` unless kernel ``name`` can start (for python3: in
        ``interpreter``, which must have ipykernel: ``NoIpykernel``)."""
        with self._lock:
            known = name in self._known
        if not known:
            try:
                spec = self._specs.get_kernel_spec(name)
            except NoSuchKernel:
                raise KernelMissing(name) from None
            with self._lock:
                self._known[name] = speaks_ipc(list(spec.argv))
        python = self._interpreter(name, interpreter)
        if python:
            with self._lock:
                usable = self._usable.get(python)
            if usable is None:
                usable = has_ipykernel(python)
                if usable:  # a "no" is asked again: it may be installed meanwhile
                    with self._lock:
                        self._usable[python] = usable
            if not usable:
                raise NoIpykernel(name, python)

    def warm(
        self, name: str, interpreter: str | None = None, preload: Sequence[str] = ()
    ) -> None:
        """Make sure spares for ``name`` are booting (raises KernelMissing).

        ``preload``: modules the fork server imports first (python3 only). That runs on a
        thread of its own, so a worker is ready at once; its first Python kernel waits
        for the fork server, the other kernels do not."""
        self.ensure_installed(name, interpreter)
        key = (name, self._interpreter(name, interpreter))
        with self._lock:
            ipykernel = self._known.get(name, False)
        zygote = self._zygote(key[1]) if preload and ipykernel else None
        if zygote is None:
            self._refill(key)
            return

        def preload_then_refill() -> None:
            _preload_quietly(zygote, preload)
            try:
                self._refill(key)
            except Exception as exc:  # the job that takes a kernel reports it
                log.debug("warming %s failed: %s", key, exc)

        threading.Thread(target=preload_then_refill, name="clx-preload", daemon=True).start()

    def take(
        self, name: str, interpreter: str | None = None, preload: Sequence[str] = ()
    ) -> Kernel:
        """A started kernel for one execution; the caller must ``discard`` it.

        ``preload``: third-party modules the kernel should start with (forked python3
        kernels only; see ``Zygote.preload``). A spare forked before its zygote held
        them is replaced, so a worker's first notebook already gains.
        """
        self.ensure_installed(name, interpreter)
        key = (name, self._interpreter(name, interpreter))
        with self._lock:
            ipykernel = self._known.get(name, False)
        if ipykernel:
            self._replace_if_stale(key)
        zygote = self._zygote(key[1]) if preload and ipykernel else None
        if zygote is not None:
            _preload_quietly(zygote, preload)
        with self._lock:
            queue = self._spares[key]
            kernel = queue.popleft() if queue else None
        if kernel is not None and zygote is not None and _lacks(kernel, zygote, preload):
            self.discard(kernel)
            kernel = None
        if kernel is None:
            kernel = self._start(*key)
        self._refill(key)
        return kernel

    def discard(self, kernel: Kernel) -> None:
        """Kill the kernel's whole process tree and remove its folder."""
        if kernel._ready is not None:
            kernel._ready.wait(self.startup_timeout)
        pid = kernel.pid
        if pid is not None:
            kill_tree_now(pid)
        kill_marked(kernel.folder.name)  # what its code started and left the tree
        provisioner = kernel.manager.provisioner
        process = getattr(provisioner, "process", None)
        if isinstance(process, subprocess.Popen):
            with contextlib.suppress(Exception):
                process.wait(timeout=2)
        with contextlib.suppress(Exception):
            kernel.manager.cleanup_resources()
        if kernel._stderr is not None:
            kernel._stderr.close()
        shutil.rmtree(kernel.folder, ignore_errors=True)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            spares = [k for q in self._spares.values() for k in q]
            self._spares.clear()
        for kernel in spares:
            self.discard(kernel)
        if self._owns_root and self._root is not None:
            shutil.rmtree(self._root, ignore_errors=True)
            self._root = None
        with self._lock:
            zygotes = list(self._zygotes.values())
            self._zygotes.clear()
        for zygote in zygotes:
            zygote.close()
        for context in (self._context, self.async_context):
            if not context.closed:
                context.destroy(linger=0)

    def __enter__(self) -> KernelPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals -----------------------------------------------------------------------

    def _base(self) -> Path:
        with self._lock:
            if self._root is None:
                self._root = Path(tempfile.mkdtemp(prefix="clx-kernels-"))
            return self._root

    def _interpreter(self, name: str, interpreter: str | None) -> str:
        """The interpreter that matters for kernel ``name``: "" for clx's own and for
        kernels that are not ipykernel."""
        with self._lock:
            python = self._known.get(name, False)
        return "" if not python or is_own(interpreter) else str(interpreter)

    def _replace_if_stale(self, key: tuple[str, str]) -> None:
        """A long-lived worker (watch mode, `clx worker`) outlives package installs: once
        the environment changed under a zygote, it and the spares it forked go, and the
        next kernel comes from a zygote that imports the new versions."""
        with self._lock:
            zygote = self._zygotes.get(key[1] or sys.executable)
        if zygote is None or not zygote.stale():
            return
        log.info("the environment of %s changed: restarting its kernel fork server",
                 zygote.interpreter)
        zygote.close()
        with self._lock:
            spares = list(self._spares[key])
            self._spares[key].clear()
        for kernel in spares:
            self.discard(kernel)

    def _zygote(self, interpreter: str) -> Zygote | None:
        if not self._forking:
            return None
        python = interpreter or sys.executable
        with self._lock:
            if python not in self._zygotes:
                env = {**kernel_env(python), **_KERNEL_ENV}
                self._zygotes[python] = Zygote(python, env)
            return self._zygotes[python]

    def _refill(self, key: tuple[str, str]) -> None:
        while True:
            with self._lock:
                if self._closed or len(self._spares[key]) >= self.spares:
                    return
            kernel = self._start(*key)
            with self._lock:
                if not self._closed:
                    self._spares[key].append(kernel)
                    continue
            self.discard(kernel)
            return

    def _start(self, name: str, interpreter: str = "") -> Kernel:
        # Short names: unix socket paths are limited to about 100 bytes.
        folder = self._base() / uuid.uuid4().hex[:12]
        cwd = folder / "cwd"
        cwd.mkdir(parents=True)
        with self._lock:
            ipc = self._known.get(name, False)
        address = (
            {"transport": "ipc", "ip": str(folder / "ipc")}
            if ipc
            else {"transport": "tcp", "ip": "127.0.0.1"}
        )
        manager = ForkingKernelManager(
            kernel_name=name,
            context=self._context,
            connection_file=str(folder / "connection.json"),
            **address,
        )
        manager.interpreter = interpreter or None
        manager.zygote = self._zygote(interpreter) if manager.ipykernel else None
        manager.stderr_path = str(folder / "stderr.log")
        extra = ["--HistoryManager.hist_file=:memory:"] if manager.ipykernel else []
        stderr = (folder / "stderr.log").open("wb")
        try:
            manager.start_kernel(
                cwd=str(cwd),
                extra_arguments=extra,
                env={**kernel_env(interpreter or None), **_KERNEL_ENV, MARK: folder.name},
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
        except NoSuchKernel:
            stderr.close()
            shutil.rmtree(folder, ignore_errors=True)
            raise KernelMissing(name) from None
        except Exception:
            stderr.close()
            shutil.rmtree(folder, ignore_errors=True)
            raise
        with self._lock:
            self.started += 1
        log.debug("started kernel %s pid %s in %s", name, manager.provisioner.pid, folder)
        kernel = Kernel(
            name=name,
            manager=manager,
            folder=folder,
            cwd=cwd,
            _stderr=stderr,
            preloaded=manager.preloaded,
            baseline=manager.zygote.baseline if manager.zygote is not None else frozenset(),
        )
        kernel._ready = threading.Event()
        threading.Thread(
            target=kernel._await_boot,
            args=(self.startup_timeout,),
            name=f"clx-kernel-ready-{folder.name}",
            daemon=True,
        ).start()
        return kernel
