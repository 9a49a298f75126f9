"""A fork server for python3 kernels: pay the kernel's imports once, not per notebook.

Starting ``python -m ipykernel_launcher`` spends most of its ~0.6 s of CPU importing
IPython, ipykernel, zmq and tornado. The zygote imports them once and forks a child
per kernel, so each execution still gets a fresh, isolated process, at a fraction of
the cost. Nothing that owns threads, sockets or an event loop exists before the fork:
the kernel creates all of that itself in the child.

It runs in the interpreter of the course's own environment
(``clx.notebooks.environments``), which has ipykernel but not clx: ``forked.Zygote``
starts this file by its path, and nothing here or in the kernels imports clx. Its own
folder is taken off ``sys.path`` first, so clx's modules beside it shadow nothing.

Protocol on stdin/stdout, one JSON object per line: first ``{"ready": true}`` (or
``{"error": "..."}`` when the kernel's modules cannot be imported), then per
request ``{"args": [...], "cwd": ..., "env": {...}, "stderr": path}``
the answer ``{"pid": N}`` or ``{"error": "..."}``; per request
``{"preload": ["pandas", "matplotlib.pyplot", ...]}`` the answer
``{"preloaded": [...], "failed": [...], "unsafe": [...], "modules": [...]}`` (see
``_preload_modules``). The ready line also lists the modules held before any preload.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import threading
from collections.abc import Iterator

_HERE = os.path.dirname(os.path.abspath(__file__))
if sys.path and os.path.abspath(sys.path[0] or ".") == _HERE:
    del sys.path[0]


def _die_with_parent(sig: int) -> None:
    """On Linux, ask the kernel to send ``sig`` to this process when its parent dies
    (``clx.processes.die_with_parent``, which this interpreter cannot import)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, int(sig))  # PR_SET_PDEATHSIG
    except OSError:
        pass


def _preload() -> None:
    # ipykernel and IPython, and what every kernel imported after the fork anyway (a
    # kernel's CPU went from 0.3 s to 0.12 s): above all the debugger support (debugpy
    # and pydevd; importing them starts no thread), then the history database, pdb,
    # IPython's helpers and tornado's asyncio platform. The zygote runs in the kernels'
    # environment (kernels._KERNEL_ENV), which also keeps pydevd quiet about frozen modules.
    import faulthandler  # noqa: F401
    import pdb  # noqa: F401
    import sqlite3  # noqa: F401

    import ipykernel.debugger  # noqa: F401
    import ipykernel.ipkernel  # noqa: F401
    import ipykernel.kernelapp  # noqa: F401
    import IPython.core.completerlib  # noqa: F401
    import IPython.core.debugger  # noqa: F401
    import IPython.core.interactiveshell  # noqa: F401
    import IPython.core.logger  # noqa: F401
    import IPython.core.oinspect  # noqa: F401
    import IPython.extensions.storemagic  # noqa: F401
    import tornado.platform.asyncio  # noqa: F401


# What ipykernel and its shell put into ``os.environ`` before a kernel runs any cell
# (``IPKernelApp.init_gui_pylab``, ``ZMQInteractiveShell.init_environment``). A module that
# reads them when it is imported (matplotlib takes its backend from ``MPLBACKEND``) must
# see the same values in the zygote as in a kernel that imports it itself.
_KERNEL_ENVIRON = {
    "TERM": "xterm-color",
    "CLICOLOR": "1",
    "FORCE_COLOR": "1",
    "CLICOLOR_FORCE": "1",
    "PAGER": "cat",
    "GIT_PAGER": "cat",
}
_KERNEL_DEFAULT_ENVIRON = {"MPLBACKEND": "module://matplotlib_inline.backend_inline"}


@contextlib.contextmanager
def _like_a_kernel() -> Iterator[list[int]]:
    """While preloading: the kernel's environment variables, an empty working directory
    (nothing is found in the worker's folder, no ``matplotlibrc`` say, and the current
    directory is off ``sys.path``), and a count of IPython's ``get_ipython`` calls
    (yielded)."""
    import shutil
    import tempfile

    import IPython
    import IPython.core.getipython as getipython

    environ, path, cwd = dict(os.environ), list(sys.path), os.getcwd()
    original = getipython.get_ipython
    calls = [0]

    def get_ipython():  # type: ignore[no-untyped-def]
        calls[0] += 1
        return original()

    empty = tempfile.mkdtemp(prefix="clx-zygote-")
    try:
        os.environ.update(_KERNEL_ENVIRON)
        for key, value in _KERNEL_DEFAULT_ENVIRON.items():
            os.environ.setdefault(key, value)
        os.chdir(empty)
        sys.path[:] = [p for p in path if p not in ("", ".", cwd)]
        getipython.get_ipython = IPython.get_ipython = get_ipython
        yield calls
    finally:
        getipython.get_ipython = IPython.get_ipython = original
        sys.path[:] = path
        os.chdir(cwd)
        os.environ.clear()
        os.environ.update(environ)
        shutil.rmtree(empty, ignore_errors=True)


