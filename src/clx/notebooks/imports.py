"""Which third-party modules a notebook imported, asked of its kernel before it goes.

The kernel fork server can preload the modules a course's notebooks import (see
``clx.notebooks.zygote``), and the build records them per course (see
``clx.pipeline.preload``). The answer comes from the kernel itself, after the notebook
ran: one silent request (no output, the execution count stays) reads ``sys.modules``.

Kept: top-level modules and their direct submodules (``matplotlib.pyplot``; at most one
dot, no private ``_`` parts) that live in an interpreter's ``site-packages`` or
``dist-packages``, never the standard library, never a module from the notebook's own
folder, never what every forked kernel holds anyway (ipykernel, IPython and theirs).
"""

from __future__ import annotations

import ast
import json
import logging
import time
from collections.abc import Collection, Mapping
from pathlib import Path, PurePath
from queue import Empty
from typing import Any

log = logging.getLogger(__name__)

# Defined in the kernel after the notebook ran (the kernel is discarded next, so the one
# name it adds harms nobody) and called as a user expression: the modules in memory
# (name -> file, at most one dot, no standard library) and the top-level packages the
# notebook's namespace holds something of (one level into dicts, lists and tuples, so
# IPython's ``Out`` counts: ``df.plot()`` leaves a matplotlib object there).
_PROBE = """
def __clx_imports__():
    import json, sys, types
    found = {}
    stdlib = getattr(sys, "stdlib_module_names", None) or set(sys.builtin_module_names)
    for name, module in list(sys.modules.items()):
        if name.count(".") > 1 or name.partition(".")[0] in stdlib:
            continue
        try:
            where = getattr(module, "__file__", None) or next(
                iter(getattr(module, "__path__", None) or ()), None)
        except Exception:
            where = None
        found[name] = where if isinstance(where, str) else None
    used = set()
    def note(value):
        try:
            if isinstance(value, types.ModuleType):
                name = value.__name__
            elif isinstance(value, (type, types.FunctionType, types.BuiltinFunctionType)):
                name = value.__module__
            else:
                name = type(value).__module__
            if isinstance(name, str):
                used.add(name.partition(".")[0])
        except Exception:
            pass
    for value in list(globals().values()):
        note(value)
        if type(value) in (dict, list, tuple):
            for inner in list(value.values() if type(value) is dict else value)[:1000]:
                note(inner)
    return json.dumps({"modules": found, "used": sorted(used)})
"""
_THIRD_PARTY_DIRS = ("site-packages", "dist-packages")
MAX_MODULES = 300  # per notebook; a course's list is bounded again by clx.pipeline.preload


def third_party(
    found: Mapping[str, Any],
    *,
    private: Path,
    baseline: Collection[str] = (),
    present: Collection[str] = (),
    used: Collection[str] = (),
) -> list[str]:
    """The sorted names of ``found`` (name -> file, as the probe answers) worth
    preloading; ``private`` is the kernel's own folder (the notebook and its files).

    ``present``: what the kernel held when it started (the preloaded modules). Of those
    only the packages the notebook visibly used (``used``: top-level names) count, so a
    module that is preloaded only because an older list named it drops out again.
    """
    keep = []
    for name, file in found.items():
        parts = name.split(".")
        if len(parts) > 2 or any(not p or p.startswith("_") for p in parts):
            continue
        if parts[0] in baseline or (name in present and parts[0] not in used):
            continue
        files = [file, found.get(parts[0])]
        if all(_installed(f, private) for f in files):
            keep.append(name)
    # Top-level names first: a cut never drops a package for one of its submodules.
    return sorted(sorted(keep, key=lambda n: (n.count("."), n))[:MAX_MODULES])


def _installed(file: Any, private: Path) -> bool:
    if not isinstance(file, str) or not file:
        return False
    path = PurePath(file)
    if not any(d in path.parts for d in _THIRD_PARTY_DIRS):
        return False
    try:
        Path(file).resolve().relative_to(private.resolve())
    except ValueError:
        return True
    return False


