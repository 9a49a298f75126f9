"""clx.notebooks: the notebook engine, a pure library.

Given a notebook source and its context it produces the bytes of every requested
variant of one output language (docs/course-reference.md, from #notebook-sources to
#output-formats). It knows nothing about queues, workers or output folders; the only
state it keeps is the warm kernels of an ``Executor``.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from clx.notebooks.engine import render_language
    from clx.notebooks.execution import CellFailed, Executor, KernelFailed
    from clx.notebooks.kernels import KernelMissing, KernelPool
    from clx.notebooks.model import LanguageResult, NotebookSettings, NotebookSource

# Imported on first use: jupytext, nbconvert and nbclient cost ~0.4 s to import, and
# the build process only needs the light modules (e.g. to plan jobs).
_WHERE = {
    "render_language": "engine",
    "CellFailed": "execution",
    "Executor": "execution",
    "KernelFailed": "execution",
    "KernelMissing": "kernels",
    "KernelPool": "kernels",
    "LanguageResult": "model",
    "NotebookSettings": "model",
    "NotebookSource": "model",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(import_module(f"clx.notebooks.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'clx.notebooks' has no attribute {name!r}")


__all__ = [
    "CellFailed",
    "Executor",
    "KernelFailed",
    "KernelMissing",
    "KernelPool",
    "LanguageResult",
    "NotebookSettings",
    "NotebookSource",
    "render_language",
]
