"""Real, separate Python environments for courses, made cheaply and without the network.

``make_course_venv`` runs ``python -m venv`` (a real interpreter with its own
site-packages folder) and, with ``with_clx_packages``, adds a ``.pth`` line naming the
site-packages of the environment running the tests: ipykernel and pip come from there
without downloading anything. A plain ``.pth`` line only adds that folder to
``sys.path``; the ``.pth`` files inside it (clx's editable install) are not processed, so
clx itself is not importable in the course environment.

``install_local_package`` installs a one-module package into such an environment with
the real pip (``--no-index``): a wheel made here, since a source tree would need a build
backend that not every environment has.
"""

from __future__ import annotations

import base64
import hashlib
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path


def make_course_venv(folder: Path, *, with_clx_packages: bool = True) -> Path:
    """A venv at ``folder``; returns its ``bin/python`` (not resolved)."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True)
    python = folder / "bin" / "python"
    if with_clx_packages:
        own = sysconfig.get_paths()["purelib"]
        found = subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        Path(found).mkdir(parents=True, exist_ok=True)
        (Path(found) / "clx_test_packages.pth").write_text(own + "\n", encoding="utf-8")
    return python


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def build_wheel(folder: Path, dist: str, module: str, code: str, version: str = "1.0") -> Path:
    """A pure-Python wheel with one module ``module``.py holding ``code``."""
    stem = dist.replace("-", "_")  # a wheel's file name keeps '-' for its separators
    info = f"{stem}-{version}.dist-info"
    files = {
        f"{module}.py": code.encode(),
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n".encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: clx-tests\nRoot-Is-Purelib: true\n"
        b"Tag: py3-none-any\n",
    }
    record = [_record_line(n, d) for n, d in files.items()] + [f"{info}/RECORD,,"]
    files[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    folder.mkdir(parents=True, exist_ok=True)
    wheel = folder / f"{stem}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    return wheel


def install_local_package(python: Path, wheel: Path) -> None:
    """``<python> -m pip install`` the wheel, offline, into ``python``'s environment."""
    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--no-index",
            "--no-deps",
            "--quiet",
            "--disable-pip-version-check",
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