async def imported_modules(
    kc: Any,
    *,
    private: Path,
    baseline: Collection[str],
    present: Collection[str],
    timeout: float = 10.0,
) -> list[str]:
    """Ask a kernel that has run its notebook which modules it imported (see above).

    Never raises: a kernel that does not answer, or answers something else, gives an
    empty list (logged at debug), and the next build simply preloads less.
    """
    try:
        msg_id = kc.execute(
            _PROBE,
            silent=True,
            store_history=False,
            user_expressions={"modules": "__clx_imports__()"},
        )
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no answer")
            msg = await kc.get_shell_msg(timeout=left)
            if msg["parent_header"].get("msg_id") == msg_id:
                break
        value = msg["content"]["user_expressions"]["modules"]
        if value.get("status") != "ok":
            raise ValueError(value.get("evalue") or value.get("status"))
        answer = json.loads(ast.literal_eval(value["data"]["text/plain"]))
        found, used = dict(answer["modules"]), list(answer["used"])
    except (Empty, TimeoutError, KeyError, ValueError, TypeError, SyntaxError) as exc:
        log.debug("could not ask the kernel which modules it imported: %s", exc)
        return []
    return third_party(found, private=private, baseline=baseline, present=present, used=used)


# Files in the working directory a package reads when it is imported: preloaded in the
# zygote's empty folder, it would not see the notebook's, so the kernel forgets it.
READ_AT_IMPORT = {"matplotlibrc": "matplotlib"}


def shadowed(
    files: Collection[str], notebook_dir: str, preloaded: Collection[str], baseline: Collection[str]
) -> list[str]:
    """Preloaded top-level packages that a module beside the notebook shadows, or that
    read a file beside it when imported (``READ_AT_IMPORT``: a ``matplotlibrc``).

    Without the preload ``import utils`` finds ``utils.py`` in the notebook's folder
    first (it is the kernel's working directory, first on ``sys.path``); with a
    preloaded third-party ``utils`` it would get that one instead. ``files`` are the
    topic's files relative to its root, ``notebook_dir`` the notebook's folder in it.
    """
    prefix = f"{notebook_dir.strip('/')}/" if notebook_dir.strip("/") else ""
    local = set()
    for rel in files:
        if not rel.startswith(prefix):
            continue
        parts = rel[len(prefix) :].split("/")
        if len(parts) == 1 and parts[0] in READ_AT_IMPORT:
            local.add(READ_AT_IMPORT[parts[0]])
        if len(parts) == 1 and parts[0].endswith((".py", ".so", ".pyc")):
            local.add(parts[0].split(".", 1)[0])
        elif len(parts) == 2 and parts[1] == "__init__.py":
            local.add(parts[0])
    tops = {n.partition(".")[0] for n in preloaded} - set(baseline)
    return sorted(local & tops)


async def forget_modules(kc: Any, names: Collection[str], timeout: float = 10.0) -> None:
    """Drop ``names`` and their submodules from the kernel's ``sys.modules`` (one silent
    request, before the notebook runs), so its imports find the notebook's own files."""
    code = (
        "import sys as _clx_sys\n"
        f"_clx_drop = {sorted(names)!r}\n"
        "for _clx_name in [n for n in _clx_sys.modules if n.partition('.')[0] in _clx_drop]:\n"
        "    del _clx_sys.modules[_clx_name]\n"
        "globals().pop('_clx_name', None)\n"
        "del _clx_sys, _clx_drop\n"
    )
    msg_id = kc.execute(code, silent=True, store_history=False)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            msg = await kc.get_shell_msg(timeout=max(deadline - time.monotonic(), 0.01))
        except Empty:
            break
        if msg["parent_header"].get("msg_id") == msg_id:
            return
    log.debug("the kernel did not confirm forgetting %s", sorted(names))
