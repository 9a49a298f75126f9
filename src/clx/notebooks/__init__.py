"""clx.notebooks: the notebook engine, a pure library.

Given a notebook source and its context it produces the bytes of every requested
variant of one output language (course-format.md sections 7-10 and 14). It knows
nothing about queues, workers or output folders; the only state it keeps is the warm
kernels of an ``Executor``.
"""

from clx.notebooks.engine import render_language
from clx.notebooks.execution import CellFailed, Executor, KernelFailed
from clx.notebooks.kernels import KernelMissing, KernelPool
from clx.notebooks.model import LanguageResult, NotebookSettings, NotebookSource

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
