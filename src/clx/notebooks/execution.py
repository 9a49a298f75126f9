"""Execute one notebook on a fresh kernel from the pool and say precisely what failed.

The executor is the only stateful part of the engine: it owns a ``KernelPool`` and so
keeps kernels warm between calls. It never decides what a failure means for the
build; it raises ``CellFailed`` (the author's code), ``KernelFailed`` (the kernel died
again and again) or ``KernelMissing`` (configuration), and the engine turns those
into Problems with source lines.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from queue import Empty
from typing import Any, TypeVar

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_core.utils import run_sync
from nbclient import NotebookClient
from nbclient.exceptions import (
    CellExecutionComplete,
    CellExecutionError,
    CellTimeoutError,
    DeadKernelError,
)
from nbformat import NotebookNode

from clx.notebooks.imports import forget_modules, imported_modules, shadowed
from clx.notebooks.kernels import Kernel, KernelMissing, KernelPool
from clx.problems import strip_ansi

log = logging.getLogger(__name__)

T = TypeVar("T")

_CELL_FRAME = re.compile(r"Cell In\[(\d+)\], line (\d+)")

__all__ = ["CellFailed", "Executor", "KernelFailed", "KernelMissing"]


class CellFailed(Exception):
    """A cell raised (and was not tagged ``raises-exception``) or ran out of time."""

    def __init__(
        self,
        cell_index: int,
        message: str,
        *,
        line_offset: int | None = None,
        traceback: str = "",
        timed_out: bool = False,
    ) -> None:
        super().__init__(message)
        self.cell_index = cell_index
        self.message = message
        self.line_offset = line_offset  # 1-based line inside the cell, if the kernel said
        self.traceback = traceback
        self.timed_out = timed_out


class KernelFailed(Exception):
    """The kernel died (or never became ready) on every attempt."""

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail


@dataclass
class _Tracker:
    """Which cell nbclient is at; its errors do not always say."""

    index: int = -1

    def on_cell_start(self, cell: NotebookNode, cell_index: int) -> None:
        self.index = cell_index


class _OrderTolerantClient(NotebookClient):
    """A ``NotebookClient`` that keeps outputs a kernel publishes after its ``idle`` status.

    Deno's kernel (2.x) sometimes publishes a cell's result a fraction of a millisecond
    after that cell's ``idle`` status; nbclient stops listening at ``idle`` and drops such
    a message, so a cell's output was missing now and then. This client files every
    message by its parent request: a straggler of one cell that arrives while the next
    cell runs lands under its own cell (its streams merged again as nbclient does), so
    only the last code cell needs care. After that cell's ``idle`` it sends a
    ``kernel_info`` request as a barrier and listens until the barrier's own ``idle``
    (the kernel publishes in order on one socket, so anything sent before it answered is
    in front), then for ``output_grace`` seconds of quiet. With a grace of 0 it behaves
    like nbclient.
    """

    output_grace: float = 0.0

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self._cells_by_msg: dict[str, tuple[NotebookNode, int]] = {}
        self._late: set[int] = set()

    async def _async_poll_output_msg(
        self, parent_msg_id: str, cell: NotebookNode, cell_index: int
    ) -> None:
        assert self.kc is not None
        self._cells_by_msg[parent_msg_id] = (cell, cell_index)
        last = cell_index == self._last_executed()
        barrier: str | None = None  # the kernel_info request sent after the last idle
        quiet: float | None = None  # how long to wait for the next message; None: forever
        while True:
            try:
                msg = await self.kc.iopub_channel.get_msg(timeout=quiet)
            except Empty:
                break  # quiet for the whole grace after the barrier
            parent = msg["parent_header"].get("msg_id")
            if barrier is not None and parent == barrier:
                if _is_idle(msg):
                    quiet = self.output_grace
                continue
            origin = self._cells_by_msg.get(parent)
            if origin is None:
                continue
            if origin[1] != cell_index:
                self._late.add(origin[1])
            try:
                self.process_message(msg, *origin)
            except CellExecutionComplete:
                if origin[1] != cell_index:
                    continue
                if not last or self.output_grace <= 0:
                    break
                barrier = self.kc.kernel_info()
        for index in sorted(self._late):
            _merge_streams(self.nb.cells[index])
        self._late.clear()


    def _last_executed(self) -> int:
        """The index of the last cell nbclient sends to the kernel (it skips code cells
        without code and those tagged ``skip_cells_with_tag``): the barrier goes there."""
        runs = [i for i, c in enumerate(self.nb.cells) if c.cell_type == "code"
                and c.source.strip()
                and self.skip_cells_with_tag not in c.get("metadata", {}).get("tags", [])]
        return runs[-1] if runs else -1


def _is_idle(msg: dict) -> bool:
    return msg["msg_type"] == "status" and msg["content"].get("execution_state") == "idle"


def _merge_streams(cell: NotebookNode) -> None:
    """One output per stream name, in first-seen order (nbclient's ``coalesce_streams``)."""
    merged: list[NotebookNode] = []
    streams: dict[str, NotebookNode] = {}
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            if output["name"] in streams:
                streams[output["name"]]["text"] += output["text"]
                continue
            streams[output["name"]] = output
        merged.append(output)
    cell.outputs = merged


class Executor:
    """Runs notebooks; one per worker process (or per test session)."""

    def __init__(
        self, pool: KernelPool | None = None, *, root: Path | None = None, spares: int = 1
    ) -> None:
        self.pool = pool if pool is not None else KernelPool(root, spares=spares)
        self.executions = 0  # all attempts of all calls
        self._calls = threading.local()

    @property
    def last_modules(self) -> list[str]:
        """Third-party modules the calling thread's last successful ``execute`` imported
        (forked python3 kernels only; see ``clx.notebooks.imports``)."""
        return list(getattr(self._calls, "modules", ()))

    @property
    def last_attempts(self) -> int:
        """Kernel executions the calling thread's last ``execute`` started (retries count)."""
        return getattr(self._calls, "attempts", 0)

    def warm(
        self, kernel_name: str, interpreter: str | None = None, preload: Sequence[str] = ()
    ) -> None:
        """Pre-start a spare kernel; raises ``KernelMissing`` if there is no such kernel
        (``interpreter``: the Python that python3 kernels run in, None: ours; ``preload``:
        see ``KernelPool.warm``)."""
        self.pool.warm(kernel_name, interpreter, preload)

    def execute(
        self,
        nb: NotebookNode,
        *,
        kernel_name: str,
        files: Mapping[str, bytes],
        notebook_dir: str = "",
        cell_timeout: float = 120.0,
        retries: int = 1,
        output_grace: float = 0.0,
        allow_errors: bool = False,
        interpreter: str | None = None,
        preload: Sequence[str] = (),
    ) -> NotebookNode:
        """An executed copy of ``nb`` (``nb`` itself is left unchanged).

        ``interpreter``: the Python that a python3 kernel runs in (None: ours).
        ``preload``: third-party modules the kernel should already hold (a hint: the
        notebook still imports what it needs; see ``KernelPool.take``).

        ``allow_errors``: failing cells keep their error output and execution goes on
        (the caller decides what they mean); time-outs and dead kernels still raise.

        A dead kernel is replaced by a fresh one up to ``retries`` times.
        ``output_grace``: see ``_OrderTolerantClient`` (for kernels that publish late).
        """
        failures: list[str] = []
        detail = ""
        self._calls.modules = []
        for attempt in range(max(retries, 0) + 1):
            self._calls.attempts = attempt
            kernel = self.pool.take(kernel_name, interpreter, preload)
            self._calls.attempts = attempt + 1
            self.executions += 1
            try:
                done = _off_the_main_thread(
                    self._run,
                    kernel,
                    nb,
                    files,
                    notebook_dir,
                    cell_timeout,
                    output_grace,
                    allow_errors,
                )
                self._calls.modules = kernel.imported
                return done
            except _KernelDied as died:
                log.warning("kernel %s died (attempt %d): %s", kernel_name, attempt + 1, died)
                failures.append(str(died))
                detail = kernel.stderr_tail()
            finally:
                self.pool.discard(kernel)
        # The reason's first line; the kernel's stderr (where it says why) is the detail.
        reason = failures[-1].splitlines()[0] if failures[-1] else "no reason given"
        raise KernelFailed(
            f"kernel '{kernel_name}' died {len(failures)} time(s): {reason}",
            detail=strip_ansi(detail),
        )

    def close(self) -> None:
        self.pool.close()

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals ------------------------------------------------------------------------

    def _run(
        self,
        kernel: Kernel,
        nb: NotebookNode,
        files: Mapping[str, bytes],
        notebook_dir: str,
        cell_timeout: float,
        output_grace: float = 0.0,
        allow_errors: bool = False,
    ) -> NotebookNode:
        kernel.place_files(files, notebook_dir)
        work = copy.deepcopy(nb)
        tracker = _Tracker()
        try:
            kernel.wait_ready(self.pool.startup_timeout)
        except (RuntimeError, TimeoutError) as exc:
            raise _KernelDied(str(exc)) from None
        kc = AsyncKernelClient(
            **kernel.manager.get_connection_info(session=True),
            connection_file=kernel.manager.connection_file,
            parent=kernel.manager,
            context=self.pool.async_context,
        )
        kc.start_channels()
        try:
            run_sync(_handshake)(kc, self.pool.startup_timeout)
        except (RuntimeError, TimeoutError) as exc:
            kc.stop_channels()
            raise _KernelDied(str(exc)) from None
        kc.allow_stdin = False
        self._unshadow(kc, kernel, files, notebook_dir)
        client = _OrderTolerantClient(
            work,
            km=kernel.manager,
            timeout=cell_timeout,
            startup_timeout=self.pool.startup_timeout,
            record_timing=False,
            allow_errors=allow_errors,
            kernel_name=kernel.name,
            on_cell_start=tracker.on_cell_start,
        )
        client.output_grace = output_grace
        client.kc = kc  # connected and proven ready (see _handshake)
        try:
            client.execute()
            kernel.imported = self._imports_of(kc, kernel)
        except CellTimeoutError as exc:
            raise CellFailed(
                tracker.index,
                f"cell did not finish within {cell_timeout:g} s (cell time limit)",
                traceback=strip_ansi(str(exc)),
                timed_out=True,
            ) from None
        except CellExecutionError as exc:
            trace = strip_ansi(exc.traceback or "")
            raise CellFailed(
                tracker.index,
                f"{exc.ename}: {strip_ansi(exc.evalue)}",
                line_offset=cell_line_offset(trace),
                traceback=trace,
            ) from None
        except DeadKernelError as exc:
            raise _KernelDied(f"{exc}") from None
        except (RuntimeError, TimeoutError) as exc:
            # Start-up failures: "Kernel died before replying to kernel_info", no reply in time.
            raise _KernelDied(f"{type(exc).__name__}: {exc}") from None
        finally:
            kc.stop_channels()
        return work

    def _imports_of(self, kc: AsyncKernelClient, kernel: Kernel) -> list[str]:
        """What the notebook imported, for the next build's preload (forked kernels only:
        nothing else could preload it)."""
        if kernel.preloaded is None:
            return []
        return run_sync(imported_modules)(
            kc, private=kernel.folder, baseline=kernel.baseline, present=kernel.preloaded
        )

    def _unshadow(
        self, kc: AsyncKernelClient, kernel: Kernel, files: Mapping[str, bytes], notebook_dir: str
    ) -> None:
        """A module beside the notebook wins over a preloaded one of the same name, as it
        would without the preload (``clx.notebooks.imports.shadowed``)."""
        if not kernel.preloaded:
            return
        names = shadowed(files, notebook_dir, kernel.preloaded, kernel.baseline)
        if names:
            run_sync(forget_modules)(kc, names)


class _KernelDied(Exception):
    pass


def _off_the_main_thread(fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)``, on a short-lived thread if called from the main thread.

    For every execution nbclient adds SIGINT and SIGTERM handlers to its event loop and,
    removing them afterwards, resets both signals to their defaults. A worker's own
    handlers (a graceful stop that hands unfinished jobs back) were gone after its first
    notebook, and the next SIGTERM killed it outright. Off the main thread nbclient
    cannot add them and leaves the process's handlers alone.
    """
    if threading.current_thread() is not threading.main_thread():
        return fn(*args)
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append((True, fn(*args)))
        except BaseException as exc:  # handed to the caller below
            outcome.append((False, exc))
        finally:
            with contextlib.suppress(RuntimeError):  # the loop nbclient made for this thread
                asyncio.get_event_loop_policy().get_event_loop().close()

    thread = threading.Thread(target=run, name="clx-execute", daemon=True)
    thread.start()
    thread.join()
    ok, value = outcome[0]
    if not ok:
        raise value
    return value


async def _handshake(kc: AsyncKernelClient, timeout: float) -> None:
    """Prove shell and IOPub work without ``wait_for_ready``'s fixed 0.2 s of silence.

    The helper thread of the pool already saw this kernel answer, so one kernel_info
    request is enough: its reply shows the shell works, and the ``idle`` status the
    kernel publishes for it shows our IOPub subscription is live (so no output of the
    first cell can be lost). A request whose status we missed is simply repeated.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        msg_id = kc.kernel_info()
        if await _reply(kc.get_shell_msg, msg_id, "kernel_info_reply", deadline) is None:
            continue
        if await _reply(kc.get_iopub_msg, msg_id, "status", min(deadline, time.monotonic() + 1)):
            return
    raise TimeoutError(f"kernel did not answer within {timeout:g} s")


async def _reply(get, msg_id: str, msg_type: str, deadline: float) -> dict | None:
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        try:
            msg = await get(timeout=left)
        except Empty:
            return None
        if msg["parent_header"].get("msg_id") != msg_id or msg["msg_type"] != msg_type:
            continue
        if msg_type != "status" or msg["content"].get("execution_state") == "idle":
            return msg


def cell_line_offset(traceback: str) -> int | None:
    """Line inside the failing cell, from IPython's ``Cell In[n], line k`` frames.

    The failing cell has the highest execution count among the frames; its first
    frame is the statement in the cell itself (deeper frames are in functions).
    """
    frames = [(int(n), int(line)) for n, line in _CELL_FRAME.findall(traceback)]
    if not frames:
        return None
    top = max(n for n, _ in frames)
    return next(line for n, line in frames if n == top)
