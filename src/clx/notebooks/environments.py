"""Which interpreter a course's Python notebooks run in, and what each kernel environment is.

A course keeps the packages its notebooks import (numpy, pandas, ...) in an environment
of its own, not in clx's: ``course_python`` is the one place that decides which
interpreter that is (``[kernels] python`` in clx.toml, else ``<course root>/.venv``,
else clx's own). The interpreter needs only ``ipykernel``; kernels and their fork server
run in it without clx (``clx.notebooks.zygote``), and clx's own ``PYTHONPATH`` is not
handed to them, so a notebook sees exactly what that environment has installed.

What runs a notebook is part of its cache key (``kernel_identity``): for Python the
interpreter, its version, and the names and versions of the installed distributions the
notebook uses (those providing what its code and its topic's modules import, ipykernel,
and everything they require), plus the imports nothing provides; so installing or
upgrading a package re-runs exactly the notebooks that use it, and installing the
package a notebook failed to import re-runs that notebook. (A digest of the whole
environment would run every Python notebook again after any install.) For Java and
Deno: the versions of the kernel and of what it runs on. Finding these out
means running the interpreter or the tool once; ``StampedMemo`` remembers the answer
in the course's state folder together with a cheap stamp (modification times of the
interpreter and of its ``sys.path`` folders: an install or uninstall changes the
site-packages folder), so a build of an unchanged environment costs a few ``stat`` calls.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from clx.stamped_memo import StampedMemo

# The build tells its local workers the course's interpreter (their warm spare kernel).
COURSE_PYTHON_VARIABLE = "CLX_COURSE_PYTHON"

# Variables of clx's own process that must not reach another interpreter's kernels.
_NOT_INHERITED = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP")


def default_python(course_root: Path) -> str:
    """``<course root>/.venv/bin/python`` if there is one, else clx's own interpreter.

    Not resolved: a venv's ``python`` is a symbolic link, and only the link's own path
    makes the interpreter use the venv's packages."""
    venv = Path(course_root) / ".venv" / "bin" / "python"
    return str(venv.absolute()) if venv.exists() else sys.executable


def course_python(course_root: Path, configured: Path | str | None = None) -> str:
    """The interpreter a course's Python notebooks run in: ``configured`` (clx.toml
    ``[kernels] python``, already absolute), else ``default_python``."""
    return str(configured) if configured else default_python(course_root)


def is_own(interpreter: str | None) -> bool:
    """Whether ``interpreter`` is clx's own (or not given)."""
    return not interpreter or os.path.abspath(interpreter) == os.path.abspath(sys.executable)