# Packages known to ask for the IPython shell when imported: skipped without trying, which
# spares the zygote the restart the check below would cost (matplotlib-inline comes with
# every course that plots).
_NEEDS_THE_SHELL = ("matplotlib_inline", "ipywidgets", "ipympl")


def _preload_modules(names: list[str]) -> dict[str, list]:
    """Import the third-party modules a course's notebooks imported last time, so every
    kernel forked afterwards finds them in memory (import only: no notebook code runs).

    A module that cannot be imported (gone since, or raising anything) is reported under
    ``failed`` and the zygote goes on. A module whose import started a Python thread (it
    would be missing in every forked child, perhaps holding a lock) or asked for the
    IPython shell (there is none yet; it would set itself up for a plain interpreter
    and never again, as matplotlib-inline and ipywidgets do) makes this zygote unfit to
    fork: it is reported under ``unsafe``, the rest is not imported, and the caller
    starts a new zygote without it. Threads a C library starts (OpenBLAS under numpy)
    are not counted: such libraries stop them around ``fork`` themselves.
    """
    import importlib

    preloaded: list[str] = []
    failed: list[list[str]] = []
    unsafe: list[str] = []
    with _like_a_kernel() as shell_lookups:
        for name in names:
            if name in sys.modules:
                preloaded.append(name)
                continue
            if name.partition(".")[0] in _NEEDS_THE_SHELL:
                failed.append([name, "needs the IPython shell when imported"])
                continue
            threads = set(threading.enumerate())
            lookups = shell_lookups[0]
            try:
                importlib.import_module(name)
            except BaseException as exc:  # noqa: BLE001 - a stale list must not stop us
                failed.append([name, f"{type(exc).__name__}: {exc}"])
                continue
            if shell_lookups[0] != lookups or set(threading.enumerate()) - threads:
                unsafe.append(name)
                break
            preloaded.append(name)
    return {
        "preloaded": preloaded,
        "failed": failed,
        "unsafe": unsafe,
        "modules": _modules_in_memory(),
    }


def _modules_in_memory() -> list[str]:
    """Every module and direct submodule this process holds (what a kernel forked now
    starts with)."""
    return sorted(name for name in sys.modules if name.count(".") <= 1)


def _reseed_preloaded() -> None:
    """Fresh entropy for the global random state a preloaded module seeded when the
    zygote imported it (numpy's legacy ``np.random``), as ``random.seed()`` does for
    Python's: otherwise every kernel would draw the same "random" numbers."""
    numpy_random = sys.modules.get("numpy.random")
    if numpy_random is not None:
        with contextlib.suppress(Exception):  # a numpy without it: nothing to reseed
            numpy_random.seed()


def _child(request: dict) -> None:
    """Runs in the forked child; never returns."""
    code = 1
    try:
        os.setsid()
        # Inherited from the zygote: restore defaults the kernel and its cells expect.
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        _die_with_parent(signal.SIGKILL)
        devnull = os.open(os.devnull, os.O_RDWR)
        err = os.open(request["stderr"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.dup2(devnull, 0)
        os.dup2(devnull, 1)
        os.dup2(err, 2)
        os.close(devnull)
        os.close(err)
        sys.stdin = open(0, closefd=False)  # noqa: SIM115
        sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115
        sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        sys.path.insert(0, request["cwd"])  # as ``python -m ipykernel_launcher`` has it
        import random

        random.seed()  # the zygote's state would otherwise repeat in every kernel
        _reseed_preloaded()
        from ipykernel.kernelapp import launch_new_instance

        sys.argv = ["ipykernel_launcher", *request["args"]]
        launch_new_instance(argv=request["args"])
        code = 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 1
    except BaseException:  # noqa: BLE001 - the stderr log explains it
        import traceback

        traceback.print_exc()
    finally:
        os._exit(code)


def main() -> None:
    # No parent-death signal for the server itself: Linux sends it when the *thread*
    # that started us ends, and the worker may start us from a short-lived thread. When
    # the worker dies our stdin ends, the loop below ends, and the kernels, which have
    # the signal (set by this process's only thread), die with us.
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the worker decides when we stop
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped automatically
    out = sys.stdout
    try:
        _preload()
    except ImportError as e:  # an interpreter without ipykernel: say so, do not hang
        print(json.dumps({"error": f"{type(e).__name__}: {e}"}), file=out, flush=True)
        sys.exit(1)
    folders = [p for p in sys.path if p and os.path.isdir(p)]  # watched for changes
    print(json.dumps({"ready": True, "modules": _modules_in_memory(), "path": folders}),
          file=out, flush=True)
    for line in sys.stdin:
        try:
            request = json.loads(line)
        except ValueError as e:
            print(json.dumps({"error": f"bad request: {e}"}), file=out, flush=True)
            continue
        if "preload" in request:
            answer = _preload_modules([str(n) for n in request["preload"]])
            print(json.dumps(answer), file=out, flush=True)
            if answer["unsafe"]:
                return  # unfit to fork; the worker starts a new zygote
            continue
        pid = os.fork()
        if pid == 0:
            _child(request)
        print(json.dumps({"pid": pid}), file=out, flush=True)


if __name__ == "__main__":
    main()
