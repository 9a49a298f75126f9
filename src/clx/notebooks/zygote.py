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
the answer ``{"pid": N}`` or ``{"error": "..."}``.
"""

from __future__ import annotations

import json
import os
import signal
import sys

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
    _die_with_parent(signal.SIGTERM)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the worker decides when we stop
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped automatically
    out = sys.stdout
    try:
        _preload()
    except ImportError as e:  # an interpreter without ipykernel: say so, do not hang
        print(json.dumps({"error": f"{type(e).__name__}: {e}"}), file=out, flush=True)
        sys.exit(1)
    print(json.dumps({"ready": True}), file=out, flush=True)
    for line in sys.stdin:
        try:
            request = json.loads(line)
        except ValueError as e:
            print(json.dumps({"error": f"bad request: {e}"}), file=out, flush=True)
            continue
        pid = os.fork()
        if pid == 0:
            _child(request)
        print(json.dumps({"pid": pid}), file=out, flush=True)


if __name__ == "__main__":
    main()