def kernel_env(interpreter: str | None, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment variables for kernels of ``interpreter``: ours, without what would
    point another interpreter at clx's own modules."""
    env = dict(os.environ if base is None else base)
    if not is_own(interpreter):
        for name in _NOT_INHERITED:
            env.pop(name, None)
    return env


def install_ipykernel_hint(interpreter: str) -> str:
    return f"{interpreter} -m pip install ipykernel"


# Run by the interpreter under test; valid from Python 3.8 on (a course may use an older
# Python than clx). Distribution names are normalised as pip compares them. For each
# distribution: its version, the top-level modules it provides (its top_level.txt, else
# the files it installed) and the distributions it requires (extras left out).
_PROBE = r"""
import json, os, re, sys
import importlib.metadata as m

def norm(name):
    return re.sub(r"[-_.]+", "-", name).lower()

packages, provides, requires = {}, {}, {}
for d in m.distributions():
    name = d.metadata["Name"]
    if not name:
        continue
    name = norm(name)
    if name in packages:
        continue  # shadowed by the one earlier on sys.path, which imports find first
    packages[name] = d.version
    tops = (d.read_text("top_level.txt") or "").split()
    if not tops:
        for f in d.files or ():
            first = f.parts[0] if f.parts else ""
            if len(f.parts) > 1 and not first.endswith((".dist-info", ".egg-info", ".data")):
                tops.append(first)
            elif len(f.parts) == 1 and first.endswith(".py"):
                tops.append(first[:-3])
    for top in set(tops):
        if top.isidentifier():
            provides.setdefault(top, []).append(name)
    needs = []
    for req in d.requires or ():
        if "extra" in req.partition(";")[2]:
            continue
        found = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", req)
        if found:
            needs.append(norm(found.group(0)))
    requires[name] = sorted(set(needs))
stdlib = set(getattr(sys, "stdlib_module_names", ())) | set(sys.builtin_module_names)
if not getattr(sys, "stdlib_module_names", None):
    import sysconfig
    folder = sysconfig.get_paths()["stdlib"]
    for entry in os.listdir(folder):
        stem = entry[:-3] if entry.endswith(".py") else entry
        if stem.isidentifier() and entry != "site-packages":
            stdlib.add(stem)
import site
watched = [p for p in sys.path if p]
# The user's site folder is on sys.path only once it exists: the first
# `pip install --user` creates it, and that must change the stamp too.
user_site = site.getusersitepackages() if site.ENABLE_USER_SITE else None
if isinstance(user_site, str) and user_site not in watched:
    watched.append(user_site)
print(json.dumps({
    "version": sys.version.split()[0],
    "path": watched,
    "packages": packages,
    "provides": {k: sorted(v) for k, v in provides.items()},
    "requires": requires,
    "stdlib": sorted(stdlib),
}))
"""


@dataclass(frozen=True)
class PythonEnvironment:
    """What a Python interpreter brings to a notebook."""

    interpreter: str
    version: str  # "3.11.7"
    packages: dict[str, str]  # installed distribution -> version
    provides: dict[str, list[str]]  # top-level module -> the distributions providing it
    requires: dict[str, list[str]]  # distribution -> the distributions it requires
    stdlib: list[str]  # the standard library's top-level modules

    @property
    def digest(self) -> str:
        """Of every installed distribution's name and version."""
        return hashlib.sha256(json.dumps(sorted(self.packages.items())).encode()).hexdigest()

    @property
    def has_ipykernel(self) -> bool:
        return "ipykernel" in self.packages

    def describe(self) -> str:
        """How messages name this environment."""
        return (
            f"python environment {self.interpreter} (Python {self.version},"
            f" {len(self.packages)} distributions, digest {self.digest[:12]})"
        )

    def identity(self, imported: set[str]) -> dict[str, Any]:
        """What a notebook importing the top-level modules ``imported`` depends on here:
        the interpreter, its version, and name and version of every distribution it
        uses (those providing its imports, ipykernel, and what they require, all the way
        down); imports no distribution provides are listed as ``unresolved``, so that
        installing one later changes the identity too. Installing or upgrading a
        package thus re-runs exactly the notebooks that use it."""
        roots = {"ipykernel"}
        unresolved = []
        stdlib = set(self.stdlib)
        for module in sorted(imported):
            if module in stdlib:
                continue
            if module in self.provides:
                roots.update(self.provides[module])
            else:
                unresolved.append(module)
        used: set[str] = set()
        todo = sorted(roots)
        while todo:
            name = todo.pop()
            if name in used or name not in self.packages:
                continue
            used.add(name)
            todo.extend(self.requires.get(name, ()))
        return {
            "python": self.interpreter,
            "version": self.version,
            "uses": {name: self.packages[name] for name in sorted(used)},
            "unresolved": unresolved,
        }


class InterpreterUnusable(Exception):
    """An interpreter that cannot be asked what it is (missing, not executable, broken)."""


def probe_python(interpreter: str) -> tuple[PythonEnvironment, list[str]]:
    """Run ``interpreter`` once: its environment, and the ``sys.path`` entries the stamp
    watches. Raises ``InterpreterUnusable`` when it cannot run."""
    try:
        r = subprocess.run(
            [interpreter, "-c", _PROBE],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env=kernel_env(interpreter),
            cwd="/",
        )
    except (OSError, subprocess.SubprocessError) as e:
        raise InterpreterUnusable(f"{interpreter} cannot be run: {e}") from e
    try:
        found = json.loads(r.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        tail = (r.stderr or r.stdout).strip().splitlines()[-1:] or ["no output"]
        raise InterpreterUnusable(f"{interpreter} does not run as Python: {tail[0]}") from None
    env = PythonEnvironment(
        interpreter=interpreter,
        version=str(found["version"]),
        packages=dict(found["packages"]),
        provides={k: list(v) for k, v in found["provides"].items()},
        requires={k: list(v) for k, v in found["requires"].items()},
        stdlib=list(found["stdlib"]),
    )
    return env, [str(p) for p in found["path"]]


# ``import a.b as c, d`` and ``from a.b import c`` (not relative imports), anywhere in a line.
_IMPORT = re.compile(
    r"^\s*(?:from\s+([A-Za-z_][\w.]*)\s+import\b|import\s+([\w.,\s]+?)\s*(?:#|;|$))"
)


def imported_modules(code: str) -> set[str]:
    """The top-level modules ``code`` imports with an import statement (what a reader
    sees; imports by ``importlib`` are not found)."""
    found: set[str] = set()
    for line in code.splitlines():
        m = _IMPORT.match(line)
        if m is None:
            continue
        names = [m.group(1)] if m.group(1) else m.group(2).split(",")
        for name in names:
            top = name.strip().split(" ")[0].split(".")[0]
            if top.isidentifier():
                found.add(top)
    return found


def has_ipykernel(interpreter: str) -> bool:
    """Whether ``interpreter`` can import ipykernel (one short run, no memo)."""
    code = "import importlib.util, sys; sys.exit(importlib.util.find_spec('ipykernel') is None)"
    try:
        r = subprocess.run(
            [interpreter, "-c", code],
            capture_output=True,
            timeout=60,
            check=False,
            env=kernel_env(interpreter),
            cwd="/",
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return r.returncode == 0


_MEMO_FORMAT = 1


def python_environment(interpreter: str, memo: StampedMemo | None = None) -> PythonEnvironment:
    """The environment of ``interpreter``, from ``memo`` while its stamp holds."""
    memo = memo or StampedMemo(None)
    env = kernel_env(interpreter)
    key = json.dumps(["python", interpreter, env.get("PYTHONPATH", "")])

    def compute() -> tuple[Any, list[str]]:
        found, path = probe_python(interpreter)
        return {"format": _MEMO_FORMAT, **asdict(found)}, [interpreter, *path]

    value = dict(memo.get(key, compute))
    if value.pop("format", None) != _MEMO_FORMAT:  # remembered by another clx version
        memo.forget(key)
        value = dict(memo.get(key, compute))
        value.pop("format", None)
    return PythonEnvironment(**value)


def kernel_identity(
    name: str,
    *,
    interpreter: str | None = None,
    memo: StampedMemo | None = None,
    imported: set[str] | frozenset[str] = frozenset(),
) -> str | dict[str, Any]:
    """A readable identity of what runs kernel ``name``, an ingredient of the cache keys:
    for ipykernel kernels ``PythonEnvironment.identity`` of ``interpreter`` (default clx's
    own) for a notebook importing ``imported``, else the kernel's version and what it
    runs on ("java kernel jjava 1.0a8 on openjdk 17.0.15", "deno kernel deno 2.9.6").
    "" when there is no such kernelspec."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    from clx.notebooks.kernels import speaks_ipc
    from clx.notebooks.kernelspecs import kernel_version

    memo = memo or StampedMemo(None)
    try:
        spec = KernelSpecManager().get_kernel_spec(name)
    except NoSuchKernel:
        return ""
    argv = tuple(str(a) for a in spec.argv)
    if speaks_ipc(list(argv)):
        return python_environment(interpreter or sys.executable, memo).identity(set(imported))
    folder = Path(spec.resource_dir)
    watched = [str(p) for p in sorted(folder.iterdir())] if folder.is_dir() else []
    programs = list(argv[:1])
    if (folder / "jjava.jar").is_file() or any(a.endswith("jjava.jar") for a in argv):
        programs.append("java")  # the JDK it runs on
    for program in programs:
        found = shutil.which(program)
        if found:
            watched += [found, str(Path(found).resolve())]

    def compute() -> tuple[Any, list[str]]:
        return f"{name} kernel {kernel_version(argv, folder)}", watched

    return str(memo.get(json.dumps(["kernel", name, argv, watched]), compute))


def describe_change(old: Any, new: Any) -> list[str]:
    """What changed between two kernel identities, for `clx cache explain`."""
    if not (isinstance(old, dict) and isinstance(new, dict) and "uses" in old and "uses" in new):
        return [f"kernel environment changed: now {new or 'none'}; before {old or 'none'}"]
    where = f"python environment {new['python']} (Python {new['version']})"
    if (old["python"], old["version"]) != (new["python"], new["version"]):
        return [f"{where} instead of {old['python']} (Python {old['version']})"]
    a, b = old["uses"], new["uses"]
    changes = [f"'{n}' {b[n]} installed" for n in sorted(set(b) - set(a))]
    changes += [f"'{n}' {a[n]} removed" for n in sorted(set(a) - set(b))]
    changes += [f"'{n}' {a[n]} -> {b[n]}" for n in sorted(set(a) & set(b)) if a[n] != b[n]]
    gone, new_missing = set(old["unresolved"]), set(new["unresolved"])
    changes += [f"import '{m}' now provided" for m in sorted(gone - new_missing)]
    changes += [f"import '{m}' no longer provided" for m in sorted(new_missing - gone)]
    return [f"{where}: {', '.join(changes) or 'changed'}"]
